"""Locate the project's Vyper sources (``contracts/``) in any kind of install.

The sources live in ``contracts/`` at the repository's top level, beside the Python
packages. A source checkout or an editable install (``pip install -e .``) reads them there.
A wheel (``pip install .``) cannot ship a top-level folder that is not a package, so
``pyproject.toml`` maps ``contracts/`` to the data-only package ``testbed_contracts``
(``[tool.setuptools.package-dir]``): the wheel installs the very same files, with the same
relative layout, as ``site-packages/testbed_contracts/``. Vyper's relative imports
(``from .interfaces import IPool``) therefore resolve unchanged, and snekmate keeps
resolving through ``sys.path``.

Both places are looked up relative to this package's own files, never through the import
system, so the Vyper sources found always belong to the ``chains`` being run: a checkout on
``PYTHONPATH`` in a venv that has another copy of the project installed still reads its own
``contracts/``.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["INSTALLED_CONTRACTS_PACKAGE", "contracts_dir"]

#: Name the wheel installs ``contracts/`` under (``site-packages/testbed_contracts``).
INSTALLED_CONTRACTS_PACKAGE = "testbed_contracts"

# A file every copy of the sources has: tells our folder from an unrelated ``contracts/``.
_MARKER = "Token.vy"


def contracts_dir() -> Path:
    """The folder holding the project's Vyper sources (``Token.vy``, ``bridge/``, ...).

    The wheel's installed copy (``testbed_contracts`` beside the ``chains`` package) is
    preferred; otherwise ``contracts/`` beside the packages (source checkout, editable
    install). Raises :class:`FileNotFoundError` naming both places when neither holds them.
    """
    return _locate(Path(__file__).resolve().parent.parent)


def _locate(root: Path) -> Path:
    """The Vyper sources under ``root``, the folder holding the ``chains`` package."""
    candidates = (root / INSTALLED_CONTRACTS_PACKAGE, root / "contracts")
    for candidate in candidates:
        if (candidate / _MARKER).is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"the Vyper sources of composability-testbed were not found (looked for {_MARKER} "
        f"in {tried}); reinstall the project (pip install .) or run it from its checkout"
    )
