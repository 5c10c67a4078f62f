"""``dask worker --preload`` module: makes the worker look like a machine where
composability-testbed is not installed — its packages cannot be imported and its
distribution metadata is not found — while dask itself works. The test of the executor's
"workers lack the package" error starts a real worker with it."""

from __future__ import annotations

import importlib.abc
import importlib.metadata
import sys
from collections.abc import Sequence
from types import ModuleType

HIDDEN = ("chains", "bridge", "scenarios", "testbed_contracts")
DIST_NAME = "composability-testbed"


class _HideTestbed(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


_real_version = importlib.metadata.version


def _version(name: str) -> str:
    if name == DIST_NAME:
        raise importlib.metadata.PackageNotFoundError(name)
    return _real_version(name)


sys.meta_path.insert(0, _HideTestbed())
for _name in [m for m in sys.modules if m.split(".")[0] in HIDDEN]:
    del sys.modules[_name]
importlib.metadata.version = _version
