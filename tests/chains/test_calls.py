"""Reads (``simulate``/``call``) against the state they run on: the read memo is invisible.

A read whose state is fixed by a key (a sealed block's hash; the head's hash and the
pending header while nothing is included) is answered from a memo the second time. Each
read here is compared with the same read executed afresh (memo emptied) on the same
state, after any mix of transactions, dev writes, time moves, blocks, snapshots and
reverts, under each mining mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testing_helpers import devnet_step

from chains import Chain, Contract, Devnet, TransactionReverted

PROBE = Path(__file__).parent / "contracts" / "Probe.vy"

_ACTIONS = ["store", "fail", "set_storage", "set_balance", "advance", "mine", "snapshot"]
_ACTIONS += ["revert", "deposit", "read", "read_latest", "read_block"]


def _fresh(chain: Chain, **call: Any) -> Any:
    """The read executed with the memo emptied (then the memo is put back)."""
    kept = chain._read_memo
    chain._read_memo = {}
    try:
        return chain.simulate(**call)
    finally:
        chain._read_memo = kept


def _reads(chain: Chain, probe: Contract, sender: str, block: int | str) -> list[Any]:
    calls = [
        {"to": probe.address, "data": probe.stored.encode()},
        {"to": probe.address, "data": probe.context.encode()},
        {"to": probe.address, "data": probe.deposits.encode(sender)},
        {"to": probe.address, "data": probe.double.encode(500)},  # reverts
        {"to": probe.address, "data": probe.store.encode(5), "sender": sender},  # logs
        {"to": probe.address, "data": probe.deposit.encode(), "value": 3, "sender": sender},
    ]
    out = []
    for call in calls:
        memo = chain.simulate(block=block, **call)
        again = chain.simulate(block=block, **call)
        assert memo == again == _fresh(chain, block=block, **call)
        out.append(memo)
    return out


@given(
    actions=st.lists(
        st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 20)), min_size=1, max_size=12
    ),
    mining=st.sampled_from(["auto", "manual", "interval"]),
)
@settings(deadline=None, max_examples=40)
def test_memoised_reads_match_fresh_reads(actions: list[tuple[str, int]], mining: str) -> None:
    devnet = Devnet(n_chains=1, seed=5, mining=mining)
    chain = devnet.chains[0]
    probe = chain.deploy(PROBE, 7)
    chain.mine()
    sender = chain.accounts[1].address
    snapshots: list[int] = []
    for action, n in actions:
        if action == "store":
            probe.store(n if n != 13 else 14, sender=sender)
        elif action == "fail":  # a transaction that reverts (mined all the same)
            with pytest.raises(TransactionReverted):
                probe.store(13, sender=sender)
        elif action == "set_balance":
            chain.set_balance(sender, 10**21 + n)
        elif devnet_step(devnet, chain, probe, sender, snapshots, action, n):
            pass
        elif action == "read_latest":
            _reads(chain, probe, sender, "latest")
        elif action == "read_block":
            _reads(chain, probe, sender, n % (chain.block_number + 1))
        _reads(chain, probe, sender, "pending")


def test_repeated_read_is_served_from_the_memo(chain: Chain, probe: Contract) -> None:
    data = probe.stored.encode()
    first = chain.simulate(to=probe.address, data=data)
    assert chain.simulate(to=probe.address, data=data) is first
    assert probe.stored() == 7


def test_read_after_a_write_sees_the_write(chain: Chain, probe: Contract) -> None:
    assert probe.stored() == 7
    probe.store(8)
    assert probe.stored() == 8
    chain.set_storage_at(probe.address, 1, 9)
    assert probe.stored() == 9
    sid = chain.snapshot()
    probe.store(10)
    assert probe.stored() == 10
    chain.revert(sid)
    assert probe.stored() == 9


def test_pending_block_with_transactions_is_read_afresh() -> None:
    chain = Devnet(n_chains=1, seed=5, mining="manual").chains[0]
    probe = chain.deploy(PROBE, 7)
    chain.mine()
    assert probe.stored() == 7
    kept = len(chain._read_memo)
    probe.store(8)  # in the pending block, not sealed
    assert probe.stored() == 8
    assert probe.stored() == 8
    assert len(chain._read_memo) == kept


@pytest.mark.parametrize("mining", ["auto", "manual", "interval"])
def test_read_after_the_clock_moves_sees_the_re_timed_pending_block(mining: str) -> None:
    devnet = Devnet(n_chains=1, seed=5, mining=mining)
    chain = devnet.chains[0]
    probe = chain.deploy(PROBE, 7)
    chain.mine()
    number, before, _ = probe.context()
    assert probe.context() == (number, before, chain.chain_id)  # from the memo
    devnet.advance(30)
    moved = probe.context()  # the memo's key was the old pending header's
    assert moved[0] == number
    assert moved[1] > before
    call = {"to": probe.address, "data": probe.context.encode()}
    assert chain.simulate(**call) == _fresh(chain, **call)


@pytest.mark.parametrize("mining", ["auto", "manual", "interval"])
def test_known_read_opens_no_state(mining: str, monkeypatch: pytest.MonkeyPatch) -> None:
    chain = Devnet(n_chains=1, seed=5, mining=mining).chains[0]
    probe = chain.deploy(PROBE, 7)
    chain.mine()
    chain.mine()
    data = probe.stored.encode()
    pending = chain.simulate(to=probe.address, data=data)
    sealed = chain.simulate(to=probe.address, data=data, block=1)
    opened: list[Any] = []
    monkeypatch.setattr(chain, "_open", lambda *a: opened.append(a))
    monkeypatch.setattr(chain._vm_class, "build_state", lambda *a: opened.append(a))
    assert chain.simulate(to=probe.address, data=data) is pending
    assert chain.simulate(to=probe.address, data=data, block=1) is sealed
    assert opened == []
