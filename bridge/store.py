"""The relayer's durable state: cursors, messages and their lifecycle events.

A store with a path is an SQLite file (it survives a restart); ``":memory:"``, a run's
store, keeps the same tables in Python dicts and lists, with the same results.

Tables (schema version 1):

* ``cursors(chain_id, next_block)`` — the next block of each chain the relayer will scan.
* ``messages`` — one row per observed message: its fields, its status (:data:`STATUSES`),
  the time of each transition, the number of delivery attempts, when its next action is
  due and the last error. Big integers (nonce, deadline: uint256) are stored as decimal
  text so no value is ever truncated.
* ``events`` — the append-only lifecycle log (:class:`MessageEvent`): the data scenarios
  read for latency and capital in flight.
* ``fault_marks`` — which injected crashes already fired (see :mod:`bridge.faults`).

Every change the relayer makes for one observation or one action is one
transaction (:meth:`MessageStore.transaction`), so a crash leaves either all of it or none.
A file store uses WAL journaling with ``synchronous=NORMAL``: durable against the process
dying at any point (the failure this relayer is built for); on power loss the newest
commits may be lost, which the relayer recovers from anyway by re-reading the chains
from the (equally rolled-back) cursors.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak, to_checksum_address

__all__ = [
    "ACTIVE_STATUSES",
    "STATUSES",
    "MessageEvent",
    "MessageRecord",
    "MessageStatus",
    "MessageStore",
    "StoreError",
    "TokenTransfer",
]

MessageStatus = Literal[
    "sent", "eligible", "relayed", "executed", "failed", "expired", "refunded", "orphaned"
]
#: Every status a message can have, in lifecycle order. ``orphaned``: a reorg took the
#: block that sent it off the source chain before it was relayed; the relayer observes it
#: again (back to ``sent``) if it reappears on the new chain.
STATUSES: tuple[MessageStatus, ...] = get_args(MessageStatus)
#: Statuses of a message still in flight (not executed, not refunded).
ACTIVE_STATUSES: tuple[MessageStatus, ...] = ("sent", "eligible", "relayed", "failed", "expired")

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (
    chain_id INTEGER PRIMARY KEY,
    next_block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER NOT NULL UNIQUE,
    id TEXT PRIMARY KEY,
    source_chain_id INTEGER NOT NULL,
    dest_chain_id INTEGER NOT NULL,
    nonce TEXT NOT NULL,
    sender TEXT NOT NULL,
    target TEXT NOT NULL,
    payload BLOB NOT NULL,
    deadline TEXT NOT NULL,
    sent_block INTEGER NOT NULL,
    sent_tx TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL,
    sent_at REAL NOT NULL,
    eligible_at REAL,
    relayed_at REAL,
    executed_at REAL,
    failed_at REAL,
    expired_at REAL,
    refunded_at REAL,
    relay_tx TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS messages_status ON messages (status);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    chain_id INTEGER NOT NULL,
    tx_hash TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS fault_marks (key TEXT PRIMARY KEY);
"""


class StoreError(Exception):
    """The store file is unusable (wrong schema, unknown message, bad status)."""


#: Selector of ``TokenBridge.receive_tokens``: the payload of every token message.
RECEIVE_TOKENS = keccak(text="receive_tokens(uint256,address,address,address,uint256)")[:4]


class TokenTransfer(NamedTuple):
    """What a token message carries (its ``receive_tokens`` arguments)."""

    home_chain_id: int
    home_token: str
    original_sender: str
    recipient: str
    amount: int


@dataclass(frozen=True)
class MessageRecord:
    """One message as the relayer knows it (a row of ``messages``)."""

    id: str
    source_chain_id: int
    dest_chain_id: int
    nonce: int
    sender: str
    target: str
    payload: bytes
    deadline: int
    sent_block: int
    sent_tx: str
    status: MessageStatus
    attempts: int
    due_at: float | None
    sent_at: float
    eligible_at: float | None = None
    relayed_at: float | None = None
    executed_at: float | None = None
    failed_at: float | None = None
    expired_at: float | None = None
    refunded_at: float | None = None
    relay_tx: str | None = None
    last_error: str | None = None

    @property
    def lane(self) -> tuple[int, int]:
        return (self.source_chain_id, self.dest_chain_id)

    @property
    def is_in_flight(self) -> bool:
        """Sent but neither executed nor refunded yet."""
        return self.status in ACTIVE_STATUSES

    @property
    def token_transfer(self) -> TokenTransfer | None:
        """The tokens this message moves, if it is a token-bridge message (for capital in
        flight); ``None`` for any other payload."""
        if self.payload[:4] != RECEIVE_TOKENS:
            return None
        try:
            chain_id, token, sender, recipient, amount = decode(
                ["uint256", "address", "address", "address", "uint256"], self.payload[4:]
            )
        except DecodingError:
            return None
        return TokenTransfer(
            chain_id,
            to_checksum_address(token),
            to_checksum_address(sender),
            to_checksum_address(recipient),
            amount,
        )

    @property
    def latency(self) -> float | None:
        """Seconds from send to execution on the destination, once executed."""
        return None if self.executed_at is None else self.executed_at - self.sent_at


@dataclass(frozen=True)
class MessageEvent:
    """One lifecycle transition: when, which message, what it became, where, which tx."""

    time: float
    id: str
    status: str
    chain_id: int
    tx_hash: str | None = None
    detail: str = ""


_COLUMNS = tuple(f.name for f in fields(MessageRecord))
_BIG = {"nonce", "deadline"}
#: The time column of each status (``orphaned`` has none: its time is in the events log).
_TIME_OF: dict[str, str] = {s: f"{s}_at" for s in STATUSES if s != "orphaned"}


# -- values at the edge ----------------------------------------------------------------------
#
# Both kinds of store take exactly the values below and give them back as SQLite would
# (an int time comes back a float, -0.0 as 0.0, a bytearray payload as bytes); anything else
# is a StoreError naming the column, so the Python tables never have to guess what SQLite
# would have made of an odd value.

#: SQLite's INTEGER range.
_INT64 = range(-(2**63), 2**63)

#: How each message column is checked: "integer" (64-bit), "big" (any integer, stored as
#: decimal text), "text", "blob", "real", "status"; a trailing "?" allows ``None``.
_KIND: dict[str, str] = {
    "id": "text",
    "source_chain_id": "integer",
    "dest_chain_id": "integer",
    "nonce": "big",
    "sender": "text",
    "target": "text",
    "payload": "blob",
    "deadline": "big",
    "sent_block": "integer",
    "sent_tx": "text",
    "status": "status",
    "attempts": "integer",
    "due_at": "real?",
    "sent_at": "real",
    **{column: "real?" for column in _TIME_OF.values() if column != "sent_at"},
    "relay_tx": "text?",
    "last_error": "text?",
}


def _check(name: str, kind: str, value: Any) -> Any:
    """``value`` as the store keeps it, or a :class:`StoreError` if ``kind`` refuses it."""
    if value is None and kind.endswith("?"):
        return None
    kind = kind.rstrip("?")
    if kind == "text":
        if isinstance(value, str):
            return value
    elif kind == "real":
        # SQLite keeps NaN as NULL and -0.0 as 0.0 (``+ 0.0`` turns -0.0 into 0.0)
        if isinstance(value, int | float) and value == value:
            try:
                return float(value) + 0.0
            except OverflowError:
                pass
    elif kind == "integer":
        if isinstance(value, int) and value in _INT64:
            return int(value)
    elif kind == "big":
        if isinstance(value, int):
            return int(value)
    elif kind == "blob":
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
    elif kind == "status":
        if value in STATUSES:
            return value
        raise StoreError(f"unknown status {value!r}; known: {STATUSES}")
    wanted = {
        "real": "a number (not NaN)",
        "integer": "a 64-bit integer",
        "big": "an integer",
        "blob": "bytes",
    }
    raise StoreError(f"{name} must be {wanted.get(kind, kind)}, got {value!r}")


def _checked_record(record: MessageRecord) -> MessageRecord:
    values = {c: _check(c, _KIND[c], getattr(record, c)) for c in _COLUMNS}
    return MessageRecord(**values)


def _checked_event(event: MessageEvent) -> MessageEvent:
    return MessageEvent(
        _check("time", "real", event.time),
        _check("id", "text", event.id),
        _check("status", "text", event.status),
        _check("chain_id", "integer", event.chain_id),
        _check("tx_hash", "text?", event.tx_hash),
        _check("detail", "text", event.detail),
    )


class MessageStore:
    """The relayer's state; ``MessageStore(path)`` (SQLite) or ``MessageStore(":memory:")``.

    Reopening the same file gives back everything committed. Use :meth:`transaction` to
    group changes; reads outside a transaction see the last commit.

    ``":memory:"`` (a run's store) keeps its tables in Python dicts and lists
    (:class:`_PythonTables`): no SQL to run, a list of undo steps for a transaction, copies
    for a snapshot. Every method gives what a file store gives for the same calls
    (``tests/bridge/test_store_backends.py`` runs both on random operation sequences).
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._depth = 0
        self._tables: _SqliteTables | _PythonTables = (
            _PythonTables() if self.path == ":memory:" else _SqliteTables(self.path)
        )

    def __repr__(self) -> str:
        return f"<MessageStore {self.path!r}>"

    def close(self) -> None:
        """Close the store (a file store's committed data stays in the file)."""
        self._tables.close()

    # -- transactions ----------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[MessageStore]:
        """All changes inside commit together or not at all (nesting joins the outer one)."""
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        self._tables.begin()
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._tables.rollback()
            raise
        self._depth = 0
        self._tables.commit()

    # -- cursors ---------------------------------------------------------------------------
    def get_cursor(self, chain_id: int) -> int | None:
        """The next block to scan on ``chain_id``, or ``None`` if never scanned."""
        return self._tables.get_cursor(_check("chain id", "integer", chain_id))

    def set_cursor(self, chain_id: int, next_block: int) -> None:
        """Record that blocks before ``next_block`` on ``chain_id`` have been handled."""
        self._tables.set_cursor(
            _check("chain id", "integer", chain_id), _check("next block", "integer", next_block)
        )

    def cursors(self) -> dict[int, int]:
        """Every chain's cursor."""
        return self._tables.cursors()

    # -- messages --------------------------------------------------------------------------
    def add_message(self, record: MessageRecord) -> bool:
        """Insert a newly observed message; ``False`` (and no change) if already known."""
        return self._tables.add_message(_checked_record(record))

    def get(self, message_id: str) -> MessageRecord | None:
        """The message with this id (``0x``-hex), or ``None``."""
        return self._tables.get(_check("message id", "text", message_id))

    def require(self, message_id: str) -> MessageRecord:
        """Like :meth:`get`, but an unknown id is a :class:`StoreError`."""
        record = self.get(message_id)
        if record is None:
            raise StoreError(f"unknown message {message_id}")
        return record

    def update(self, message_id: str, **changes: Any) -> MessageRecord:
        """Change some columns of one message; return the updated record."""
        bad = sorted(set(changes) - set(_COLUMNS) - {"id"})
        if bad or "id" in changes:
            raise StoreError(f"cannot update message column(s) {', '.join(bad or ['id'])}")
        if "status" in changes and changes["status"] not in STATUSES:
            raise StoreError(f"unknown status {changes['status']!r}; known: {STATUSES}")
        checked = {n: _check(n, _KIND[n], changes[n]) for n in sorted(changes)}
        if not checked:
            return self.require(message_id)
        record = self._tables.update(_check("message id", "text", message_id), checked)
        if record is None:
            raise StoreError(f"unknown message {message_id}")
        return record

    def set_status(
        self, message_id: str, status: MessageStatus, time: float, **changes: Any
    ) -> MessageRecord:
        """Move a message to ``status`` at ``time`` (sets that status' time column, if any)."""
        column = _TIME_OF.get(status)
        timed = {column: time} if column is not None else {}
        return self.update(message_id, status=status, **{**timed, **changes})

    def messages(self, statuses: Iterable[MessageStatus] | None = None) -> list[MessageRecord]:
        """Messages in observation order, optionally only those with the given statuses."""
        if statuses is None:
            return self._tables.messages(None)
        return self._tables.messages(tuple(_check("status", "text", s) for s in statuses))

    def count(self, status: MessageStatus | None = None) -> int:
        """How many messages (with ``status``, if given)."""
        return self._tables.count(None if status is None else _check("status", "text", status))

    # -- scanned block hashes --------------------------------------------------------------
    def get_scanned_hash(self, chain_id: int) -> str | None:
        """The hash of the last block scanned on ``chain_id`` (to notice reorgs missed while
        the relayer was not listening), or ``None``."""
        return self._tables.get_scanned_hash(_check("chain id", "integer", chain_id))

    def set_scanned_hash(self, chain_id: int, block_hash: str) -> None:
        self._tables.set_scanned_hash(
            _check("chain id", "integer", chain_id), _check("block hash", "text", block_hash)
        )

    # -- lifecycle events ------------------------------------------------------------------
    def add_event(self, event: MessageEvent) -> None:
        """Append one lifecycle event."""
        self._tables.add_event(_checked_event(event))

    def events(self, message_id: str | None = None) -> list[MessageEvent]:
        """The lifecycle log in order (of one message, if given)."""
        if message_id is not None:
            message_id = _check("message id", "text", message_id)
        return self._tables.events(message_id)

    # -- fault bookkeeping -----------------------------------------------------------------
    def has_mark(self, key: str) -> bool:
        return self._tables.has_mark(_check("fault mark", "text", key))

    def add_mark(self, key: str) -> None:
        """Remember an injected fault fired; committed at once, outside any transaction
        of the relayer's (the injector's memory is not part of what a crash rolls back)."""
        if self._depth:
            raise StoreError("fault marks are written outside relayer transactions")
        self._tables.add_mark(_check("fault mark", "text", key))

    # -- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> Any:
        """A copy of the whole store in memory (cheap for relayer-sized stores): for a file
        store an in-memory ``sqlite3.Connection``, for ``":memory:"`` copies of its tables."""
        if self._depth:
            raise StoreError("cannot snapshot the store inside a transaction")
        return self._tables.snapshot()

    def restore(self, snapshot: Any) -> None:
        """Return the store to a :meth:`snapshot` (the snapshot stays usable)."""
        if self._depth:
            raise StoreError("cannot restore the store inside a transaction")
        self._tables.restore(snapshot)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's rows in a stable order (for comparing two runs)."""
        return self._tables.dump()


# -- the tables behind a store ---------------------------------------------------------------
#
# Two classes with the same methods, in the order of the public ones: every value already
# checked; ``update`` returns ``None`` (and changes nothing) for an unknown id.


def _to_row(name: str, value: Any) -> Any:
    return str(value) if name in _BIG and value is not None else value


def _from_row(row: sqlite3.Row) -> MessageRecord:
    data = {k: row[k] for k in _COLUMNS}
    for k in _BIG:
        data[k] = int(data[k])
    data["payload"] = bytes(data["payload"])
    return MessageRecord(**data)


class _SqliteTables:
    """A store file: every change one SQLite transaction, durable across a restart."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            # A served devnet runs the relayer (clock events, admin methods) in its clock
            # and request threads, one at a time under the devnet lock: the connection
            # moves between threads but is never used by two at once.
            self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open relayer store {path!r}: {exc}") from exc
        self.conn.row_factory = sqlite3.Row
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path!r} is not a relayer store: {exc}") from exc
        row = self.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self.conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )
        elif int(row["value"]) != SCHEMA_VERSION:
            raise StoreError(
                f"{path!r} has relayer store schema {row['value']}, this code reads "
                f"{SCHEMA_VERSION}"
            )

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def get_cursor(self, chain_id: int) -> int | None:
        row = self.conn.execute(
            "SELECT next_block FROM cursors WHERE chain_id = ?", (chain_id,)
        ).fetchone()
        return None if row is None else int(row["next_block"])

    def set_cursor(self, chain_id: int, next_block: int) -> None:
        self.conn.execute(
            "INSERT INTO cursors (chain_id, next_block) VALUES (?, ?) "
            "ON CONFLICT (chain_id) DO UPDATE SET next_block = excluded.next_block",
            (chain_id, next_block),
        )

    def cursors(self) -> dict[int, int]:
        rows = self.conn.execute("SELECT chain_id, next_block FROM cursors ORDER BY chain_id")
        return {int(r["chain_id"]): int(r["next_block"]) for r in rows}

    def add_message(self, record: MessageRecord) -> bool:
        if self.get(record.id) is not None:
            return False
        seq = self.conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages").fetchone()[0]
        cols = ", ".join(("seq", *_COLUMNS))
        marks = ", ".join("?" for _ in range(len(_COLUMNS) + 1))
        values = [seq, *(_to_row(c, getattr(record, c)) for c in _COLUMNS)]
        self.conn.execute(f"INSERT INTO messages ({cols}) VALUES ({marks})", values)
        return True

    def get(self, message_id: str) -> MessageRecord | None:
        row = self.conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else _from_row(row)

    def update(self, message_id: str, changes: dict[str, Any]) -> MessageRecord | None:
        sets = ", ".join(f"{n} = ?" for n in changes)
        cur = self.conn.execute(
            f"UPDATE messages SET {sets} WHERE id = ?",
            [*(_to_row(n, v) for n, v in changes.items()), message_id],
        )
        return self.get(message_id) if cur.rowcount == 1 else None

    def messages(self, statuses: tuple[Any, ...] | None) -> list[MessageRecord]:
        if statuses is None:
            rows = self.conn.execute("SELECT * FROM messages ORDER BY seq")
        else:
            marks = ", ".join("?" for _ in statuses)
            rows = self.conn.execute(
                f"SELECT * FROM messages WHERE status IN ({marks}) ORDER BY seq", statuses
            )
        return [_from_row(r) for r in rows]

    def count(self, status: Any) -> int:
        if status is None:
            return int(self.conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM messages WHERE status = ?", (status,)
            ).fetchone()[0]
        )

    def get_scanned_hash(self, chain_id: int) -> str | None:
        row = self.conn.execute(
            "SELECT value FROM meta WHERE key = ?", (f"scanned:{chain_id}",)
        ).fetchone()
        return None if row is None else str(row["value"])

    def set_scanned_hash(self, chain_id: int, block_hash: str) -> None:
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (f"scanned:{chain_id}", block_hash),
        )

    def add_event(self, event: MessageEvent) -> None:
        self.conn.execute(
            "INSERT INTO events (time, id, status, chain_id, tx_hash, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event.time, event.id, event.status, event.chain_id, event.tx_hash, event.detail),
        )

    def events(self, message_id: str | None) -> list[MessageEvent]:
        if message_id is None:
            rows = self.conn.execute("SELECT * FROM events ORDER BY seq")
        else:
            rows = self.conn.execute(
                "SELECT * FROM events WHERE id = ? ORDER BY seq", (message_id,)
            )
        return [
            MessageEvent(r["time"], r["id"], r["status"], r["chain_id"], r["tx_hash"], r["detail"])
            for r in rows
        ]

    def has_mark(self, key: str) -> bool:
        row = self.conn.execute("SELECT 1 FROM fault_marks WHERE key = ?", (key,)).fetchone()
        return row is not None

    def add_mark(self, key: str) -> None:
        self.conn.execute("INSERT OR IGNORE INTO fault_marks (key) VALUES (?)", (key,))

    def snapshot(self) -> sqlite3.Connection:
        copy = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.backup(copy)
        return copy

    def restore(self, snapshot: Any) -> None:
        if not isinstance(snapshot, sqlite3.Connection):
            raise StoreError("a file store restores only a snapshot of a file store")
        snapshot.backup(self.conn)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table, order in (
            ("cursors", "chain_id"),
            ("messages", "seq"),
            ("events", "seq"),
            ("fault_marks", "key"),
        ):
            rows = self.conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
            out[table] = [tuple(r) for r in rows]
        return out


_MISSING = object()


@dataclass(frozen=True)
class _PythonSnapshot:
    """Copies of a Python store's tables (records and events are frozen: shared, not copied)."""

    cursors: dict[int, int]
    scanned: dict[int, str]
    messages: dict[str, MessageRecord]
    events: tuple[MessageEvent, ...]
    marks: frozenset[str]


class _PythonTables:
    """An in-memory store's tables as Python dicts and lists.

    ``messages`` keeps insertion order (a message's ``seq`` is its position: messages are
    never deleted) and ``events`` is append-only (an event's ``seq`` is its position + 1,
    as SQLite's AUTOINCREMENT numbers them from 1). A transaction records, before each
    change, the old value of the key it changes (``_undo``) and the length of ``events``;
    a rollback puts the old values back in reverse order and cuts ``events`` to length.
    """

    def __init__(self) -> None:
        self._cursors: dict[int, int] = {}
        self._scanned: dict[int, str] = {}
        self._messages: dict[str, MessageRecord] = {}
        self._events: list[MessageEvent] = []
        self._marks: set[str] = set()
        #: (table, key, old value or _MISSING) per change in the open transaction, or
        #: ``None`` outside one
        self._undo: list[tuple[dict[Any, Any], Any, Any]] | None = None
        self._events_at_begin = 0

    def _put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if self._undo is not None:
            self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def begin(self) -> None:
        self._undo = []
        self._events_at_begin = len(self._events)

    def commit(self) -> None:
        self._undo = None

    def rollback(self) -> None:
        undo, self._undo = self._undo or [], None
        for table, key, old in reversed(undo):
            if old is _MISSING:
                del table[key]
            else:
                table[key] = old
        del self._events[self._events_at_begin :]

    def close(self) -> None:
        pass

    def get_cursor(self, chain_id: int) -> int | None:
        return self._cursors.get(chain_id)

    def set_cursor(self, chain_id: int, next_block: int) -> None:
        self._put(self._cursors, chain_id, next_block)

    def cursors(self) -> dict[int, int]:
        return dict(sorted(self._cursors.items()))

    def add_message(self, record: MessageRecord) -> bool:
        if record.id in self._messages:
            return False
        self._put(self._messages, record.id, record)
        return True

    def get(self, message_id: str) -> MessageRecord | None:
        return self._messages.get(message_id)

    def update(self, message_id: str, changes: dict[str, Any]) -> MessageRecord | None:
        record = self._messages.get(message_id)
        if record is None:
            return None
        record = replace(record, **changes)
        self._put(self._messages, message_id, record)
        return record

    def messages(self, statuses: tuple[Any, ...] | None) -> list[MessageRecord]:
        if statuses is None:
            return list(self._messages.values())
        return [r for r in self._messages.values() if r.status in statuses]

    def count(self, status: Any) -> int:
        if status is None:
            return len(self._messages)
        return sum(1 for r in self._messages.values() if r.status == status)

    def get_scanned_hash(self, chain_id: int) -> str | None:
        return self._scanned.get(chain_id)

    def set_scanned_hash(self, chain_id: int, block_hash: str) -> None:
        self._put(self._scanned, chain_id, block_hash)

    def add_event(self, event: MessageEvent) -> None:
        self._events.append(event)

    def events(self, message_id: str | None) -> list[MessageEvent]:
        if message_id is None:
            return list(self._events)
        return [e for e in self._events if e.id == message_id]

    def has_mark(self, key: str) -> bool:
        return key in self._marks

    def add_mark(self, key: str) -> None:
        self._marks.add(key)

    def snapshot(self) -> _PythonSnapshot:
        return _PythonSnapshot(
            dict(self._cursors),
            dict(self._scanned),
            dict(self._messages),
            tuple(self._events),
            frozenset(self._marks),
        )

    def restore(self, snapshot: Any) -> None:
        if not isinstance(snapshot, _PythonSnapshot):
            raise StoreError('a ":memory:" store restores only a snapshot of one')
        self._cursors = dict(snapshot.cursors)
        self._scanned = dict(snapshot.scanned)
        self._messages = dict(snapshot.messages)
        self._events = list(snapshot.events)
        self._marks = set(snapshot.marks)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            "cursors": sorted(self._cursors.items()),
            "messages": [
                (seq, *(_to_row(c, getattr(r, c)) for c in _COLUMNS))
                for seq, r in enumerate(self._messages.values())
            ],
            "events": [
                (seq, e.time, e.id, e.status, e.chain_id, e.tx_hash, e.detail)
                for seq, e in enumerate(self._events, start=1)
            ],
            "fault_marks": [(key,) for key in sorted(self._marks)],
        }
