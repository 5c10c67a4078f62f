"""EIP-1153 transient storage: ``chains._evm.DevTransientStorage`` against py-evm's class.

The devnet's state keeps transient slots in :class:`DevTransientStorage`, which reads
and writes py-evm's journal directly. Random operation sequences — reads and writes of
a few addresses and slots (valid, and invalid in each argument), checkpoints recorded
(fresh, reused), committed and discarded (recorded, unknown, the root), clears — run on
both classes: every answer or error (type and message) must be the same, and so must
the journal behind them (current values, rollback changesets, checkpoint stack, clears)
and every slot's value after each step.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth.db.journal import get_next_checkpoint
from eth.vm.transient_storage import TransientStorage
from hypothesis import example, given, note
from hypothesis import strategies as st

from chains import Devnet
from chains._evm import DevState, DevTransientStorage, StockState

ADDRESSES = [b"\x11" * 20, b"\x22" * 20]
SLOTS = [0, 1, 2**255, 2**256 - 1]
VALUES = [b"", b"\x00", b"\x01", b"\xff" * 32]


class _Bytes(bytes):
    """A bytes subclass: valid for py-evm's validators, off the plain path."""


BAD_ADDRESSES: list[Any] = [b"\x11" * 19, b"", "0x" + "11" * 20, bytearray(b"\x11" * 20), None]
BAD_SLOTS: list[Any] = [-1, 2**256, True, 1.0, b"\x01", None]
BAD_VALUES: list[Any] = [bytearray(b"\x01"), "01", 1, None, memoryview(b"\x01")]

addresses = st.one_of(
    st.sampled_from(ADDRESSES),
    st.sampled_from(ADDRESSES).map(_Bytes),
    st.sampled_from(BAD_ADDRESSES),
)
slots = st.one_of(st.sampled_from(SLOTS), st.integers(0, 2**256 - 1), st.sampled_from(BAD_SLOTS))
values = st.one_of(
    st.sampled_from(VALUES), st.binary(max_size=33), st.binary(max_size=4).map(_Bytes)
) | st.sampled_from(BAD_VALUES)

checkpoints = st.sampled_from(["old", "root", "unknown"])  # recorded, own root, never recorded
operations = st.lists(
    st.one_of(
        st.tuples(st.just("get"), addresses, slots),
        st.tuples(st.just("set"), addresses, slots, values),
        st.tuples(st.just("set"), st.sampled_from(ADDRESSES), st.sampled_from(SLOTS), values),
        st.tuples(st.just("record"), st.sampled_from(["new", "none", "old"]), st.integers(0, 9)),
        st.tuples(
            st.just("commit"), st.sampled_from(["old", "root", "unknown"]), st.integers(0, 9)
        ),
        st.tuples(
            st.just("discard"), st.sampled_from(["old", "root", "unknown"]), st.integers(0, 9)
        ),
        st.tuples(st.just("clear")),
    ),
    max_size=40,
)


def _outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(*args)
    except Exception as exc:  # the same error, type and message, on both
        return type(exc).__name__, str(exc)


def _journal(storage: Any, recorded: list[int]) -> tuple[Any, ...]:
    """The journal's whole state. Checkpoints the test gave are kept as they are; the
    journal's own (its root, a clear's, a record without one) differ between the two
    objects, made in step, so they are named by their rank."""
    journal = storage._db._journal
    own = sorted(
        {*journal._journal_data, *journal._checkpoint_stack, *journal._clears_at} - set(recorded)
    )
    name = {cp: f"own{rank}" for rank, cp in enumerate(own)}
    return (
        dict(journal._current_values),
        [(name.get(cp, cp), dict(changes)) for cp, changes in journal._journal_data.items()],
        [name.get(cp, cp) for cp in journal._checkpoint_stack],
        sorted(str(name.get(cp, cp)) for cp in journal._clears_at),
        journal._ignore_wrapped_db,
    )


@given(operations)
def test_transient_storage_matches_py_evm(ops: list[tuple[Any, ...]]) -> None:
    stock, fast = TransientStorage(), DevTransientStorage()
    roots = [s._db._journal.root_checkpoint for s in (stock, fast)]
    recorded: list[int] = []
    for op in ops:
        note(repr(op))
        kind = op[0]
        if kind == "get":
            results = [_outcome(s.get_transient_storage, op[1], op[2]) for s in (stock, fast)]
        elif kind == "set":
            results = [
                _outcome(s.set_transient_storage, op[1], op[2], op[3]) for s in (stock, fast)
            ]
        elif kind == "record":
            how, index = op[1], op[2]
            if how == "new" or (how == "old" and not recorded):
                checkpoint: Any = get_next_checkpoint()
                recorded.append(checkpoint)
            elif how == "none":
                checkpoint = None
            else:
                checkpoint = recorded[index % len(recorded)]
            results = [_outcome(s.record, checkpoint) for s in (stock, fast)]
        elif kind == "clear":
            results = [_outcome(s.clear) for s in (stock, fast)]
        else:
            how, index = op[1], op[2]
            if how == "old" and recorded:
                targets = [recorded[index % len(recorded)]] * 2
            elif how == "root":
                targets = roots
            else:
                targets = [get_next_checkpoint()] * 2
            results = [
                _outcome(getattr(s, kind), target)
                for s, target in zip((stock, fast), targets, strict=True)
            ]
            # an error naming the root names each object's own root checkpoint
            results = [
                (status, str(detail).replace(str(target), "<checkpoint>"))
                for (status, detail), target in zip(results, targets, strict=True)
            ]
        assert results[0] == results[1]
        assert _journal(stock, recorded) == _journal(fast, recorded)
        for address in ADDRESSES:
            for slot in SLOTS:
                assert _outcome(stock.get_transient_storage, address, slot) == _outcome(
                    fast.get_transient_storage, address, slot
                )


def test_transient_storage_reads_and_writes() -> None:
    storage = DevTransientStorage()
    address = ADDRESSES[0]
    assert storage.get_transient_storage(address, 7) == b""
    storage.set_transient_storage(address, 7, b"\x2a")
    assert storage.get_transient_storage(address, 7) == b"\x2a"
    checkpoint = get_next_checkpoint()
    storage.record(checkpoint)
    storage.set_transient_storage(address, 7, b"\x2b")
    storage.discard(checkpoint)
    assert storage.get_transient_storage(address, 7) == b"\x2a"
    storage.clear()
    assert storage.get_transient_storage(address, 7) == b""


@pytest.mark.parametrize(
    ("address", "slot", "value", "message"),
    [
        (b"\x11" * 19, 0, b"", "is not a valid canonical address"),
        (ADDRESSES[0], -1, b"", "Value cannot be negative: Got: -1"),
        (ADDRESSES[0], 2**256, b"", "Value exceeds maximum uint256 size"),
        (ADDRESSES[0], True, b"", "Value must be an integer"),
        (ADDRESSES[0], 0, bytearray(b"\x01"), "Value must be a byte string"),
    ],
    ids=["short-address", "negative-slot", "slot-too-big", "bool-slot", "bytearray-value"],
)
def test_transient_storage_rejects_bad_input(
    address: Any, slot: Any, value: Any, message: str
) -> None:
    with pytest.raises(Exception, match=message) as fast:
        DevTransientStorage().set_transient_storage(address, slot, value)
    with pytest.raises(Exception, match=message) as stock:
        TransientStorage().set_transient_storage(address, slot, value)
    assert type(fast.value) is type(stock.value)


def test_devnet_state_uses_the_fast_class() -> None:
    assert DevState._transient_storage_class is DevTransientStorage
    assert StockState._transient_storage_class is TransientStorage  # the reference loop's
    chain = Devnet(n_chains=1, seed=3).chains[0]
    assert type(chain._state.transient_storage) is DevTransientStorage


state_operations = st.lists(
    st.one_of(
        st.tuples(st.just("balance"), st.sampled_from(ADDRESSES), st.integers(0, 10**18)),
        st.tuples(
            st.just("storage"), st.sampled_from(ADDRESSES), st.integers(0, 3), st.integers(0, 9)
        ),
        st.tuples(st.just("transient"), st.sampled_from(ADDRESSES), st.sampled_from(SLOTS), values),
        st.tuples(st.just("snapshot")),
        st.tuples(st.just("snapshot")),
        st.tuples(st.just("root")),
        st.tuples(st.sampled_from(["commit", "revert"]), st.integers(0, 9)),
        st.tuples(st.sampled_from(["commit", "revert"]), st.integers(0, 9)),
    ),
    min_size=4,
    max_size=30,
)


def test_a_revert_restores_transient_slots_and_storage() -> None:
    state = Devnet(n_chains=1, seed=3).chains[0]._state
    address = ADDRESSES[0]
    state.set_transient_storage(address, 1, b"\x01")
    state.set_storage(address, 1, 4)
    snapshot = state.snapshot()
    state.set_transient_storage(address, 1, b"\x02")
    state.set_storage(address, 1, 5)
    state.revert(snapshot)
    assert state.get_transient_storage(address, 1) == b"\x01"
    assert state.get_storage(address, 1) == 4
    assert state.state_root == snapshot[0]
    inner = state.snapshot()
    state.commit(inner)
    assert inner[1] not in state.transient_storage._db._journal._checkpoint_stack


def _read(state: Any) -> tuple[Any, ...]:
    return tuple(
        (
            state.get_balance(address),
            [state.get_storage(address, slot) for slot in range(4)],
            [state.get_transient_storage(address, slot) for slot in SLOTS],
        )
        for address in ADDRESSES
    )


@given(state_operations)
@example(  # a bytes subclass set twice across a snapshot, then the snapshot reverted
    [
        ("transient", ADDRESSES[0], 0, _Bytes(b"")),
        ("snapshot",),
        ("transient", ADDRESSES[0], 0, _Bytes(b"")),
        ("revert", 0),
    ]
)
def test_state_checkpoints_match_cancuns(ops: list[tuple[Any, ...]]) -> None:
    """``DevState.snapshot``, ``commit`` and ``revert`` against CancunState's own, on two
    states of the same chain: the same values (balances, storage, transient slots) after
    every step and the same state root at the end."""
    from eth.vm.forks.cancun.state import CancunState

    states = [Devnet(n_chains=1, seed=3).chains[0]._state for _ in range(2)]
    assert all(type(state) is DevState for state in states)
    methods = [
        (DevState.snapshot, DevState.commit, DevState.revert),
        (CancunState.snapshot, CancunState.commit, CancunState.revert),
    ]
    open_snapshots: list[list[Any]] = [[], []]
    for op in ops:
        note(repr(op))
        kind = op[0]
        if kind in ("commit", "revert") and not open_snapshots[0]:
            continue
        outcomes = []
        for state, (snapshot, commit, revert), opened in zip(
            states, methods, open_snapshots, strict=True
        ):
            if kind == "balance":
                state.set_balance(op[1], op[2])
            elif kind == "storage":
                state.set_storage(op[1], op[2], op[3])
            elif kind == "transient":
                outcomes.append(_outcome(state.set_transient_storage, op[1], op[2], op[3]))
            elif kind == "snapshot":
                opened.append(snapshot(state))
            elif kind == "root":  # persists: only with no snapshot open (else py-evm's error)
                if not opened:
                    state.make_state_root()
            else:
                # py-evm's journal refuses to roll back to a value that is a bytes subclass
                # (which its validators let in): the same error on both
                index = op[1] % len(opened)
                outcomes.append(
                    _outcome(commit if kind == "commit" else revert, state, opened[index])
                )
                del opened[index:]
        assert outcomes[:1] == outcomes[1:]
        assert _read(states[0]) == _read(states[1])
        assert states[0].state_root == states[1].state_root
        journals = [state.transient_storage._db._journal for state in states]
        assert [len(j._checkpoint_stack) for j in journals] == [
            len(j._checkpoint_stack) for j in reversed(journals)
        ]
    assert states[0].make_state_root() == states[1].make_state_root()
