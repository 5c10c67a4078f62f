"""The in-memory store's Python tables against a file store (SQLite), differentially.

Both stores get the same random operation sequences — adds, updates, status moves,
cursors, scanned hashes, events, fault marks, transactions that commit or raise (nested
too, an inner one's error caught inside the outer), snapshots (also refused inside a
transaction) and restores — including the odd values SQLite would convert on its own
(ints in REAL columns, -0.0, NaN, bools, text chain ids, non-text hashes, huge integers):
every operation's result or error and every read afterwards (``repr``: types included)
and ``dump()`` must be the same.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridge.store import (
    STATUSES,
    MessageEvent,
    MessageRecord,
    MessageStore,
    _PythonTables,
    _SqliteTables,
)

IDS = [f"0x{i:04x}" for i in range(6)]
CHAINS = [1, 2, 31337]


class Boom(Exception):
    """Raised inside a transaction to roll it back."""


class Inner(Exception):
    """Raised inside a nested transaction and caught inside the outer one."""


def outcome(fn: Callable[[], Any]) -> str:
    """``repr`` of what ``fn`` returns, or of the error it raises (type and message)."""
    try:
        return "ok " + repr(fn())
    except Boom:
        raise
    except Exception as exc:
        return f"error {type(exc).__name__}: {exc}"


def odd_time(rng: random.Random) -> Any:
    return rng.choice([rng.uniform(0, 1e4), rng.randrange(10**6), 0.0, -0.0, float("nan"), None])


def a_record(rng: random.Random) -> MessageRecord:
    i = rng.randrange(len(IDS))
    fields: dict[str, Any] = {
        "id": IDS[i],
        "source_chain_id": rng.choice(CHAINS),
        "dest_chain_id": rng.choice(CHAINS),
        "nonce": rng.choice([i, 2**256 - 1, 0]),
        "sender": "0x" + "ab" * 20,
        "target": "0x" + "cd" * 20,
        "payload": rng.randbytes(rng.randrange(0, 70)),
        "deadline": rng.choice([2**256 - 1, 10**9]),
        "sent_block": rng.randrange(100) if rng.random() < 0.9 else rng.choice([2**63, -1, 1.0]),
        "sent_tx": "0x" + rng.randbytes(32).hex(),
        "status": rng.choice([*STATUSES, "bogus"]) if rng.random() < 0.2 else "sent",
        "attempts": rng.choice([0, 1, True]) if rng.random() < 0.2 else 0,
        "due_at": rng.uniform(0, 1e4) if rng.random() < 0.8 else odd_time(rng),
        "sent_at": rng.uniform(0, 1e4) if rng.random() < 0.8 else odd_time(rng),
        "relay_tx": rng.choice([None, "0x12", "a\x00b"]),
        "last_error": rng.choice([None, "", "boom"]),
    }
    return MessageRecord(**fields)


def some_changes(rng: random.Random) -> dict[str, Any]:
    pool: list[tuple[str, Callable[[], Any]]] = [
        ("attempts", lambda: rng.choice([1, 2, 7, True, 2.0, "3"])),
        ("due_at", lambda: odd_time(rng)),
        ("relay_tx", lambda: rng.choice([None, "0x" + "11" * 32, 5])),
        ("last_error", lambda: rng.choice([None, "reverted", ""])),
        ("eligible_at", lambda: odd_time(rng)),
        ("executed_at", lambda: odd_time(rng)),
        ("nonce", lambda: rng.choice([3, 2**255])),
        ("payload", lambda: rng.choice([b"", b"\x01\x02", bytearray(b"xy")])),
        ("status", lambda: rng.choice([*STATUSES, "bogus"])),
        ("sent_at", lambda: odd_time(rng)),
        ("colour", lambda: "red"),
        ("id", lambda: "0x00"),
    ]
    picked = rng.sample(pool, rng.randrange(0, 4))
    return {name: make() for name, make in picked}


def reads(store: MessageStore) -> list[str]:
    out = [outcome(lambda i=i: store.get(i)) for i in [*IDS, "0xnope"]]  # type: ignore[misc]
    for statuses in (None, ["sent"], ("relayed", "failed", "eligible"), [], {"executed"}):
        out.append(outcome(lambda s=statuses: store.messages(s)))  # type: ignore[misc]
    for status in (None, *STATUSES):
        out.append(outcome(lambda s=status: store.count(s)))  # type: ignore[misc]
    out.append(outcome(store.cursors))
    for chain in [*CHAINS, 9, True, "1", 2**64]:
        out.append(outcome(lambda c=chain: store.get_cursor(c)))  # type: ignore[misc]
        out.append(outcome(lambda c=chain: store.get_scanned_hash(c)))  # type: ignore[misc]
    out.append(outcome(store.events))
    out.append(outcome(lambda: store.events(IDS[0])))
    out.append(outcome(lambda: [store.has_mark(k) for k in ("a", "b")]))
    out.append(outcome(store.dump))
    return out


def one_op(store: MessageStore, rng: random.Random) -> str:
    """One random write (the same ``rng`` state gives the same operation on each store)."""
    kind = rng.randrange(10)
    if kind == 0:
        rec = a_record(rng)
        return outcome(lambda: store.add_message(rec))
    if kind == 1:
        mid, changes = rng.choice([*IDS, "0xnope"]), some_changes(rng)
        return outcome(lambda: store.update(mid, **changes))
    if kind == 2:
        mid, status, time = rng.choice(IDS), rng.choice([*STATUSES, "bogus"]), odd_time(rng)
        extra = {"attempts": 2} if rng.random() < 0.3 else {}
        return outcome(lambda: store.set_status(mid, status, time, **extra))  # type: ignore[arg-type]
    if kind == 3:
        chain = rng.choice([*CHAINS, True, "2", 2.0])
        block = rng.choice([rng.randrange(1000), 7.5, "12", True])
        return outcome(lambda: store.set_cursor(chain, block))  # type: ignore[arg-type]
    if kind == 4:
        chain = rng.choice([*CHAINS, True, "2"])
        value = rng.choice(["0x" + rng.randbytes(32).hex(), 5, 1.5, b"\x01"])
        return outcome(lambda: store.set_scanned_hash(chain, value))  # type: ignore[arg-type]
    if kind == 5:
        event = MessageEvent(
            rng.choice([1.5, 2, -0.0]),
            rng.choice(IDS),
            rng.choice(STATUSES),
            rng.choice(CHAINS),
            rng.choice([None, "0xaa"]),
            rng.choice(["", "x"]),
        )
        return outcome(lambda: store.add_event(event))
    if kind == 6:
        key = rng.choice(["a", "b"])
        return outcome(lambda: store.add_mark(key))
    if kind == 7:
        return outcome(lambda: store.messages(rng.choice(STATUSES) for _ in range(2)))  # type: ignore[arg-type]
    if kind == 8:
        status = rng.choice([None, "sent", "bogus", 1])
        return outcome(lambda: store.count(status))  # type: ignore[arg-type]
    return outcome(lambda: store.snapshot() is not None)


def a_transaction(store: MessageStore, rng: random.Random) -> list[str]:
    """A few operations in a transaction (sometimes nested), then commit or roll back."""
    log: list[str] = []
    fail = rng.random() < 0.5
    try:
        with store.transaction():
            for _ in range(rng.randrange(1, 5)):
                if rng.random() < 0.1:
                    try:
                        with store.transaction():
                            log.append(one_op(store, rng))
                            raise Inner
                    except Inner:
                        log.append("inner error caught")
                elif rng.random() < 0.2:
                    with store.transaction():
                        log.append(one_op(store, rng))
                else:
                    log.append(one_op(store, rng))
                log.extend(reads(store))
            if fail:
                raise Boom
    except Boom:
        log.append("rolled back")
    return log


@pytest.mark.parametrize("seed", range(30))
def test_python_tables_do_what_sqlite_does(seed: int, tmp_path: Path) -> None:
    mem, disk = MessageStore(":memory:"), MessageStore(tmp_path / "relayer.db")
    assert isinstance(mem._tables, _PythonTables) and isinstance(disk._tables, _SqliteTables)
    snapshots: list[tuple[Any, Any]] = []
    for step in range(60):
        choice = random.Random(f"{seed}/{step}").random()
        logs = []
        for store, slot in ((mem, 0), (disk, 1)):
            rng = random.Random(f"{seed}/{step}/op")
            if choice < 0.2:
                logs.append(a_transaction(store, rng))
            elif choice < 0.27:
                if slot == 0:
                    snapshots.append((mem.snapshot(), disk.snapshot()))
                logs.append(["snapshot"])
            elif choice < 0.34 and snapshots:
                pick = rng.randrange(len(snapshots))
                store.restore(snapshots[pick][slot])
                logs.append(["restored"])
            else:
                logs.append([one_op(store, rng)])
            logs[-1].extend(reads(store))
        assert logs[0] == logs[1], f"seed {seed} step {step}"
    mem.close()
    disk.close()
