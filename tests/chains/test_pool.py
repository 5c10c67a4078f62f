"""The transaction pool: queue, promotion, replacement, drop, over the native API and RPC."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from chains import Chain, Devnet, InvalidTransaction
from chains._errors import ReplacementUnderpriced

GWEI = 10**9


@pytest.fixture(params=["manual", "auto"])
def pool_chain(request: pytest.FixtureRequest) -> Chain:
    """A fresh one-chain devnet under manual mining, and one under automine."""
    return Devnet(n_chains=1, mining=request.param).chains[0]


@dataclass(frozen=True)
class Step:
    """Submit a transfer of ``value`` wei at ``nonce`` with fee cap ``fee`` gwei (tip = fee/2)."""

    nonce: int
    fee: int = 10
    value: int = 1
    error: str | None = None


@dataclass(frozen=True)
class Case:
    steps: tuple[Step, ...]
    pending: tuple[tuple[int, int], ...]  # (nonce, value) in the pending block / mined
    queued: tuple[tuple[int, int], ...]  # (nonce, value) waiting for their nonce


CASES = {
    "in-order": Case((Step(0), Step(1)), pending=((0, 1), (1, 1)), queued=()),
    "gap-queued": Case((Step(0), Step(2)), pending=((0, 1),), queued=((2, 1),)),
    "gap-filled-promotes": Case(
        (Step(2), Step(3), Step(0), Step(1)),
        pending=((0, 1), (1, 1), (2, 1), (3, 1)),
        queued=(),
    ),
    "queued-replaced-by-10-percent": Case(
        (Step(1, fee=10, value=1), Step(1, fee=11, value=2)), pending=(), queued=((1, 2),)
    ),
    "queued-replacement-underpriced": Case(
        (Step(1, fee=10, value=1), Step(1, fee=10, value=2, error="underpriced")),
        pending=(),
        queued=((1, 1),),
    ),
    "queued-same-transaction-again": Case(
        (Step(1), Step(1, error="already known")), pending=(), queued=((1, 1),)
    ),
}


def _submit(chain: Chain, step: Step) -> bytes:
    sender, to = chain.accounts[1].address, chain.accounts[2].address
    return chain.submit_transaction(
        sender=sender,
        to=to,
        value=step.value,
        nonce=step.nonce,
        gas=21_000,
        max_fee_per_gas=step.fee * GWEI,
        max_priority_fee_per_gas=step.fee * GWEI // 2,
    )


def _mined_or_pending(chain: Chain) -> list[tuple[int, int]]:
    sender = chain.accounts[1].address
    txs = [tx for block in chain.blocks for tx in block.transactions] + list(chain.txpool.pending)
    return [(tx.nonce, tx.value) for tx in txs if tx.sender == bytes.fromhex(sender[2:])]


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_pool_semantics(pool_chain: Chain, case: Case) -> None:
    for step in case.steps:
        if step.error is None:
            _submit(pool_chain, step)
        else:
            with pytest.raises(InvalidTransaction, match=step.error):
                _submit(pool_chain, step)
    assert _mined_or_pending(pool_chain) == list(case.pending)
    assert [(tx.nonce, tx.value) for tx in pool_chain.txpool.queued] == list(case.queued)


REPLACEMENTS = {
    # (old fee cap, old tip) -> (new fee cap, new tip), gwei-tenths; expected outcome
    "both-up-10-percent": ((100, 50), (110, 55), None),
    "cap-up-tip-short": ((100, 50), (110, 54), "underpriced"),
    "tip-up-cap-short": ((100, 50), (109, 60), "underpriced"),
    "same-fees": ((100, 50), (100, 50), "underpriced"),
}


@pytest.mark.parametrize(("old", "new", "error"), REPLACEMENTS.values(), ids=REPLACEMENTS.keys())
def test_replacing_a_pending_block_transaction(
    old: tuple[int, int], new: tuple[int, int], error: str | None
) -> None:
    chain = Devnet(n_chains=1, mining="manual").chains[0]
    sender, to = chain.accounts[1].address, chain.accounts[2].address

    def send(fees: tuple[int, int], value: int) -> bytes:
        return chain.submit_transaction(
            sender=sender,
            to=to,
            value=value,
            nonce=0,
            gas=21_000,
            max_fee_per_gas=fees[0] * GWEI // 10,
            max_priority_fee_per_gas=fees[1] * GWEI // 10,
        )

    first = send(old, 1)
    if error is not None:
        with pytest.raises(ReplacementUnderpriced, match="replacement transaction underpriced"):
            send(new, 2)
        assert [tx.hash for tx in chain.txpool.pending] == [first]
        return
    second = send(new, 2)
    assert [tx.hash for tx in chain.txpool.pending] == [second]
    (block,) = chain.mine()
    assert block.tx_hashes == (second,)
    assert chain.get_balance(to) == chain.config.balance + 2


def test_dropping_a_pending_transaction_requeues_its_successors() -> None:
    chain = Devnet(n_chains=1, mining="manual").chains[0]
    hashes = [_submit(chain, Step(n)) for n in range(3)]
    assert chain.txpool.status() == (3, 0)
    assert chain.drop_transaction(hashes[0]) is True
    assert chain.txpool.status() == (0, 2)  # nonces 1 and 2 wait for 0 again
    assert chain.drop_transaction(hashes[0]) is False
    _submit(chain, Step(0, value=5))
    assert [(tx.nonce, tx.value) for tx in chain.txpool.pending] == [(0, 5), (1, 1), (2, 1)]
    assert chain.drop_all_transactions() == 3
    assert chain.txpool.status() == (0, 0)
    assert chain.mine()[0].transactions == ()


def test_automine_mines_a_gap_filler_and_what_it_unblocks_in_one_block() -> None:
    chain = Devnet(n_chains=1).chains[0]
    _submit(chain, Step(1))
    _submit(chain, Step(2))
    head = chain.block_number
    _submit(chain, Step(0))
    assert chain.block_number == head + 1
    assert [tx.nonce for tx in chain.get_block("latest").transactions] == [0, 1, 2]


def test_snapshot_restores_the_queue() -> None:
    chain = Devnet(n_chains=1).chains[0]
    sid = chain.snapshot()
    _submit(chain, Step(3))
    chain.revert(sid)
    assert chain.txpool.status() == (0, 0)


def test_pending_transaction_listener_hears_queued_and_included() -> None:
    chain = Devnet(n_chains=1).chains[0]
    heard: list[bytes] = []
    off = chain.on_pending_transaction(lambda tx: heard.append(tx.hash))
    queued = _submit(chain, Step(1))
    included = _submit(chain, Step(0))
    off()
    _submit(chain, Step(2))
    assert heard == [queued, included, queued]  # queued, then the filler, then promoted


# ----------------------------------------------------------------------------------------
# over JSON-RPC
# ----------------------------------------------------------------------------------------
def _send(chain: Chain, nonce: int, fee: int = 10, value: int = 1) -> Any:
    tx = {
        "from": chain.accounts[1].address,
        "to": chain.accounts[2].address,
        "value": hex(value),
        "nonce": hex(nonce),
        "gas": hex(21_000),
        "maxFeePerGas": hex(fee * GWEI),
        "maxPriorityFeePerGas": hex(fee * GWEI // 2),
    }
    return chain.rpc.call("eth_sendTransaction", [tx])


def test_txpool_methods_over_rpc() -> None:
    chain = Devnet(n_chains=1, mining="manual").chains[0]
    rpc = chain.rpc
    sender = chain.accounts[1].address.lower()
    to = chain.accounts[2].address.lower()
    pending_hash = _send(chain, 0)
    queued_hash = _send(chain, 2)
    assert rpc.call("txpool_status") == {"pending": "0x1", "queued": "0x1"}
    content = rpc.call("txpool_content")
    assert content["pending"][sender]["0"]["hash"] == pending_hash
    assert content["queued"][sender]["2"]["hash"] == queued_hash
    assert content["queued"][sender]["2"]["blockHash"] is None
    assert rpc.call("txpool_inspect")["queued"][sender] == {
        "2": f"{to}: 1 wei + 21000 gas × {10 * GWEI} wei"
    }
    assert rpc.call("eth_getTransactionByHash", [queued_hash])["blockNumber"] is None
    assert rpc.call("anvil_dropTransaction", [queued_hash]) == queued_hash
    assert rpc.call("anvil_dropTransaction", [queued_hash]) is None
    assert rpc.call("anvil_dropAllTransactions") is None
    assert rpc.call("txpool_status") == {"pending": "0x0", "queued": "0x0"}


def test_replacement_underpriced_over_rpc() -> None:
    chain = Devnet(n_chains=1, mining="manual").chains[0]
    _send(chain, 0, fee=10)
    with pytest.raises(Exception, match="replacement transaction underpriced") as info:
        _send(chain, 0, fee=10, value=2)
    assert info.value.code == -32000  # type: ignore[attr-defined]
    replaced = _send(chain, 0, fee=11, value=2)
    assert [tx.hash.hex() for tx in chain.txpool.pending] == [replaced[2:]]


def test_pending_block_is_latest_plus_one_with_a_null_hash() -> None:
    chain = Devnet(n_chains=1, mining="manual").chains[0]
    tx_hash = _send(chain, 0)
    block = chain.rpc.call("eth_getBlockByNumber", ["pending", False])
    assert (block["number"], block["hash"], block["nonce"]) == (
        hex(chain.block_number + 1),
        None,
        None,
    )
    assert block["transactions"] == [tx_hash]
    assert block["gasUsed"] == hex(21_000)
    full = chain.rpc.call("eth_getBlockByNumber", ["pending", True])
    assert full["transactions"][0]["hash"] == tx_hash


def test_new_pending_transactions_subscription() -> None:
    chain = Devnet(n_chains=1).chains[0]
    sent: list[str] = []
    session = chain.rpc.subscriptions.session(sent.append)
    hashes_id = session.subscribe("newPendingTransactions")
    full_id = session.subscribe("newPendingTransactions", True)
    tx_hash = _send(chain, 0)
    messages = [json.loads(m)["params"] for m in sent]
    assert {
        m["subscription"]: m["result"] if isinstance(m["result"], str) else m["result"]["hash"]
        for m in messages
    } == {hashes_id: tx_hash, full_id: tx_hash}
    session.close()
