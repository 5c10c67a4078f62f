"""Vyper compilation: snekmate imports, the on-disk cache and its invalidation."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chains import Chain, CompileError, Compiler

SNEKMATE_TOKEN = """
# pragma version 0.4.3
from snekmate.auth import ownable
from snekmate.tokens import erc20

initializes: ownable
initializes: erc20[ownable := ownable]

exports: erc20.__interface__

@deploy
def __init__():
    ownable.__init__()
    erc20.__init__("Test", "TST", 18, "Test", "1")
    erc20._mint(msg.sender, 1000)
"""


def test_snekmate_imports_resolve_and_deploy(chain: Chain) -> None:
    token = chain.deploy_source(SNEKMATE_TOKEN, name="SnekToken")
    assert token.balanceOf(chain.accounts[0].address) == 1000
    assert token.symbol() == "TST"


def test_disk_cache_hits_across_compilers(tmp_path: Path) -> None:
    source = tmp_path / "C.vy"
    source.write_text("# pragma version 0.4.3\n@external\ndef f() -> uint256:\n    return 1\n")
    first = Compiler(tmp_path / "cache").compile_file(source)
    entries = list((tmp_path / "cache" / "vyper").glob("*.json"))
    assert len(entries) == 1
    second = Compiler(tmp_path / "cache").compile_file(source)
    assert second.bytecode == first.bytecode and second.abi == first.abi


def test_editing_an_imported_module_invalidates_the_cache(tmp_path: Path) -> None:
    lib = tmp_path / "helpers.vy"
    lib.write_text("@internal\n@pure\ndef value() -> uint256:\n    return 1\n")
    main = tmp_path / "Main.vy"
    main.write_text(
        "# pragma version 0.4.3\nimport helpers\n\n@external\n@pure\n"
        "def get() -> uint256:\n    return helpers.value()\n"
    )
    cache = tmp_path / "cache"
    before = Compiler(cache).compile_file(main)
    lib.write_text("@internal\n@pure\ndef value() -> uint256:\n    return 2\n")
    after = Compiler(cache).compile_file(main)
    assert after.runtime_bytecode != before.runtime_bytecode


def test_cache_is_shared_across_search_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another working directory and another sys.path (a Dask worker, another venv on the
    # same cache folder) must reuse the entry when its imports resolve to the same files.
    cache = tmp_path / "cache"
    first = Compiler(cache).compile_source(SNEKMATE_TOKEN, name="SnekToken")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.syspath_prepend(str(elsewhere))

    def no_compile(*args: object) -> None:
        raise AssertionError("compiled again instead of using the cache")

    monkeypatch.setattr(Compiler, "_compile", no_compile)
    second = Compiler(cache).compile_source(SNEKMATE_TOKEN, name="SnekToken")
    assert second.runtime_bytecode == first.runtime_bytecode


def test_a_shadowing_module_on_sys_path_invalidates_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def helpers(folder: Path, value: int) -> Path:
        (folder / "mylib").mkdir(parents=True)
        module = folder / "mylib" / "helpers.vy"
        module.write_text(f"@internal\n@pure\ndef value() -> uint256:\n    return {value}\n")
        return folder

    main = tmp_path / "home" / "Main.vy"
    main.parent.mkdir()
    main.write_text(
        "# pragma version 0.4.3\nfrom mylib import helpers\n\n@external\n@pure\n"
        "def get() -> uint256:\n    return helpers.value()\n"
    )
    monkeypatch.syspath_prepend(str(helpers(tmp_path / "site", 1)))
    cache = tmp_path / "cache"
    before = Compiler(cache).compile_file(main)
    # Another mylib/helpers.vy where the compiler looks first (the compiler tries the
    # search paths last first): the cached entry no longer describes what it would load.
    monkeypatch.setattr("sys.path", [*sys.path, str(helpers(tmp_path / "shadow", 2))])
    after = Compiler(cache).compile_file(main)
    fresh = Compiler(tmp_path / "other-cache").compile_file(main)
    assert after.runtime_bytecode == fresh.runtime_bytecode != before.runtime_bytecode


def test_compile_error_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "Broken.vy"
    broken.write_text("# pragma version 0.4.3\n@external\ndef f() -> uint256:\n    return x\n")
    with pytest.raises(CompileError, match="Broken.vy"):
        Compiler(tmp_path / "cache").compile_file(broken)


def test_missing_source_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CompileError, match="no Vyper source at"):
        Compiler(tmp_path / "cache").compile_file(tmp_path / "Nope.vy")
