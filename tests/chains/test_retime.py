"""An empty pending block re-timed on its own state behaves as one on a state built afresh.

When the clock moves past an empty pending block's timestamp the block is opened again
with the new time (``_open``); ``forget_preprocessing`` lets it keep its state (the old
header's beacon-root and parent-hash writes undone) instead of building one from the
head's root. Every action sequence here runs twice, with and without that, and every
read, every EIP-4788 beacon-root lookup (old and new timestamps) and every sealed
block's hash must be the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth.vm.forks.cancun.constants import BEACON_ROOTS_ADDRESS, BEACON_ROOTS_CONTRACT_CODE
from eth.vm.forks.prague.constants import HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CONTRACT_CODE
from hypothesis import given, settings
from hypothesis import strategies as st
from testing_helpers import devnet_step

import chains._blocks
from chains import Devnet, TransactionReverted
from chains._retime import forget_preprocessing

PROBE = Path(__file__).parent / "contracts" / "Probe.vy"

_ACTIONS = ["store", "fail", "set_storage", "advance", "mine", "snapshot", "revert"]
_ACTIONS += ["deposit", "read", "estimate"]


def _beacon_root(chain: Any, timestamp: int) -> str:
    """EIP-4788's contract asked for ``timestamp``'s root: the root, or its revert."""
    result = chain.simulate(to=BEACON_ROOTS_ADDRESS, data=timestamp.to_bytes(32, "big"))
    return "revert" if result.is_error else result.output.hex()


def _system_contracts(chain: Any) -> None:
    """Deploy EIP-4788's and EIP-2935's contracts (a devnet starts without them), so each
    block's preprocessing writes their storage."""
    chain.set_code(BEACON_ROOTS_ADDRESS, BEACON_ROOTS_CONTRACT_CODE)
    chain.set_code(HISTORY_STORAGE_ADDRESS, HISTORY_STORAGE_CONTRACT_CODE)
    chain.mine()


def _run(actions: list[tuple[str, int]], mining: str, is_bare: bool) -> list[Any]:
    devnet = Devnet(n_chains=1, seed=5, mining=mining)
    chain = devnet.chains[0]
    if not is_bare:
        _system_contracts(chain)
    probe = chain.deploy(PROBE, 7)
    chain.mine()
    sender = chain.accounts[1].address
    snapshots: list[int] = []
    seen: list[int] = []  # pending timestamps read so far
    trace: list[Any] = []
    for action, n in actions:
        if action == "store":
            probe.store(n if n != 13 else 14, sender=sender)
        elif action == "fail":
            with pytest.raises(TransactionReverted):
                probe.store(13, sender=sender)
        elif devnet_step(devnet, chain, probe, sender, snapshots, action, n):
            pass
        elif action == "estimate":
            trace.append(probe.store.estimate_gas(n + 20, sender=sender))
        context = probe.context()
        seen.append(context[1])
        trace.append((action, context, probe.stored(), probe.deposits(sender)))
        trace.append([_beacon_root(chain, t) for t in sorted(set(seen))[-4:]])
        trace.append(chain.get_storage_at(BEACON_ROOTS_ADDRESS, context[1] % 8191))
        trace.append(chain.get_storage_at(HISTORY_STORAGE_ADDRESS, chain.block_number % 8191))
    chain.mine()
    trace.append([chain.get_block(i).hash for i in range(chain.block_number + 1)])
    return trace


@given(
    actions=st.lists(
        st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 20)), min_size=1, max_size=14
    ),
    mining=st.sampled_from(["auto", "manual", "interval"]),
    is_bare=st.booleans(),
)
@settings(deadline=None, max_examples=40)
def test_re_timed_pending_block_matches_a_fresh_state(
    actions: list[tuple[str, int]], mining: str, is_bare: bool
) -> None:
    kept = _run(actions, mining, is_bare)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chains._blocks, "forget_preprocessing", lambda state: False)
        fresh = _run(actions, mining, is_bare)
    assert kept == fresh


@pytest.mark.parametrize("mining", ["auto", "manual", "interval"])
def test_re_timed_pending_block_forgets_the_old_beacon_root(
    mining: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    devnet = Devnet(n_chains=1, seed=5, mining=mining)
    chain = devnet.chains[0]
    _system_contracts(chain)
    probe = chain.deploy(PROBE, 7)
    chain.mine()
    kept: list[bool] = []

    def counting(state: Any) -> bool:
        kept.append(forget_preprocessing(state))
        return kept[-1]

    monkeypatch.setattr(chains._blocks, "forget_preprocessing", counting)
    _, before, _ = probe.context()
    state = chain._live_state
    assert _beacon_root(chain, before) != "revert"
    devnet.advance(30)
    _, after, _ = probe.context()
    assert after > before
    assert kept == [True]
    assert chain._live_state is state  # the same state, re-timed
    assert _beacon_root(chain, before) == "revert"  # as on a state built afresh
    assert _beacon_root(chain, after) != "revert"
    chain.mine()
    assert chain.get_block("latest").header.timestamp == after


def test_state_with_other_changes_is_not_re_timed(probe: Any, chain: Any) -> None:
    state = chain._state
    state.lock_changes()
    state.set_storage(chain._canonical(probe.address), 1, 5)
    assert not forget_preprocessing(state)
    state.lock_changes()
    assert not forget_preprocessing(state)  # a locked storage write
    assert not forget_preprocessing(None)


def test_state_with_an_open_snapshot_is_not_re_timed(chain: Any) -> None:
    state = chain._state
    snapshot = state.snapshot()
    state.set_balance(bytes(20), 5)
    assert not forget_preprocessing(state)
    state.revert(snapshot)
    assert forget_preprocessing(state)
