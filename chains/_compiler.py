"""Vyper compilation with an on-disk cache.

A cache entry is keyed by the sha256 of (source text, compiler version, settings) and
records every file the compiler loaded (snekmate modules, interfaces) with its hash and the
import path it was loaded for; the entry is used only if all of them still hash the same and
each import path still resolves to the same file on today's search paths (so editing an
imported module, or putting another copy of it first on ``sys.path``, invalidates the
contracts that import it). The search paths themselves are not in the key: a process with a
different ``sys.path`` or working directory (a Dask worker, another virtual environment on
the same cache folder) reuses the entries whose imports resolve the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from chains._errors import CompileError

__all__ = ["CompiledContract", "Compiler", "default_cache_dir"]

logger = logging.getLogger(__name__)

_CACHE_FORMAT = 2


def default_cache_dir() -> Path:
    """``$TESTBED_CACHE_DIR`` or ``$XDG_CACHE_HOME/composability-testbed`` (``~/.cache``)."""
    explicit = os.environ.get("TESTBED_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "composability-testbed"


@dataclass(frozen=True)
class CompiledContract:
    """ABI and bytecode of one compiled contract."""

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    runtime_bytecode: bytes
    source_path: str | None = None

    @property
    def abi_list(self) -> list[dict[str, Any]]:
        """The ABI as a plain list (what web3.py and ethers expect)."""
        return list(self.abi)


def _resolves_to(imported_as: str, file: Path, search_paths: list[Path]) -> bool:
    """Whether the import path ``imported_as`` still loads ``file`` on ``search_paths``.

    The compiler tries the search paths last first (:meth:`InputBundle.load_file`); the
    first existing candidate must be ``file``. No candidate at all means a relative import
    (resolved against the importing file's own folder, which the compiler puts first), and
    that file's content was checked already.
    """
    for folder in reversed(search_paths):
        candidate = folder / imported_as
        if candidate.is_file():
            return candidate.resolve() == file
    return True


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Compiler:
    """Compile Vyper sources; results are cached in memory and on disk.

    ``search_paths`` are where ``import`` statements resolve: the project root (the
    current directory), the source's own folder and every ``sys.path`` entry, so
    ``from snekmate.tokens import erc20`` works once snekmate is installed.
    """

    def __init__(self, cache_dir: Path | None = None, *, use_disk_cache: bool = True) -> None:
        self.cache_dir = (cache_dir or default_cache_dir()) / "vyper"
        self.use_disk_cache = use_disk_cache
        self._memory: dict[str, CompiledContract] = {}
        self._lock = threading.Lock()
        # runtime length -> Keccak of the runtime code -> what compiled to it
        self._by_runtime: dict[int, dict[bytes, CompiledContract]] = {}

    def compile_file(self, path: str | os.PathLike[str]) -> CompiledContract:
        """Compile the Vyper file at ``path``."""
        file = Path(path)
        if not file.is_file():
            raise CompileError(f"no Vyper source at {str(file)!r}")
        return self.compile_source(
            file.read_text(), name=file.stem, path=file.resolve(), extra_paths=[file.parent]
        )

    def compile_source(
        self,
        source: str,
        *,
        name: str = "Contract",
        path: Path | None = None,
        extra_paths: list[Path] | None = None,
    ) -> CompiledContract:
        """Compile Vyper ``source`` text; ``name`` labels it in errors and ABIs."""
        import vyper

        search_paths = self._search_paths(extra_paths or [])
        settings = {"version": vyper.__version__, "format": _CACHE_FORMAT, "evm": "prague"}
        key = _sha(json.dumps({"source": source, "settings": settings}, sort_keys=True).encode())
        with self._lock:
            hit = self._memory.get(key)
            if hit is None:
                # The compiler puts the top module's folder last (first in precedence).
                top = (path if path is not None else Path(f"{name}.vy")).parent
                hit = self._load(key, name, path, [*search_paths, top])
            if hit is None:
                hit, deps = self._compile(source, name, path, search_paths)
                self._store(key, hit, deps)
            self._memory[key] = hit
            if hit.runtime_bytecode:
                by_hash = self._by_runtime.setdefault(len(hit.runtime_bytecode), {})
                by_hash[keccak(hit.runtime_bytecode)] = hit
        return hit

    def find_by_code(self, code: bytes) -> CompiledContract | None:
        """The contract compiled here whose runtime code ``code`` starts with, or ``None``.

        Deployed Vyper code is the runtime code followed by the immutables' values, so a
        prefix match finds contracts however they were deployed (a factory, CREATE2...).
        The longest match wins.
        """
        with self._lock:
            lengths = sorted(self._by_runtime, reverse=True)
            for length in lengths:
                if len(code) >= length:
                    hit = self._by_runtime[length].get(keccak(code[:length]))
                    if hit is not None:
                        return hit
        return None

    # -- internals ---------------------------------------------------------------------
    @staticmethod
    def _search_paths(extra: list[Path]) -> list[Path]:
        paths = [*extra, Path.cwd()]
        paths += [Path(p) for p in sys.path if p and Path(p).is_dir()]
        unique: list[Path] = []
        for p in paths:
            resolved = p.resolve()
            if resolved not in unique:
                unique.append(resolved)
        return unique

    def _compile(
        self, source: str, name: str, path: Path | None, search_paths: list[Path]
    ) -> tuple[CompiledContract, dict[str, list[str]]]:
        from vyper.compiler import compile_from_file_input
        from vyper.compiler.input_bundle import FileInput, FilesystemInputBundle
        from vyper.exceptions import VyperException

        loaded: dict[str, list[str]] = {}

        class _RecordingBundle(FilesystemInputBundle):
            def _load_from_path(self, resolved_path: Any, path: Any) -> Any:
                result = super()._load_from_path(resolved_path, path)
                try:
                    loaded[str(Path(resolved_path).resolve())] = [
                        _sha(Path(resolved_path).read_bytes()),
                        str(path),
                    ]
                except OSError:
                    pass
                return result

        bundle = _RecordingBundle(search_paths)
        source_path = path if path is not None else Path(f"{name}.vy")
        file_input = FileInput(
            contents=source,
            source_id=-1,
            path=source_path,
            resolved_path=source_path,
        )
        logger.debug("compiling %s", source_path)
        try:
            out = compile_from_file_input(
                file_input,
                input_bundle=bundle,
                output_formats=["abi", "bytecode", "bytecode_runtime"],
            )
        except VyperException as exc:
            raise CompileError(f"{source_path}: {exc}") from exc
        compiled = CompiledContract(
            name=name,
            abi=tuple(out["abi"]),
            bytecode=bytes.fromhex(out["bytecode"].removeprefix("0x")),
            runtime_bytecode=bytes.fromhex(out["bytecode_runtime"].removeprefix("0x")),
            source_path=str(path) if path is not None else None,
        )
        if path is not None:
            loaded.pop(str(path.resolve()), None)
        return compiled, loaded

    def _entry(self, key: str) -> Path:
        return self.cache_dir / f"{key}.json"

    def _load(
        self, key: str, name: str, path: Path | None, search_paths: list[Path]
    ) -> CompiledContract | None:
        if not self.use_disk_cache:
            return None
        entry = self._entry(key)
        try:
            data = json.loads(entry.read_text())
        except (OSError, ValueError):
            return None
        for dep, (digest, imported_as) in data.get("deps", {}).items():
            try:
                if _sha(Path(dep).read_bytes()) != digest:
                    return None
            except OSError:
                return None
            if not _resolves_to(imported_as, Path(dep), search_paths):
                return None
        return CompiledContract(
            name=name,
            abi=tuple(data["abi"]),
            bytecode=bytes.fromhex(data["bytecode"]),
            runtime_bytecode=bytes.fromhex(data["runtime"]),
            source_path=str(path) if path is not None else None,
        )

    def _store(self, key: str, compiled: CompiledContract, deps: dict[str, list[str]]) -> None:
        if not self.use_disk_cache:
            return
        payload = {
            "abi": list(compiled.abi),
            "bytecode": compiled.bytecode.hex(),
            "runtime": compiled.runtime_bytecode.hex(),
            "deps": deps,
        }
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = self._entry(key).with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(payload))
            os.replace(tmp, self._entry(key))
        except OSError as exc:  # a read-only cache must not break compilation
            logger.warning("could not write the compile cache at %s: %s", self.cache_dir, exc)
