"""The relayer's actions: relaying a due message (with its fault plan: drops, delays,
duplicates, injected target reverts, crashes), expiring it past its deadline, refunding it
on the source, and retrying with backoff (see :class:`bridge.Relayer`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge._relayer_core import ALREADY_PROCESSED, BridgeError, DoubleDelivery, _hex
from bridge._relayer_scan import Scanning
from bridge.store import MessageEvent, MessageRecord
from chains import TransactionReverted

if TYPE_CHECKING:
    from chains import Contract

__all__ = ["Actions"]


class Actions(Scanning):
    """Relay, expire, refund and retry."""

    def relay_now(self, message_id: str | bytes) -> MessageRecord:
        """Attempt delivery of a known message at once (ignoring its latency, a drop or
        an exhausted retry budget); return its record afterwards."""
        mid = message_id if isinstance(message_id, str) else _hex(message_id)
        if not self._is_alive:
            raise BridgeError("this relayer crashed; start a new Relayer on the same store")
        if self.store.get(mid) is None and self.is_running:
            self._scan()  # sent in a block not scanned yet
        record = self.store.require(mid)
        if record.status == "orphaned":
            raise BridgeError(
                f"message {mid} is orphaned: a reorg took its source block away, relaying it "
                "would mint without a lock"
            )
        self._cancel_action(mid)
        self._act(mid, forced=True)
        return self.store.require(record.id)

    def _fire(self, message_id: str) -> None:
        self._actions.pop(message_id, None)
        if not self.is_running:
            return
        if self._is_paused:
            self._deferred.add(message_id)
            return
        self._act(message_id, forced=False)

    def _act(self, message_id: str, *, forced: bool) -> None:
        record = self.store.require(message_id)
        if record.status in ("executed", "refunded", "orphaned"):
            return
        if record.status == "expired":
            self._refund(record, forced=forced)
            return
        if self.clock.now >= record.deadline + 1:
            # No block at this time can still carry the relay (block.timestamp > deadline).
            self._expire(record)
            return
        if record.status == "sent" and record.attempts == 0 and not forced:
            plan = self._plan(record.lane, message_id, 0)
            if plan.is_dropped:
                return
        if record.attempts >= self.backoff.max_attempts and not forced:
            return
        if not forced and not self._is_confirmed(record):
            self._wait(record)
            return
        self._relay(record)

    def _relay(self, record: MessageRecord) -> None:
        message_id = record.id
        attempt = record.attempts
        plan = self._plan(record.lane, message_id, attempt)
        now = self.clock.now
        emitted: list[MessageEvent] = []
        with self.store.transaction():
            if record.status == "sent":
                self.store.set_status(message_id, "eligible", record.eligible_at or now)
                self._emit(emitted, now, message_id, "eligible", record.dest_chain_id)
            self.store.update(message_id, due_at=now)
        self._publish(emitted)
        message = self._message(record)
        signatures = self.deployment.attest_relay(message)
        dest = self._messengers[record.dest_chain_id]
        args = (
            record.source_chain_id,
            record.dest_chain_id,
            record.nonce,
            record.sender,
            record.target,
            record.payload,
            record.deadline,
            signatures,
        )
        gas = self._starved_gas(dest, args) if plan.is_reverted else None
        error: str | None = None
        tx: str | None = None
        try:
            receipt = dest.relay_message.transact(*args, sender=self.account, gas=gas)
            tx = _hex(receipt.tx_hash)
        except TransactionReverted as exc:
            if exc.reason == ALREADY_PROCESSED:
                # Delivered (or expired) by someone else, or by us before a crash: done,
                # not a failure; the scan records it from the messenger's log.
                return
            error = self._reason(exc, injected=plan.is_reverted)
            if exc.receipt is not None:
                tx = _hex(exc.receipt.tx_hash)
        self._maybe_crash("after_submit", message_id, record.lane)
        emitted = []
        failures = attempt + 1
        next_due: float | None = None
        with self.store.transaction():
            if error is None:
                self.store.set_status(
                    message_id, "relayed", now, relay_tx=tx, attempts=failures, due_at=None
                )
                self._emit(emitted, now, message_id, "relayed", record.dest_chain_id, tx)
            else:
                if failures < self.backoff.max_attempts:
                    next_due = now + self.backoff.delay(failures)
                else:
                    next_due = self._expiry_time(record.deadline)
                self.store.set_status(
                    message_id,
                    "failed",
                    now,
                    attempts=failures,
                    last_error=error,
                    due_at=next_due,
                )
                self._emit(emitted, now, message_id, "failed", record.dest_chain_id, tx, error)
        self._publish(emitted)
        self._maybe_crash("after_record", message_id, record.lane)
        if error is None and plan.is_duplicated:
            self._duplicate(record, dest, args)
        if next_due is not None:
            self._schedule_action(message_id, next_due)

    def _duplicate(self, record: MessageRecord, dest: Contract, args: tuple[Any, ...]) -> None:
        """Submit the same relay again (the duplicate fault): the messenger must refuse."""
        try:
            dest.relay_message.transact(*args, sender=self.account)
        except TransactionReverted as exc:
            emitted: list[MessageEvent] = []
            tx = _hex(exc.receipt.tx_hash) if exc.receipt is not None else None
            with self.store.transaction():
                self._emit(
                    emitted,
                    self.clock.now,
                    record.id,
                    "relayed",
                    record.dest_chain_id,
                    tx,
                    f"duplicate relay refused on chain ({exc.reason}): already delivered",
                )
            self._publish(emitted)
            return
        raise DoubleDelivery(f"the messenger accepted a second relay of {record.id}")

    def _expire(self, record: MessageRecord) -> None:
        """Expire an undelivered message past its deadline on the destination."""
        try:
            self.deployment.expire(self._message(record), sender=self.account)
        except TransactionReverted as exc:
            if exc.reason == ALREADY_PROCESSED:
                return  # delivered or expired meanwhile: the scan records it
            self._retry_later(record, f"expire reverted: {exc.reason}")

    def _refund(self, record: MessageRecord, *, forced: bool) -> None:
        """Refund an expired message on its source chain."""
        source = self._messengers[record.source_chain_id]
        if record.attempts >= self.backoff.max_attempts and not forced:
            return  # refund kept reverting; relay_now(id) tries again
        if source.refunded(bytes.fromhex(record.id[2:])):
            return  # the scan records it from the MessageRefunded log
        try:
            self.deployment.refund(self._message(record), sender=self.account)
        except TransactionReverted as exc:
            self._retry_later(record, f"refund reverted: {exc.reason}")

    def _retry_later(self, record: MessageRecord, error: str) -> None:
        failures = record.attempts + 1
        next_due = self.clock.now + self.backoff.delay(failures)
        emitted: list[MessageEvent] = []
        with self.store.transaction():
            self.store.update(record.id, attempts=failures, last_error=error, due_at=next_due)
            chain_id = (
                record.source_chain_id if record.status == "expired" else record.dest_chain_id
            )
            self._emit(emitted, self.clock.now, record.id, record.status, chain_id, None, error)
        self._publish(emitted)
        self._schedule_action(record.id, next_due)
