"""Cross-chain bundles: atomic execution (two-phase commit) and atomic inclusion."""

from __future__ import annotations

from pathlib import Path

import pytest

from chains import BundleError, BundleReverted, Contract, Devnet, DevnetServer

LEDGER = Path(__file__).parent / "contracts" / "Ledger.vy"


@pytest.fixture
def devnet() -> Devnet:
    """Three auto-mining chains A, B, C."""
    return Devnet(n_chains=3, seed=3)


@pytest.fixture
def ledgers(devnet: Devnet) -> dict[str, Contract]:
    """A Ledger (``record(0)`` reverts) on each chain, the clock moved past deployment."""
    out = {c.name: c.deploy(LEDGER, 0) for c in devnet.chains}
    devnet.advance(12)
    return out


def _record(ledger: Contract, amount: int):
    return lambda chain: ledger.record(amount, sender=chain.accounts[1].address)


def _heads(devnet: Devnet) -> list[tuple[int, int]]:
    return [(c.block_number, c.timestamp) for c in devnet.chains]


def test_atomic_bundle_commits_every_leg_in_one_slot(
    devnet: Devnet, ledgers: dict[str, Contract]
) -> None:
    before = [c.block_number for c in devnet.chains]
    result = devnet.bundle(
        [
            ("A", _record(ledgers["A"], 1)),
            (31338, _record(ledgers["B"], 2)),
            (devnet["C"], _record(ledgers["C"], 3)),
            ("A", _record(ledgers["A"], 4)),
        ]
    )
    assert result.is_complete
    assert [ledgers[n].total() for n in "ABC"] == [5, 2, 3]
    # one block per chain, all at the slot's timestamp, holding that chain's legs
    assert [c.block_number for c in devnet.chains] == [b + 1 for b in before]
    assert {c.timestamp for c in devnet.chains} == {result.timestamp}
    assert dict(result.blocks) == {c.name: c.block_number for c in devnet.chains}
    assert len(devnet["A"].blocks[-1].transactions) == 2
    assert all(r is not None and r.status == 1 for r in result.receipts)
    assert ledgers["C"].last_stamp() == result.timestamp


def test_atomic_bundle_leg_failing_on_c_rolls_back_a_and_b(
    devnet: Devnet, ledgers: dict[str, Contract]
) -> None:
    heads, now = _heads(devnet), devnet.now
    with pytest.raises(BundleReverted, match="leg 2 on chain C failed: ledger: zero amount") as err:
        devnet.bundle(
            [
                ("A", _record(ledgers["A"], 1)),
                ("B", _record(ledgers["B"], 2)),
                ("C", _record(ledgers["C"], 0)),
            ]
        )
    assert (err.value.leg, err.value.chain, err.value.reason) == (2, "C", "ledger: zero amount")
    assert [ledgers[n].total() for n in "ABC"] == [0, 0, 0]
    assert _heads(devnet) == heads
    assert devnet.now == now
    assert all(not c.pending_transactions for c in devnet.chains)


def test_inclusion_bundle_lets_a_leg_revert_alone(
    devnet: Devnet, ledgers: dict[str, Contract]
) -> None:
    result = devnet.bundle(
        [
            ("A", _record(ledgers["A"], 1)),
            ("B", _record(ledgers["B"], 2)),
            ("C", _record(ledgers["C"], 0)),
        ],
        atomic_execution=False,
    )
    assert not result.is_complete
    assert result.errors == (None, None, "ledger: zero amount")
    assert [ledgers[n].total() for n in "ABC"] == [1, 2, 0]
    # the reverted leg is still included, in the same slot
    failed = result.receipts[2]
    assert failed is not None and failed.status == 0
    assert devnet["C"].blocks[-1].transactions[0].hash == failed.tx_hash
    assert {c.timestamp for c in devnet.chains} == {result.timestamp}


def test_bundle_accepts_transact_keywords_and_raw_bytes(devnet: Devnet) -> None:
    a, b = devnet["A"], devnet["B"]
    payer, payee = a.accounts[2].address, a.accounts[3].address
    signed = b.w3.eth.account.sign_transaction(
        {
            "chainId": b.chain_id,
            "nonce": 0,
            "to": payee,
            "value": 7,
            "gas": 21_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        },
        b.accounts[2].key,
    )
    result = devnet.bundle(
        [("A", {"sender": payer, "to": payee, "value": 5}), ("B", bytes(signed.raw_transaction))]
    )
    assert result.is_complete
    assert a.get_balance(payee) - b.get_balance(payee) == 5 - 7


@pytest.mark.parametrize(
    ("legs", "message"),
    [
        ([], "empty bundle"),
        (
            [("Z", {"to": "0x" + "11" * 20})],
            "bundle leg 0: unknown chain 'Z'; chains: A \\(31337\\)",
        ),
        ([("A", {"to": "0x" + "11" * 20}), (99, {})], "bundle leg 1: unknown chain 99"),
        ([("A", 5)], "bundle leg 0: a transaction is a mapping"),
        (["A"], "bundle leg 0: expected a \\(chain, transaction\\) pair"),
    ],
    ids=["empty", "unknown-name", "unknown-id", "bad-transaction", "not-a-pair"],
)
def test_bad_bundle_names_the_problem_and_changes_nothing(
    devnet: Devnet, legs: list, message: str
) -> None:
    heads = _heads(devnet)
    with pytest.raises(BundleError, match=message):
        devnet.bundle(legs)
    assert _heads(devnet) == heads


def test_bundle_refuses_a_chain_with_pending_transactions() -> None:
    devnet = Devnet(n_chains=2, mining="manual")
    a = devnet["A"]
    a.transact(to=a.accounts[1].address, value=1)
    with pytest.raises(BundleError, match="chain A's pending block already holds transactions"):
        devnet.bundle([("A", {"to": a.accounts[2].address, "value": 1})])


def test_bundle_seals_on_manual_and_interval_chains() -> None:
    devnet = Devnet(chains=[{"mining": "manual"}, {"mining": "interval", "block_time": 2}])
    legs = [(c.name, {"to": c.accounts[3].address, "value": 1}) for c in devnet.chains]
    result = devnet.bundle(legs)
    assert [c.blocks[-1].number for c in devnet.chains] == [n for _, n in result.blocks]
    assert all(not c.pending_transactions for c in devnet.chains)


# -- over JSON-RPC: testbed_sendBundle, served on every chain's port --------------------------


def _signed(chain, to: str, value: int, nonce: int = 0) -> str:
    signed = chain.w3.eth.account.sign_transaction(
        {
            "chainId": chain.chain_id,
            "nonce": nonce,
            "to": to,
            "value": value,
            "gas": 21_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        },
        chain.accounts[4].key,
    )
    return "0x" + bytes(signed.raw_transaction).hex()


def _call(chain, *params):
    return chain.rpc.handle(
        {"jsonrpc": "2.0", "id": 1, "method": "testbed_sendBundle", "params": list(params)}
    )


def test_send_bundle_over_rpc_commits_on_every_chain(devnet: Devnet) -> None:
    DevnetServer(devnet, port=0)
    a, c = devnet["A"], devnet["C"]
    payee = a.accounts[5].address
    answer = _call(
        c,
        [
            {"chainId": hex(a.chain_id), "raw": _signed(a, payee, 3)},
            {"chainId": hex(c.chain_id), "raw": _signed(c, payee, 4)},
        ],
    )
    result = answer["result"]
    assert [t["status"] for t in result["transactions"]] == ["0x1", "0x1"]
    assert result["blocks"] == {
        hex(a.chain_id): hex(a.block_number),
        hex(c.chain_id): hex(c.block_number),
    }
    assert a.timestamp == c.timestamp == int(result["timestamp"], 16)
    assert (a.get_balance(payee), c.get_balance(payee)) == (
        devnet["B"].get_balance(payee) + 3,
        devnet["B"].get_balance(payee) + 4,
    )


def test_send_bundle_over_rpc_failing_leg_rolls_back_and_names_it(devnet: Devnet) -> None:
    DevnetServer(devnet, port=0)
    a, b = devnet["A"], devnet["B"]
    heads = _heads(devnet)
    payee = a.accounts[5].address
    answer = _call(
        a,
        [
            {"chainId": hex(a.chain_id), "raw": _signed(a, payee, 3)},
            {"chainId": hex(b.chain_id), "raw": _signed(b, payee, 10**30)},  # cannot pay
        ],
        {"atomicExecution": True},
    )
    assert answer["error"]["code"] == 3
    assert answer["error"]["data"]["leg"] == 1
    assert answer["error"]["data"]["chainId"] == hex(b.chain_id)
    assert _heads(devnet) == heads


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([[]], "empty bundle"),
        ([[{"chainId": "0x1", "raw": "0x00"}]], "unknown chain 1"),
        ([[{"raw": "0x00"}]], "needs both chainId and raw"),
        ([[], {"atomic": True}], "atomic"),
        (["0x00"], "must be a list"),
    ],
    ids=["empty", "unknown-chain", "no-chain-id", "unknown-option", "not-a-list"],
)
def test_send_bundle_over_rpc_bad_params(devnet: Devnet, params: list, message: str) -> None:
    DevnetServer(devnet, port=0)
    answer = _call(devnet["A"], *params)
    assert answer["error"]["code"] == -32602
    assert message in answer["error"]["message"]
