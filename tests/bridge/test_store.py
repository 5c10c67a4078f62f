"""MessageStore: schema, transactions, reopen after close, snapshots, errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bridge.store import MessageEvent, MessageRecord, MessageStore, StoreError

BIG = 2**256 - 1


def record(i: int, **changes: object) -> MessageRecord:
    base = {
        "id": f"0x{i:064x}",
        "source_chain_id": 31337,
        "dest_chain_id": 31338,
        "nonce": i,
        "sender": "0x" + "ab" * 20,
        "target": "0x" + "cd" * 20,
        "payload": bytes([i % 256]) * 40,
        "deadline": BIG,
        "sent_block": 3 + i,
        "sent_tx": "0x" + "ee" * 32,
        "status": "sent",
        "attempts": 0,
        "due_at": 100.0 + i,
        "sent_at": 90.0 + i,
    }
    base.update(changes)
    return MessageRecord(**base)  # type: ignore[arg-type]


def test_messages_round_trip_with_big_integers(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "relayer.sqlite")
    with store.transaction():
        assert store.add_message(record(1))
        assert not store.add_message(record(1, status="failed"))  # already known: unchanged
        store.add_message(record(2))
        store.set_cursor(31337, 12)
    assert store.get(record(1).id) == record(1)
    assert store.require(record(2).id).deadline == BIG
    assert [m.id for m in store.messages()] == [record(1).id, record(2).id]
    assert store.cursors() == {31337: 12}


def test_reopening_the_file_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "relayer.sqlite"
    store = MessageStore(path)
    with store.transaction():
        store.add_message(record(7))
        store.set_status(record(7).id, "executed", 150.0, due_at=None)
        store.add_event(MessageEvent(150.0, record(7).id, "executed", 31338, "0x01", ""))
        store.set_cursor(31338, 5)
    store.close()
    again = MessageStore(path)
    got = again.require(record(7).id)
    assert got.status == "executed" and got.executed_at == 150.0 and got.due_at is None
    assert got.latency == 150.0 - 97.0
    assert again.events() == [MessageEvent(150.0, record(7).id, "executed", 31338, "0x01", "")]
    assert again.get_cursor(31338) == 5 and again.get_cursor(1) is None


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    store = MessageStore(tmp_path / "r.sqlite")
    with pytest.raises(RuntimeError, match="boom"), store.transaction():
        store.add_message(record(1))
        store.set_cursor(31337, 9)
        raise RuntimeError("boom")
    assert store.messages() == [] and store.cursors() == {}


def test_nested_transactions_commit_once() -> None:
    store = MessageStore()
    with store.transaction():
        with store.transaction():
            store.add_message(record(1))
        store.add_message(record(2))
    assert store.count() == 2 and store.count("sent") == 2 and store.count("executed") == 0


def test_snapshot_and_restore() -> None:
    store = MessageStore()
    with store.transaction():
        store.add_message(record(1))
    snap = store.snapshot()
    with store.transaction():
        store.set_status(record(1).id, "relayed", 120.0)
        store.add_message(record(2))
    store.restore(snap)
    assert [m.status for m in store.messages()] == ["sent"]
    store.restore(snap)  # a snapshot stays usable
    assert store.count() == 1


def test_messages_filtered_by_status() -> None:
    store = MessageStore()
    with store.transaction():
        for i in range(4):
            store.add_message(record(i))
        store.set_status(record(2).id, "failed", 1.0, last_error="x")
    assert [m.nonce for m in store.messages(["failed"])] == [2]
    assert [m.nonce for m in store.messages(["sent", "failed"])] == [0, 1, 2, 3]


def test_bad_updates_are_errors() -> None:
    store = MessageStore()
    with pytest.raises(StoreError, match="unknown message"):
        store.update("0x00", attempts=1)
    with store.transaction():
        store.add_message(record(1))
    with pytest.raises(StoreError, match="unknown status 'lost'"):
        store.update(record(1).id, status="lost")
    with pytest.raises(StoreError, match="cannot update message column"):
        store.update(record(1).id, colour="red")
    with pytest.raises(StoreError, match="unknown message"):
        store.require("0x1234")


def test_fault_marks_live_outside_transactions() -> None:
    store = MessageStore()
    store.add_mark("a:after_submit")
    assert store.has_mark("a:after_submit") and not store.has_mark("b")
    with store.transaction(), pytest.raises(StoreError, match="outside relayer transactions"):
        store.add_mark("c")


def test_not_a_store_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a relayer store"):
        MessageStore(path)


def test_wrong_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    MessageStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    conn.close()
    with pytest.raises(StoreError, match="schema 99"):
        MessageStore(path)


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_cursors_and_hashes_roll_back_with_their_transaction(kind: str, tmp_path: Path) -> None:
    store = MessageStore(":memory:" if kind == "memory" else tmp_path / "r.sqlite")
    assert store.get_cursor(31337) is None and store.get_scanned_hash(31337) is None
    with store.transaction():
        store.set_cursor(31337, 4)
        store.set_scanned_hash(31337, "0x" + "aa" * 32)
        assert store.get_cursor(31337) == 4  # inside the transaction: what was written
    assert (store.get_cursor(31337), store.get_scanned_hash(31337)) == (4, "0x" + "aa" * 32)
    with pytest.raises(RuntimeError, match="boom"), store.transaction():
        store.set_cursor(31337, 9)
        store.set_cursor(31338, 1)
        store.set_scanned_hash(31337, "0x" + "bb" * 32)
        store.add_message(record(1))
        store.add_event(MessageEvent(1.0, record(1).id, "sent", 31337))
        raise RuntimeError("boom")
    assert (store.get_cursor(31337), store.get_scanned_hash(31337)) == (4, "0x" + "aa" * 32)
    assert store.cursors() == {31337: 4}
    assert store.messages() == [] and store.events() == []


def test_cursors_follow_a_restore() -> None:
    store = MessageStore()
    store.set_cursor(31337, 3)
    store.set_scanned_hash(31337, "0x01")
    snap = store.snapshot()
    store.set_cursor(31337, 8)
    store.set_cursor(31338, 2)
    store.set_scanned_hash(31337, "0x02")
    assert store.get_cursor(31338) == 2
    store.restore(snap)
    assert (store.get_cursor(31337), store.get_scanned_hash(31337)) == (3, "0x01")
    assert store.get_cursor(31338) is None


def test_a_snapshot_restores_only_into_its_own_kind_of_store(tmp_path: Path) -> None:
    memory, file = MessageStore(), MessageStore(tmp_path / "r.sqlite")
    with pytest.raises(StoreError, match="restores only a snapshot of one"):
        memory.restore(file.snapshot())
    with pytest.raises(StoreError, match="restores only a snapshot of a file store"):
        file.restore(memory.snapshot())


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_values_a_column_cannot_hold_are_errors(kind: str, tmp_path: Path) -> None:
    store = MessageStore(":memory:" if kind == "memory" else tmp_path / "r.sqlite")
    with pytest.raises(StoreError, match="unknown status 'lost'"):
        store.add_message(record(1, status="lost"))
    with pytest.raises(StoreError, match="sent_at must be a number"):
        store.add_message(record(1, sent_at=float("nan")))
    with pytest.raises(StoreError, match="sent_block must be a 64-bit integer"):
        store.add_message(record(1, sent_block=2**64))
    with pytest.raises(StoreError, match="chain id must be a 64-bit integer, got '1'"):
        store.get_cursor("1")  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="block hash must be text"):
        store.set_scanned_hash(1, b"\x01")  # type: ignore[arg-type]
    assert store.messages() == [] and store.cursors() == {}


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_values_come_back_as_sqlite_keeps_them(kind: str, tmp_path: Path) -> None:
    store = MessageStore(":memory:" if kind == "memory" else tmp_path / "r.sqlite")
    store.add_message(record(1, sent_at=90, due_at=-0.0, payload=bytearray(b"xy"), attempts=True))
    got = store.require(record(1).id)
    assert (repr(got.sent_at), repr(got.due_at), got.payload, repr(got.attempts)) == (
        "90.0",
        "0.0",
        b"xy",
        "1",
    )
    assert store.dump()["messages"][0][:5] == (0, record(1).id, 31337, 31338, "1")


def test_a_file_store_reads_cursors_another_connection_wrote(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    store = MessageStore(path)
    store.set_cursor(31337, 5)
    assert store.get_cursor(31337) == 5
    other = MessageStore(path)
    other.set_cursor(31337, 11)
    other.set_scanned_hash(31337, "0x0b")
    assert store.get_cursor(31337) == 11 and store.get_scanned_hash(31337) == "0x0b"
