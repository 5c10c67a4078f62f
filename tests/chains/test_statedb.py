"""The devnet's state database against py-evm's own: same roots, same reads, any history.

:mod:`chains._statedb` keeps account and storage caches across sealed blocks and builds
its tries without pruning. Each test runs one workload on a default chain and on the
fully stock reference (``chain_reference.py``) and compares every block hash (state
roots included) and every read, at every block: storage written over many blocks,
snapshots and reverts in between, storage wiped by a create-and-selfdestruct, several
transactions per block, and transactions that revert after writing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chain_reference import ReferenceVM

from chains import Chain, Devnet, TransactionReverted
from chains._chain import _VM_CLASSES

# runtime: SSTORE(calldata[0:32], calldata[32:64]); if calldata[64:96] != 0: REVERT
STORE = bytes.fromhex("60203560003555604035600e57005b5f5ffd")
# initcode: SSTORE(1, 1) then SELFDESTRUCT(CALLER) — created and destroyed in one tx
EPHEMERAL = bytes.fromhex("600160015533ff")


def initcode(runtime: bytes) -> bytes:
    """Creation code that returns ``runtime``."""
    n = len(runtime)
    return bytes([0x60, n, 0x60, 12, 0x5F, 0x39, 0x60, n, 0x5F, 0xF3, 0x00, 0x00]) + runtime


def create2_deployer(init: bytes) -> bytes:
    """Creation code that CREATE2s ``init`` (salt 0) and stores the new address in slot 0.

    CREATE2 wipes the new account's storage first: its storage database then carries a
    clear count, which must not leak into later blocks' reverts.
    """
    n = len(init)
    head = bytes([0x60, n, 0x60, 15, 0x5F, 0x39, 0x5F, 0x60, n, 0x5F, 0x5F, 0xF5, 0x5F, 0x55, 0x00])
    return head + init


def word(value: int) -> bytes:
    return value.to_bytes(32)


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Chain, Chain]]:
    """``pair(mining=...)``: a default chain and a fully stock reference chain, same seed."""
    monkeypatch.setitem(_VM_CLASSES, "py-evm", ReferenceVM)

    def make(**options: Any) -> tuple[Chain, Chain]:
        return tuple(  # type: ignore[return-value]
            Devnet(n_chains=1, seed=3, interpreter=interpreter, **options).chains[0]
            for interpreter in ("fast", "py-evm")
        )

    return make


def _store(chain: Chain, address: str, slot: int, value: int, *, fail: bool = False) -> None:
    data = word(slot) + word(value) + word(int(fail))
    if fail:
        with pytest.raises(TransactionReverted):
            chain.transact(to=address, data=data)
    else:
        chain.transact(to=address, data=data)


def _history(chain: Chain, address: str, slots: range) -> list[Any]:
    return [
        (block.hash, [chain.get_storage_at(address, s, block=block.number) for s in slots])
        for block in chain.blocks
    ]


def _workload(chain: Chain) -> str:
    deployer = chain.transact(to=None, data=create2_deployer(initcode(STORE))).contract_address
    assert deployer is not None
    address = "0x" + chain.get_storage_at(deployer, 0).to_bytes(20).hex()
    assert chain.get_code(address) == STORE
    for i in range(6):
        _store(chain, address, i % 3, 100 + i)
    # reverted writes to storage created and cached in earlier blocks
    _store(chain, address, 0, 1, fail=True)
    sid = chain.snapshot()
    _store(chain, address, 0, 999)
    _store(chain, address, 7, 7)
    chain.revert(sid)
    _store(chain, address, 1, 0)  # clear a slot
    _store(chain, address, 2, 5, fail=True)  # written, then reverted in the same tx
    for _ in range(2):
        chain.transact(to=None, data=EPHEMERAL)
    chain.set_storage_at(address, 4, 44)
    sid = chain.snapshot()
    chain.set_storage_at(address, 4, 45)
    _store(chain, address, 5, 55)
    chain.revert(sid)
    _store(chain, address, 6, 66)
    chain.mine()
    return address


# py-evm warns that SELFDESTRUCT is deprecated; the workload uses it on purpose
@pytest.mark.filterwarnings("ignore:SELFDESTRUCT opcode:DeprecationWarning")
@pytest.mark.parametrize("mining", ["auto", "manual"])
def test_history_matches_py_evm(pair: Callable[..., tuple[Chain, Chain]], mining: str) -> None:
    fast, reference = pair(mining=mining)
    histories = []
    for chain in (fast, reference):
        address = _workload(chain)
        histories.append(_history(chain, address, range(8)))
    assert histories[0] == histories[1]
    latest = histories[0][-1][1]
    assert latest == [103, 0, 105, 0, 44, 0, 66, 0]


def test_interval_blocks_with_many_transactions_match(
    pair: Callable[..., tuple[Chain, Chain]],
) -> None:
    fast, reference = pair(mining="interval", block_time=2)
    histories = []
    for chain in (fast, reference):
        address = chain.deploy_bytecode(initcode(STORE), []).address
        chain.clock.advance(2)
        for i in range(40):
            _store(chain, address, i % 5, i)
            if i % 7 == 6:
                chain.clock.advance(2)
        _store(chain, address, 3, 1, fail=True)
        chain.clock.advance(2)
        histories.append(_history(chain, address, range(5)))
    assert histories[0] == histories[1]
    assert len(histories[0]) > 5


@pytest.mark.parametrize("mining", ["auto", "manual"])
def test_touched_empty_account_in_successive_blocks(
    pair: Callable[..., tuple[Chain, Chain]], mining: str
) -> None:
    """An empty account touched with no value (the ecrecover precompile, as attestation
    checks do) is deleted under EIP-161 at every touch, block after block: the kept
    storage database must not carry the previous block's wipe into the next one."""
    histories = []
    for chain in pair(mining=mining):
        for _ in range(3):
            chain.transact(to="0x0000000000000000000000000000000000000001", data=b"\x00" * 128)
            chain.transact(to="0x0000000000000000000000000000000000000001", data=b"")
            chain.mine()
        histories.append([block.hash for block in chain.blocks])
    assert histories[0] == histories[1]
    assert len(histories[0]) >= 4
