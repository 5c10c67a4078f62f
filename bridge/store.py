"""The relayer's durable state in SQLite: cursors, messages and their lifecycle events.

Tables (schema version 1):

* ``cursors(chain_id, next_block)`` — the next block of each chain the relayer will scan.
* ``messages`` — one row per observed message: its fields, its status (:data:`STATUSES`),
  the time of each transition, the number of delivery attempts, when its next action is
  due and the last error. Big integers (nonce, deadline: uint256) are stored as decimal
  text so no value is ever truncated.
* ``events`` — the append-only lifecycle log (:class:`MessageEvent`): the data scenarios
  read for latency and capital in flight.
* ``fault_marks`` — which injected crashes already fired (see :mod:`bridge.faults`).

Every change the relayer makes for one observation or one action is one SQLite
transaction (:meth:`MessageStore.transaction`), so a crash leaves either all of it or none.
A file store uses WAL journaling with ``synchronous=NORMAL``: durable against the process
dying at any point (the failure this relayer is built for); on power loss the newest
commits may be lost, which the relayer recovers from anyway by re-reading the chains
from the (equally rolled-back) cursors.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
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


def _to_row(name: str, value: Any) -> Any:
    return str(value) if name in _BIG and value is not None else value


def _from_row(row: sqlite3.Row) -> MessageRecord:
    data = {k: row[k] for k in _COLUMNS}
    for k in _BIG:
        data[k] = int(data[k])
    data["payload"] = bytes(data["payload"])
    return MessageRecord(**data)


class MessageStore:
    """SQLite-backed relayer state; ``MessageStore(path)`` or ``MessageStore(":memory:")``.

    Reopening the same file gives back everything committed. Use :meth:`transaction` to
    group changes; reads outside a transaction see the last commit.

    An in-memory store's connection is private to it, so its cursors and scanned hashes
    (read on every scan) are also kept in a dict, written through: every write still goes
    to SQLite, a rollback or a :meth:`restore` empties the dict, and a read it does not
    hold asks SQLite. A file store always asks SQLite (another connection may write it).
    """

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        try:
            # A served devnet runs the relayer (clock events, admin methods) in its clock
            # and request threads, one at a time under the devnet lock: the connection
            # moves between threads but is never used by two at once.
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open relayer store {self.path!r}: {exc}") from exc
        self._conn.row_factory = sqlite3.Row
        self._depth = 0
        #: cursors and scanned hashes of an in-memory store, as committed or written in the
        #: open transaction (``None`` for a file store: no cache)
        self._kept: dict[tuple[str, int], Any] | None = {} if self.path == ":memory:" else None
        try:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path!r} is not a relayer store: {exc}") from exc
        row = self._conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self._conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )
        elif int(row["value"]) != SCHEMA_VERSION:
            raise StoreError(
                f"{self.path!r} has relayer store schema {row['value']}, this code reads "
                f"{SCHEMA_VERSION}"
            )

    def __repr__(self) -> str:
        return f"<MessageStore {self.path!r}>"

    def close(self) -> None:
        """Close the connection (committed data stays in the file)."""
        self._conn.close()

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
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._forget()
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self._conn.execute("COMMIT")

    def _forget(self) -> None:
        """Empty the in-memory store's cache (after a rollback or a restore)."""
        if self._kept is not None:
            self._kept.clear()

    # -- cursors ---------------------------------------------------------------------------
    def get_cursor(self, chain_id: int) -> int | None:
        """The next block to scan on ``chain_id``, or ``None`` if never scanned."""
        kept = self._kept
        key = ("cursor", chain_id)
        if kept is not None and key in kept:
            return kept[key]
        row = self._conn.execute(
            "SELECT next_block FROM cursors WHERE chain_id = ?", (chain_id,)
        ).fetchone()
        value = None if row is None else int(row["next_block"])
        if kept is not None:
            kept[key] = value
        return value

    def set_cursor(self, chain_id: int, next_block: int) -> None:
        """Record that blocks before ``next_block`` on ``chain_id`` have been handled."""
        self._conn.execute(
            "INSERT INTO cursors (chain_id, next_block) VALUES (?, ?) "
            "ON CONFLICT (chain_id) DO UPDATE SET next_block = excluded.next_block",
            (chain_id, next_block),
        )
        if self._kept is not None:
            self._kept[("cursor", chain_id)] = int(next_block)

    def cursors(self) -> dict[int, int]:
        """Every chain's cursor."""
        rows = self._conn.execute("SELECT chain_id, next_block FROM cursors ORDER BY chain_id")
        return {int(r["chain_id"]): int(r["next_block"]) for r in rows}

    # -- messages --------------------------------------------------------------------------
    def add_message(self, record: MessageRecord) -> bool:
        """Insert a newly observed message; ``False`` (and no change) if already known."""
        if self.get(record.id) is not None:
            return False
        seq = self._conn.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM messages").fetchone()[0]
        cols = ", ".join(("seq", *_COLUMNS))
        marks = ", ".join("?" for _ in range(len(_COLUMNS) + 1))
        values = [seq, *(_to_row(c, getattr(record, c)) for c in _COLUMNS)]
        self._conn.execute(f"INSERT INTO messages ({cols}) VALUES ({marks})", values)
        return True

    def get(self, message_id: str) -> MessageRecord | None:
        """The message with this id (``0x``-hex), or ``None``."""
        row = self._conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return None if row is None else _from_row(row)

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
        names = sorted(changes)
        sets = ", ".join(f"{n} = ?" for n in names)
        cur = self._conn.execute(
            f"UPDATE messages SET {sets} WHERE id = ?",
            [*(_to_row(n, changes[n]) for n in names), message_id],
        )
        if cur.rowcount != 1:
            raise StoreError(f"unknown message {message_id}")
        return self.require(message_id)

    def set_status(
        self, message_id: str, status: MessageStatus, time: float, **changes: Any
    ) -> MessageRecord:
        """Move a message to ``status`` at ``time`` (sets that status' time column, if any)."""
        column = _TIME_OF.get(status)
        timed = {column: time} if column is not None else {}
        return self.update(message_id, status=status, **{**timed, **changes})

    def messages(self, statuses: Sequence[MessageStatus] | None = None) -> list[MessageRecord]:
        """Messages in observation order, optionally only those with the given statuses."""
        if statuses is None:
            rows = self._conn.execute("SELECT * FROM messages ORDER BY seq")
        else:
            marks = ", ".join("?" for _ in statuses)
            rows = self._conn.execute(
                f"SELECT * FROM messages WHERE status IN ({marks}) ORDER BY seq", tuple(statuses)
            )
        return [_from_row(r) for r in rows]

    def count(self, status: MessageStatus | None = None) -> int:
        """How many messages (with ``status``, if given)."""
        if status is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
        return int(
            self._conn.execute(
                "SELECT COUNT(*) FROM messages WHERE status = ?", (status,)
            ).fetchone()[0]
        )

    # -- scanned block hashes --------------------------------------------------------------
    def get_scanned_hash(self, chain_id: int) -> str | None:
        """The hash of the last block scanned on ``chain_id`` (to notice reorgs missed while
        the relayer was not listening), or ``None``."""
        kept = self._kept
        key = ("scanned", chain_id)
        if kept is not None and key in kept:
            return kept[key]
        row = self._conn.execute(
            "SELECT value FROM meta WHERE key = ?", (f"scanned:{chain_id}",)
        ).fetchone()
        value = None if row is None else str(row["value"])
        if kept is not None:
            kept[key] = value
        return value

    def set_scanned_hash(self, chain_id: int, block_hash: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (f"scanned:{chain_id}", block_hash),
        )
        if self._kept is not None:
            self._kept[("scanned", chain_id)] = str(block_hash)

    # -- lifecycle events ------------------------------------------------------------------
    def add_event(self, event: MessageEvent) -> None:
        """Append one lifecycle event."""
        self._conn.execute(
            "INSERT INTO events (time, id, status, chain_id, tx_hash, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (event.time, event.id, event.status, event.chain_id, event.tx_hash, event.detail),
        )

    def events(self, message_id: str | None = None) -> list[MessageEvent]:
        """The lifecycle log in order (of one message, if given)."""
        if message_id is None:
            rows = self._conn.execute("SELECT * FROM events ORDER BY seq")
        else:
            rows = self._conn.execute(
                "SELECT * FROM events WHERE id = ? ORDER BY seq", (message_id,)
            )
        return [
            MessageEvent(r["time"], r["id"], r["status"], r["chain_id"], r["tx_hash"], r["detail"])
            for r in rows
        ]

    # -- fault bookkeeping -----------------------------------------------------------------
    def has_mark(self, key: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM fault_marks WHERE key = ?", (key,)).fetchone()
        return row is not None

    def add_mark(self, key: str) -> None:
        """Remember an injected fault fired; committed at once, outside any transaction
        of the relayer's (the injector's memory is not part of what a crash rolls back)."""
        if self._depth:
            raise StoreError("fault marks are written outside relayer transactions")
        self._conn.execute("INSERT OR IGNORE INTO fault_marks (key) VALUES (?)", (key,))

    # -- snapshots -------------------------------------------------------------------------
    def snapshot(self) -> sqlite3.Connection:
        """A copy of the whole store in memory (cheap for relayer-sized stores)."""
        if self._depth:
            raise StoreError("cannot snapshot the store inside a transaction")
        copy = sqlite3.connect(":memory:", isolation_level=None)
        self._conn.backup(copy)
        return copy

    def restore(self, snapshot: sqlite3.Connection) -> None:
        """Return the store to a :meth:`snapshot` (the snapshot stays usable)."""
        if self._depth:
            raise StoreError("cannot restore the store inside a transaction")
        self._forget()
        snapshot.backup(self._conn)

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table's rows in a stable order (for comparing two runs)."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        for table, order in (
            ("cursors", "chain_id"),
            ("messages", "seq"),
            ("events", "seq"),
            ("fault_marks", "key"),
        ):
            rows = self._conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
            out[table] = [tuple(r) for r in rows]
        return out
