"""A transaction's finalization (``DevExecutor.finalize_computation``) against py-evm's parts.

EIP-161's touched accounts and the self-destructed accounts are collected from the call
tree in one walk when no frame has a self-destruct beneficiary or an account to delete;
py-evm's recursive methods are used otherwise. Random trees of real computation objects
(errors anywhere, RIPEMD160, creates, beneficiaries and deletions on a few frames) must
give py-evm's sets and lists, and the touched accounts in the order the full walk adds
them (the order the state clears them in). The gas price is the transaction context's,
computed without building the context unless the state's method is replaced.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from eth.exceptions import Revert
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.spurious_dragon._utils import collect_touched_accounts
from hypothesis import given, note
from hypothesis import strategies as st

import chains._evm as _evm
from chains import Devnet
from chains._evm import (
    _is_overridden,
    _touch,
    accounts_for_deletion,
    touched_accounts,
)

COINBASE = b"\xcc" * 20
ADDRESSES = [
    b"",  # a create
    b"\x00" * 19 + b"\x03",  # RIPEMD160
    b"\x00" * 19 + b"\x01",
    COINBASE,
    b"\x11" * 20,
    b"\x22" * 20,
    b"\x33" * 20,
]
_STATE = SimpleNamespace(coinbase=COINBASE)


def _frame(
    to: bytes, is_error: bool, beneficiaries: list[bytes], deletions: list[bytes], children: list
) -> Any:
    """A Prague computation with the fields the collections read, no constructor run."""
    computation = PragueComputation.__new__(PragueComputation)
    computation.state = _STATE
    computation.msg = SimpleNamespace(to=to)
    computation._error = Revert(b"") if is_error else None
    computation.beneficiaries = beneficiaries
    computation.accounts_to_delete = deletions
    computation.children = children
    return computation


addresses = st.sampled_from(ADDRESSES)
rare_lists = st.one_of(st.just([]), st.just([]), st.just([]), st.lists(addresses, max_size=3))
frames = st.recursive(
    st.builds(_frame, addresses, st.booleans(), rare_lists, rare_lists, st.just([])),
    lambda children: st.builds(
        _frame, addresses, st.booleans(), rare_lists, rare_lists, st.lists(children, max_size=4)
    ),
    max_leaves=16,
)
#: trees without beneficiaries or deletions: the one-walk path throughout
plain_frames = st.recursive(
    st.builds(_frame, addresses, st.booleans(), st.just([]), st.just([]), st.just([])),
    lambda children: st.builds(
        _frame, addresses, st.booleans(), st.just([]), st.just([]), st.lists(children, max_size=4)
    ),
    max_leaves=16,
)
trees = st.one_of(frames, plain_frames)


@given(trees)
def test_touched_accounts_match_py_evm(tree: Any) -> None:
    full: set[bytes] = set()
    _touch(tree, False, full)  # the walk through py-evm's get_self_destruct_beneficiaries
    touched = touched_accounts(tree)
    note(f"touched {touched}")
    assert touched == collect_touched_accounts(tree)
    assert list(touched) == list(full)  # the same order: the accounts are cleared in it


@given(trees)
def test_accounts_for_deletion_match_py_evm(tree: Any) -> None:
    assert accounts_for_deletion(tree) == tree.get_accounts_for_deletion()


def test_plain_tree_touches_recipients_and_coinbase() -> None:
    """No beneficiaries, no deletions: the recipients outside failed frames, the coinbase."""
    ok, failed = b"\x11" * 20, b"\x22" * 20
    child_of_failed = _frame(b"\x33" * 20, False, [], [], [])
    tree = _frame(ok, False, [], [], [_frame(failed, True, [], [], [child_of_failed])])
    assert touched_accounts(tree) == {COINBASE, ok}
    assert accounts_for_deletion(tree) == []


def test_ripemd160_is_touched_inside_a_failed_frame() -> None:
    """EIP-716's special case (the geth/parity bug py-evm keeps): RIPEMD160 is touched
    even when its frame, or an ancestor, failed."""
    ripemd = b"\x00" * 19 + b"\x03"
    tree = _frame(b"\x11" * 20, True, [], [], [_frame(ripemd, False, [], [], [])])
    assert touched_accounts(tree) == {COINBASE, ripemd}
    assert touched_accounts(tree) == collect_touched_accounts(tree)


def test_a_deletion_deep_in_the_tree_is_found() -> None:
    doomed = b"\x33" * 20
    tree = _frame(b"\x11" * 20, False, [], [], [_frame(b"\x22" * 20, False, [], [doomed], [])])
    assert accounts_for_deletion(tree) == [doomed]
    errored = _frame(b"\x11" * 20, True, [], [], [_frame(b"\x22" * 20, False, [], [doomed], [])])
    assert accounts_for_deletion(errored) == []  # py-evm's: an errored frame deletes nothing


def _run_transfers(fees: list[tuple[int, int, int | None]]) -> list[Any]:
    """Transfers at the given (tip, fee cap, legacy gas price) on a fresh devnet: each
    receipt's gas and status, the sender's and the coinbase's balances, the state root."""
    chain = Devnet(n_chains=1, seed=5).chains[0]
    sender, recipient = chain.accounts[0].address, chain.accounts[1].address
    base_fee = chain.base_fee
    seen: list[Any] = []
    for tip, extra, gas_price in fees:
        if gas_price is None:
            fields: dict[str, Any] = {
                "max_priority_fee_per_gas": min(tip, base_fee + extra),
                "max_fee_per_gas": base_fee + extra,
            }
        else:
            fields = {"gas_price": base_fee + gas_price}
        tx = chain.sign_transaction(sender=sender, to=recipient, value=1, gas=30_000, **fields)
        chain.submit(tx)
        chain.mine()
        block = chain.blocks[-1]
        coinbase = block.header.coinbase
        seen.append(
            (block.hash, block.receipts, chain.get_balance(sender), chain.get_balance(coinbase))
        )
        base_fee = chain.base_fee
    return seen


@given(
    st.lists(
        st.tuples(
            st.integers(0, 3 * 10**9),
            st.integers(0, 3 * 10**9),
            st.one_of(st.none(), st.integers(0, 2 * 10**9)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_gas_price_is_the_transaction_contexts(fees: list[tuple[int, int, int | None]]) -> None:
    """Refunds and tips priced without building the context give the same balances and
    blocks as priced by the context py-evm builds (the path taken when the state's
    method is replaced)."""
    direct = _run_transfers(fees)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_evm, "_CANCUN_CONTEXT", None)  # always ask the state for the context
        through_context = _run_transfers(fees)
    assert direct == through_context


def test_an_overridden_transaction_context_is_detected() -> None:
    """py-evm's ``override_transaction_context`` replaces the method on the instance: the
    finalization then asks it."""
    state = Devnet(n_chains=1, seed=5).chains[0]._state
    assert not _is_overridden(state)
    with state.override_transaction_context(gas_price=7):
        assert _is_overridden(state)
    assert not _is_overridden(state)
