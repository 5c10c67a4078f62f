"""Reorgs, rollbacks and finality: ``Chain.reorg``/``rollback``, ``anvil_reorg``/``anvil_rollback``.

After a reorg everything derived from the block list follows the new chain: hashes,
receipts, state, ``BLOCKHASH``, logs, filters and subscriptions; a snapshot taken before
it reverts to the old history; finalized blocks are never rewritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from chains import (
    FINALITY_PRESETS,
    Chain,
    ConfigError,
    Contract,
    Devnet,
    InvalidTransaction,
    ReorgRefused,
    RpcError,
)

PROBE = Path(__file__).parent / "contracts" / "Probe.vy"

# runtime: LOG0(abi.encode(blockhash(block.number - 1)))
LOG_PARENT_HASH = bytes.fromhex("6001430340" + "5f52" + "60205fa000")
# runtime: return abi.encode(block.number, blockhash(block.number - 1))
BLOCK_PROBE = bytes.fromhex("43600190034060205243" + "5f5260405ff3")
STORED = "0x" + keccak(text="Stored(address,uint256,uint256)").hex()


def _initcode(runtime: bytes) -> bytes:
    """Creation code that returns ``runtime``."""
    n = len(runtime)
    return bytes([0x60, n, 0x60, 12, 0x5F, 0x39, 0x60, n, 0x5F, 0xF3, 0x00, 0x00]) + runtime


def _seal(devnet: Devnet, chain: Chain) -> None:
    """Seal the pending block the way the chain's mining mode does."""
    if chain.config.mining == "manual":
        chain.mine()
    elif chain.config.mining == "interval":
        devnet.advance(chain.config.block_time)


def _stores(devnet: Devnet, chain: Chain, probe: Contract, values: range) -> None:
    """One ``probe.store(v)`` per block, for each value."""
    for value in values:
        probe.store(value)
        _seal(devnet, chain)


def _devnet(mining: str, **config: Any) -> tuple[Devnet, Chain, Contract]:
    devnet = Devnet(n_chains=2, seed=3, mining=mining, block_time=2, **config)
    chain = devnet.chains[0]
    probe = chain.deploy(PROBE, 7)
    _seal(devnet, chain)
    return devnet, chain, probe


# ----------------------------------------------------------------------------------------
# reorgs in every mining mode
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1, 7, 60])
@pytest.mark.parametrize("mining", ["auto", "interval", "manual"])
def test_reorg_replaces_the_last_blocks(mining: str, depth: int) -> None:
    devnet, chain, probe = _devnet(mining)
    _stores(devnet, chain, probe, range(100, 170))
    head = chain.block_number
    before = {b.number: b for b in chain.blocks}
    fork = head - depth
    orphaned_txs = [r.tx_hash for n in range(fork + 1, head + 1) for r in before[n].receipts]
    assert orphaned_txs

    reorg = chain.reorg(depth)

    assert chain.block_number == head
    assert reorg.fork_number == fork and reorg.depth == depth and reorg.replaced_by == depth
    assert reorg.dropped == tuple(orphaned_txs) and reorg.pooled == ()
    for n in range(fork + 1):
        assert chain.get_block(n).hash == before[n].hash
    for n in range(fork + 1, head + 1):
        new = chain.get_block(n)
        assert new.hash != before[n].hash
        assert new.timestamp == before[n].timestamp  # the same slots
        assert new.header.parent_hash == chain.get_block(n - 1).hash
        assert new.transactions == ()
    # state, receipts and logs follow the new chain
    assert probe.stored() == 100 + fork - 2  # the last store kept was in block `fork`
    for tx_hash in orphaned_txs:
        with pytest.raises(KeyError):
            chain.get_receipt(tx_hash)
        with pytest.raises(KeyError):
            chain.find_transaction(tx_hash)
    assert chain.get_logs(from_block=fork + 1) == []
    assert chain.get_logs(from_block=fork)[-1].block_hash == before[fork].hash
    # the chain goes on from the new head
    probe.store(5)
    _seal(devnet, chain)
    assert chain.block_number == head + 1 and probe.stored() == 5
    assert chain.get_block(head + 1).header.parent_hash == chain.get_block(head).hash


@pytest.mark.parametrize("mining", ["auto", "interval", "manual"])
def test_blockhash_sees_the_new_chain(mining: str) -> None:
    devnet, chain, probe = _devnet(mining)
    logger = chain.deploy_bytecode(_initcode(LOG_PARENT_HASH), []).address
    block_probe = chain.deploy_bytecode(_initcode(BLOCK_PROBE), []).address
    _seal(devnet, chain)
    _stores(devnet, chain, probe, range(1, 6))
    head = chain.block_number

    chain.reorg(3, {1: [{"to": logger}]})

    # inside a replacement block, BLOCKHASH(n - 1) is the new parent
    replaced = chain.get_block(head - 1)
    (log,) = replaced.receipts[0].logs
    assert log.data == chain.get_block(head - 2).hash
    # calls at every new block see their new parent; a transaction after the reorg too
    for n in (head - 1, head):
        out = chain.call(to=block_probe, block=n)
        assert out[32:] == chain.get_block(n - 1).hash
    receipt = chain.transact(to=logger)
    _seal(devnet, chain)
    assert chain.get_receipt(receipt.tx_hash).logs[0].data == chain.get_block(head).hash


def test_replacement_reorders_the_orphaned_transactions() -> None:
    devnet, chain, probe = _devnet("manual")
    trader, lp = chain.accounts[1].address, chain.accounts[2].address
    first = probe.store.transact(1, sender=trader)
    second = probe.store.transact(2, sender=lp)
    chain.mine()
    block = chain.get_block("latest")
    assert [r.tx_hash for r in block.receipts] == [first.tx_hash, second.tx_hash]

    reorg = chain.reorg(1, [[block.transactions[1], block.transactions[0]]])

    new = chain.get_block("latest")
    assert new.hash != block.hash
    assert [r.tx_hash for r in new.receipts] == [second.tx_hash, first.tx_hash]
    assert reorg.dropped == ()
    assert probe.stored() == 1  # the other order: trader's store runs last
    assert chain.get_receipt(first.tx_hash).block_hash == new.hash


def test_replacement_accepts_raw_transactions_and_requests() -> None:
    devnet, chain, probe = _devnet("auto")
    _stores(devnet, chain, probe, range(1, 4))
    raw = chain.get_block("latest").transactions[0].encode()
    data = probe.store.encode(42)

    chain.reorg(2, [[{"to": probe.address, "data": data}], [raw]])

    assert probe.stored() == 3  # the raw transaction (store 3) ran after the request
    assert chain.get_block("latest").transactions[0].encode() == raw


@pytest.mark.parametrize("mining", ["manual", "interval"])
def test_dropped_transactions_go_back_to_the_pending_block(mining: str) -> None:
    devnet, chain, probe = _devnet(mining)
    _stores(devnet, chain, probe, range(1, 4))
    orphaned = chain.get_block("latest").receipts[0].tx_hash
    waiting = probe.store.transact(9).tx_hash  # pending when the reorg happens

    reorg = chain.reorg(1, dropped="pool")

    assert reorg.pooled == (orphaned,)
    assert [r.tx_hash for r in chain.pending_transactions] == [orphaned, waiting]
    _, number, _ = chain.find_transaction(orphaned)
    assert number is None  # pending, not in a block
    _seal(devnet, chain)
    assert chain.get_receipt(orphaned).block_number == chain.block_number
    assert probe.stored() == 9


def test_dropped_transactions_are_mined_again_under_automine() -> None:
    devnet, chain, probe = _devnet("auto")
    _stores(devnet, chain, probe, range(1, 4))
    head = chain.block_number
    orphaned = [chain.get_block(n).receipts[0].tx_hash for n in (head - 1, head)]

    chain.reorg(2, dropped="pool")

    assert chain.block_number == head + 2  # two new empty blocks, then the two again
    assert [chain.get_receipt(h).block_number for h in orphaned] == [head + 1, head + 2]
    assert probe.stored() == 3


def test_discarded_transactions_are_gone_and_pending_ones_stay() -> None:
    devnet, chain, probe = _devnet("manual")
    _stores(devnet, chain, probe, range(1, 4))
    orphaned = chain.get_block("latest").receipts[0].tx_hash
    waiting = probe.store.transact(9, sender=chain.accounts[1].address).tx_hash

    chain.reorg(1)

    with pytest.raises(KeyError):
        chain.find_transaction(orphaned)
    assert [r.tx_hash for r in chain.pending_transactions] == [waiting]


def test_rollback_takes_blocks_off_the_chain() -> None:
    devnet, chain, probe = _devnet("auto")
    _stores(devnet, chain, probe, range(1, 6))
    head = chain.block_number
    removed = chain.get_block(head).hash

    reorg = chain.rollback(2)

    assert chain.block_number == head - 2 and reorg.replaced_by == 0
    assert probe.stored() == 3
    with pytest.raises(Exception, match="no block with hash"):
        chain.get_block(removed)
    probe.store(8)
    assert chain.block_number == head - 1
    assert chain.get_block("latest").timestamp > chain.get_block(head - 2).timestamp


def test_reorg_bad_arguments_are_clear_errors() -> None:
    devnet, chain, probe = _devnet("auto")
    _stores(devnet, chain, probe, range(1, 3))
    with pytest.raises(ValueError, match="depth must be an integer ≥ 1"):
        chain.reorg(0)
    with pytest.raises(ReorgRefused, match="below genesis"):
        chain.reorg(chain.block_number + 1)
    with pytest.raises(ValueError, match="outside the reorg"):
        chain.reorg(1, {1: []})
    with pytest.raises(ValueError, match="dropped must be"):
        chain.rollback(1, dropped="keep")  # type: ignore[arg-type]
    with pytest.raises(InvalidTransaction, match="could not decode a replacement"):
        chain.reorg(1, [[b"\xc0\x01"]])
    head = chain.get_block("latest").hash
    with pytest.raises(InvalidTransaction, match="nonce"):
        chain.reorg(1, [[{"to": probe.address, "nonce": 999}]])
    assert chain.get_block("latest").hash == head  # a failed reorg changes nothing


# ----------------------------------------------------------------------------------------
# snapshots
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mining", ["auto", "interval", "manual"])
def test_a_snapshot_before_a_reorg_reverts_cleanly(mining: str) -> None:
    devnet, chain, probe = _devnet(mining)
    other = devnet.chains[1]
    _stores(devnet, chain, probe, range(1, 10))
    pending = probe.store.transact(77) if mining != "auto" else None
    hashes = [b.hash for b in chain.blocks]
    receipts = [r for b in chain.blocks for r in b.receipts]
    other_head = other.get_block("latest").hash

    with devnet.anchor():
        chain.reorg(4, dropped="pool")
        chain.reorg(2)
        other.set_balance(other.accounts[3].address, 1)
        if mining != "auto":
            chain.mine()
        assert [b.hash for b in chain.blocks][: len(hashes)] != hashes

    assert [b.hash for b in chain.blocks] == hashes
    for receipt in receipts:
        assert chain.get_receipt(receipt.tx_hash).block_hash == receipt.block_hash
    assert other.get_block("latest").hash == other_head
    if pending is not None:
        assert [r.tx_hash for r in chain.pending_transactions] == [pending.tx_hash]
        _seal(devnet, chain)
        assert probe.stored() == 77
    else:
        assert probe.stored() == 9
    # and the same reorg again is reproducible
    first = chain.reorg(3)
    assert first.fork_number == chain.block_number - 3


def test_reorgs_are_deterministic() -> None:
    hashes = []
    for _ in range(2):
        devnet, chain, probe = _devnet("auto")
        _stores(devnet, chain, probe, range(1, 6))
        chain.reorg(3, [[], [{"to": probe.address, "data": probe.store.encode(4)}]])
        hashes.append([b.hash for b in chain.blocks])
    assert hashes[0] == hashes[1]


# ----------------------------------------------------------------------------------------
# finality
# ----------------------------------------------------------------------------------------
def test_default_finality_is_anvils_block_depths() -> None:
    devnet, chain, probe = _devnet("auto")
    _stores(devnet, chain, probe, range(20, 120))
    head = chain.block_number
    assert chain.get_block("safe").number == head - 32
    assert chain.get_block("finalized").number == head - 64
    chain.reorg(64)
    with pytest.raises(ReorgRefused, match="would rewrite finalized block"):
        chain.reorg(65)


def test_ethereum_finality_waits_for_two_epochs_after_the_batch() -> None:
    devnet = Devnet(n_chains=1, **FINALITY_PRESETS["ethereum"])
    chain = devnet.chains[0]
    devnet.advance(100)
    chain.set_balance(chain.accounts[1].address, 1)
    block = chain.get_block("latest")
    close = -(-block.timestamp // 384) * 384  # the epoch holding it ends
    devnet.advance_to(close + 384 - 1)
    assert (chain.get_block("safe").number, chain.get_block("finalized").number) == (0, 0)
    devnet.advance_to(close + 384)
    assert (chain.get_block("safe").number, chain.get_block("finalized").number) == (1, 0)
    devnet.advance_to(close + 768)
    assert chain.get_block("finalized").number == 1


def test_time_finality_formula_per_block() -> None:
    """finalized ⇔ now ≥ ⌈t / I⌉·I + finalized_after; safe likewise with safe_after."""
    devnet = Devnet(
        n_chains=1,
        safe_depth=0,
        finalized_depth=0,
        finality_interval=60,
        safe_after=24,
        finalized_after=900,
    )
    chain = devnet.chains[0]
    stamps = []
    for _ in range(5):
        devnet.advance(25)
        chain.set_balance(chain.accounts[1].address, 1)
        stamps.append(chain.get_block("latest").timestamp)
    for wait in (0, 30, 100, 900, 1000):
        now = devnet.now + wait
        devnet.advance_to(now)
        for level, after in (("safe", 24), ("finalized", 900)):
            expected = max(
                [0]
                + [
                    chain.get_block(n).number
                    for n in range(chain.block_number + 1)
                    if -(-chain.get_block(n).timestamp // 60) * 60 + after <= now
                ]
            )
            assert chain.get_finality_head(level) == expected  # type: ignore[arg-type]


def test_reorgs_never_touch_finalized_blocks() -> None:
    devnet, chain, probe = _devnet("auto", safe_depth=1, finalized_depth=3)
    _stores(devnet, chain, probe, range(10))
    chain.reorg(3)
    with pytest.raises(ReorgRefused, match=r"finalized head \d+; at most 3 blocks"):
        chain.reorg(4)
    with pytest.raises(ReorgRefused):
        chain.rollback(4)


def test_instant_finality_refuses_every_reorg() -> None:
    devnet, chain, probe = _devnet("auto", **FINALITY_PRESETS["instant"])
    _stores(devnet, chain, probe, range(3))
    assert chain.get_block("finalized").number == chain.block_number
    with pytest.raises(ReorgRefused, match="at most 0 blocks"):
        chain.reorg(1)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"safe_depth": -1}, "safe_depth must be an integer ≥ 0"),
        ({"finalized_after": -5.0}, "finalized_after must be ≥ 0"),
        ({"safe_depth": 10, "finalized_depth": 5}, "safe no later than finalized"),
        ({"safe_after": 100.0, "finalized_after": 50.0}, "safe no later than finalized"),
    ],
)
def test_bad_finality_config_is_refused(config: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        Devnet(n_chains=1, **config)


# ----------------------------------------------------------------------------------------
# JSON-RPC: anvil_reorg, anvil_rollback, tags, logs, filters, subscriptions
# ----------------------------------------------------------------------------------------
def test_anvil_reorg_and_rollback_over_json_rpc() -> None:
    devnet, chain, probe = _devnet("auto")
    rpc = chain.rpc
    _stores(devnet, chain, probe, range(1, 6))
    head = chain.block_number
    old = rpc.call("eth_getBlockByNumber", [hex(head), False])["hash"]
    raw = "0x" + chain.get_block(head).transactions[0].encode().hex()

    # anvil's positional form: depth, [[tx, block index], ...]
    rpc.call("anvil_reorg", [1, [[raw, 0]]])
    assert rpc.call("eth_getBlockByNumber", [hex(head), False])["hash"] != old
    assert probe.stored() == 5
    # the object form, with a transaction the node signs
    request = {
        "from": chain.accounts[1].address,
        "to": probe.address,
        "data": "0x" + probe.store.encode(6).hex(),
    }
    rpc.call("anvil_reorg", [{"depth": "0x1", "tx_block_pairs": [[request, 0]]}])
    assert probe.stored() == 6
    rpc.call("anvil_rollback", [])
    assert chain.block_number == head - 1
    rpc.call("anvil_rollback", ["0x2"])
    assert chain.block_number == head - 3


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ([0], "depth must be an integer ≥ 1"),
        ([500], "below genesis"),
        ([2, [["0x00", 2]]], "must not exceed"),
        ([{"depth": 1, "extra": 1}], "unknown field"),
        ([{"tx_block_pairs": []}], "must give depth"),
        ([1, [], "keep"], "dropped must be one of"),
    ],
)
def test_anvil_reorg_bad_params(params: list[Any], match: str) -> None:
    devnet, chain, probe = _devnet("auto")
    _stores(devnet, chain, probe, range(3))
    with pytest.raises(RpcError, match=match) as info:
        chain.rpc.call("anvil_reorg", params)
    assert info.value.code == -32602


def test_safe_and_finalized_tags_answer_the_finality_heads() -> None:
    devnet, chain, probe = _devnet("auto", safe_depth=2, finalized_depth=4)
    _stores(devnet, chain, probe, range(10))
    rpc = chain.rpc
    head = chain.block_number
    assert int(rpc.call("eth_getBlockByNumber", ["safe", False])["number"], 16) == head - 2
    assert int(rpc.call("eth_getBlockByNumber", ["finalized", False])["number"], 16) == head - 4
    slot = "0x1"
    stored = rpc.call("eth_getStorageAt", [probe.address, slot, "finalized"])
    assert int(stored, 16) == probe.stored(block=head - 4)


def test_get_logs_and_filters_report_removed_logs() -> None:
    devnet, chain, probe = _devnet("auto")
    rpc = chain.rpc
    log_filter = rpc.call("eth_newFilter", [{"address": probe.address}])
    block_filter = rpc.call("eth_newBlockFilter")
    _stores(devnet, chain, probe, range(1, 4))
    polled = rpc.call("eth_getFilterChanges", [log_filter])
    assert [lg["removed"] for lg in polled] == [False] * 3
    rpc.call("eth_getFilterChanges", [block_filter])
    probe.store(4)  # sealed, not yet polled

    data = probe.store.encode(9)
    chain.reorg(2, [[], [{"to": probe.address, "data": data}]])

    changes = rpc.call("eth_getFilterChanges", [log_filter])
    removed = [lg for lg in changes if lg["removed"]]
    added = [lg for lg in changes if not lg["removed"]]
    # block head-1 was polled (store 3): removed; block head was not (store 4): never shown
    assert [int(lg["data"][-64:], 16) for lg in removed] == [3]
    assert [int(lg["data"][-64:], 16) for lg in added] == [9]
    assert changes.index(removed[0]) < changes.index(added[0])
    assert rpc.call("eth_getFilterChanges", [block_filter]) == [
        "0x" + chain.get_block(n).hash.hex() for n in (chain.block_number - 1, chain.block_number)
    ]
    # eth_getLogs answers from the new chain only
    logs = rpc.call("eth_getLogs", [{"address": probe.address, "fromBlock": "0x0"}])
    assert [int(lg["data"][-64:], 16) for lg in logs] == [1, 2, 9]
    assert all(not lg["removed"] for lg in logs)


def test_subscriptions_send_removed_logs_then_the_new_chain() -> None:
    devnet, chain, probe = _devnet("auto")
    rpc = chain.rpc
    sent: list[dict[str, Any]] = []
    session = rpc.subscriptions.session(lambda text: sent.append(json.loads(text)))
    logs_id = rpc.call("eth_subscribe", ["logs", {"topics": [STORED]}], extra=session.methods)
    heads_id = rpc.call("eth_subscribe", ["newHeads"], extra=session.methods)
    _stores(devnet, chain, probe, range(1, 4))
    sent.clear()

    chain.reorg(2, [[{"to": probe.address, "data": probe.store.encode(8)}], []])

    kinds = [(m["params"]["subscription"], m["params"]["result"].get("removed")) for m in sent]
    assert kinds == [
        (logs_id, True),  # store 2, orphaned
        (logs_id, True),  # store 3, orphaned
        (logs_id, False),  # store 8, in the first new block
        (heads_id, None),
        (heads_id, None),
    ]
    heads = [m["params"]["result"] for m in sent if m["params"]["subscription"] == heads_id]
    assert [h["hash"] for h in heads] == [
        "0x" + chain.get_block(n).hash.hex() for n in (chain.block_number - 1, chain.block_number)
    ]
    session.close()
