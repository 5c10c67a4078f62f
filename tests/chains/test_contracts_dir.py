"""chains.contracts_dir: the Vyper sources are found in a checkout, editable and wheel install.

Under tox the project is installed from a wheel, so ``contracts_dir()`` is the installed
``testbed_contracts`` copy and the comparison with the checkout's ``contracts/`` checks that
the wheel carries every source (``pyproject.toml`` lists each sub-folder); in a checkout or
an editable install both are the same folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import chains
from chains import Chain, contracts_dir
from chains._contracts_dir import INSTALLED_CONTRACTS_PACKAGE, _locate

REPO_CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


def _sources(folder: Path) -> dict[str, bytes]:
    """Every Vyper source (``.vy`` and ``.vyi``) under ``folder``, by relative path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for pattern in ("*.vy", "*.vyi")
        for p in sorted(folder.rglob(pattern))
    }


def test_located_dir_holds_every_source_of_the_repository() -> None:
    located = contracts_dir()
    repo = _sources(REPO_CONTRACTS)
    assert {"Token.vy", "bridge/Messenger.vy", "interfaces/IPool.vyi"} <= set(repo)
    found = _sources(located)
    assert sorted(found) == sorted(repo), f"{located} differs from {REPO_CONTRACTS}"
    changed = [name for name in repo if found[name] != repo[name]]
    assert changed == [], f"stale copies in {located}: {changed}"


def test_located_dir_belongs_to_the_running_chains_package() -> None:
    # Found beside this very ``chains`` package, never through another installed copy.
    located = contracts_dir()
    assert located.parent == Path(chains.__file__).resolve().parent.parent
    assert located.name in {INSTALLED_CONTRACTS_PACKAGE, "contracts"}


def test_relative_and_snekmate_imports_compile_from_the_located_dir(chain: Chain) -> None:
    # ConstantProductPool imports snekmate modules and its own interfaces/ and lib/.
    compiled = chain.compile(contracts_dir() / "ConstantProductPool.vy")
    assert compiled.runtime_bytecode
    assert {item.get("name") for item in compiled.abi} >= {"swap", "mint", "burn"}


def _write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# @version ^0.4.0\n")


def test_installed_copy_is_preferred_over_a_checkout_folder(tmp_path: Path) -> None:
    _write(tmp_path / "contracts" / "Token.vy")
    assert _locate(tmp_path) == tmp_path / "contracts"
    _write(tmp_path / INSTALLED_CONTRACTS_PACKAGE / "Token.vy")
    assert _locate(tmp_path) == tmp_path / INSTALLED_CONTRACTS_PACKAGE


def test_an_unrelated_contracts_folder_is_not_taken(tmp_path: Path) -> None:
    # e.g. another distribution's site-packages/contracts: no Token.vy, not ours.
    _write(tmp_path / "contracts" / "Other.vy")
    with pytest.raises(FileNotFoundError) as info:
        _locate(tmp_path)
    message = str(info.value)
    assert "Token.vy" in message
    assert str(tmp_path / INSTALLED_CONTRACTS_PACKAGE) in message
    assert str(tmp_path / "contracts") in message
