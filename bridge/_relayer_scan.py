"""The relayer's scans: reading every messenger's new logs from the persisted cursors,
noticing reorgs it did not hear of, and recording what the logs say (sends, deliveries,
expiries, refunds) in the store (see :class:`bridge.Relayer`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from bridge._deploy import STATUS_EXPIRED
from bridge._relayer_core import _FRESH, DoubleDelivery, _hex, logger
from bridge._relayer_reorgs import ReorgHandling
from bridge.faults import seeded_rng
from bridge.store import MessageEvent, MessageRecord

if TYPE_CHECKING:
    from chains import Chain, Log

__all__ = ["Scanning"]


class Scanning(ReorgHandling):
    """Log scans and what they record."""

    def scan(self) -> int:
        """Read every messenger's new logs now; return how many were handled."""
        return self._scan()

    def _scan(self) -> int:
        self._scan_event = None
        if not self.is_running:
            return 0
        batches: list[tuple[Chain, int, list[Log]]] = []
        for chain_id, chain in self.chains.items():
            cursor = self.store.get_cursor(chain_id) or 0
            head = chain.block_number
            if 0 < cursor <= head + 1:
                scanned = self.store.get_scanned_hash(chain_id)
                if scanned is not None and _hex(chain.get_block(cursor - 1).hash) != scanned:
                    # A reorg this relayer did not hear of (it was not listening): nothing
                    # at or below the finalized head can have changed, rescan from there.
                    fork = min(chain.finalized_block_number, cursor - 1)
                    logger.info(
                        "chain %s: block %d is not the one scanned; rescanning after block %d",
                        chain.name,
                        cursor - 1,
                        fork,
                    )
                    self._rewind(chain, fork)
                    cursor = self.store.get_cursor(chain_id) or 0
            if cursor > head + 1:
                # The chain was reverted below what this relayer recorded, without
                # restoring the relayer: its store describes blocks that no longer exist.
                logger.warning(
                    "chain %s was reverted to block %d below relayer cursor %d without "
                    "restoring the relayer (devnet.attach it); stopping the relayer",
                    chain.name,
                    head,
                    cursor,
                )
                self.stop()
                self.is_stale = True
                return 0
            if head < cursor:
                continue
            # the messenger's logs, as get_logs(address=...) finds them (mined logs carry
            # checksummed addresses), without checksumming the address again on every scan
            address = self._addresses[chain_id]
            logs = [
                log
                for log in chain.get_logs(from_block=cursor, to_block=head)
                if log.address == address
            ]
            batches.append((chain, head, logs))
        decoded = [
            (chain, log, chain.abi_registry.decode_log(log))
            for chain, _, logs in batches
            for log in logs
        ]
        sent = [(c, lg, e) for c, lg, e in decoded if e is not None and e.name == "MessageSent"]
        others = [
            (c, lg, e)
            for c, lg, e in decoded
            if e is not None and e.name in ("MessageDelivered", "MessageExpired", "MessageRefunded")
        ]
        fresh = [
            (c, lg, e)
            for c, lg, e in sent
            if (known := self.store.get(_hex(e.args["id"]))) is None or known.status == "orphaned"
        ]
        for chain, _, event in fresh:
            lane = (chain.chain_id, int(event.args["dest_chain_id"]))
            self._maybe_crash("after_observe", _hex(event.args["id"]), lane)
        emitted: list[MessageEvent] = []
        to_schedule: list[tuple[str, float]] = []
        to_cancel: list[str] = []
        with self.store.transaction():
            for chain, log, event in fresh:
                record = self._observe_sent(chain, log, event.args, emitted)
                if record.due_at is not None:
                    to_schedule.append((record.id, record.due_at))
            for chain, log, event in others:
                self._observe_other(
                    chain, log, event.name, event.args, emitted, to_schedule, to_cancel
                )
            for chain, head, _ in batches:
                self.store.set_cursor(chain.chain_id, head + 1)
                self.store.set_scanned_hash(chain.chain_id, _hex(chain.get_block(head).hash))
        self._publish(emitted)
        for message_id in to_cancel:
            self._cancel_action(message_id)
        for message_id, at in to_schedule:
            self._schedule_action(message_id, at)
        for message_id in sorted(self._waiting):
            waiting = self.store.get(message_id)
            if waiting is None or waiting.status not in ("sent", "eligible", "failed"):
                self._waiting.discard(message_id)
            elif self._is_confirmed(waiting):
                self._waiting.discard(message_id)
                self._schedule_action(message_id, self.clock.now)
        return len(fresh) + len(others)

    def _observe_sent(
        self, chain: Chain, log: Log, args: Mapping[str, Any], emitted: list[MessageEvent]
    ) -> MessageRecord:
        message_id = _hex(args["id"])
        source = chain.chain_id
        dest = int(args["dest_chain_id"])
        sent_at = self._event_time(chain, log)
        deadline = int(args["deadline"])
        lane = (source, dest)
        detail = ""
        due_at: float | None
        if lane not in self.latency:
            # A peer outside this deployment's chains: recorded, never acted on.
            due_at, detail = None, f"lane {lane} is not served by this relayer"
            eligible_at = None
        else:
            plan = self._plan(lane, message_id, 0)
            confirm = self.confirmation[lane].depth * chain.config.block_time
            latency = self.latency[lane].sample(seeded_rng("latency", self.seed, message_id, 0))
            eligible_at = sent_at + confirm + latency + plan.extra_delay
            due_at = eligible_at
            if plan.is_dropped:
                due_at = self._expiry_time(deadline)
                detail = "dropped (fault): not relayed; expired and refunded after its deadline"
        known = self.store.get(message_id)
        if known is not None:
            # Orphaned by a reorg, and back on the new chain: observed again from scratch.
            # The deadline is not part of the id, so the send that reappears may carry
            # another deadline than the orphaned one (the same sender sent again with the
            # same nonce): the new send's deadline is the one the source messenger checks
            # on refund and the attesters sign for relay and expiry.
            record = self.store.set_status(
                message_id,
                "sent",
                sent_at,
                deadline=deadline,
                sent_block=log.block_number,
                sent_tx=_hex(log.transaction_hash),
                attempts=0,
                due_at=due_at,
                eligible_at=eligible_at,
                **_FRESH,
            )
            detail = "observed again after a reorg" + (f"; {detail}" if detail else "")
        else:
            record = MessageRecord(
                id=message_id,
                source_chain_id=source,
                dest_chain_id=dest,
                nonce=int(args["nonce"]),
                sender=str(args["sender"]),
                target=str(args["target"]),
                payload=bytes(args["payload"]),
                deadline=deadline,
                sent_block=log.block_number,
                sent_tx=_hex(log.transaction_hash),
                status="sent",
                attempts=0,
                due_at=due_at,
                sent_at=sent_at,
                eligible_at=eligible_at,
            )
            self.store.add_message(record)
        self._emit(emitted, sent_at, message_id, "sent", source, record.sent_tx, detail)
        if known is not None and lane in self.latency and self._is_expired_on_dest(record):
            # Expired on the destination under its orphaned send (its log scanned before
            # the reorg): never deliverable; the send that reappeared is refunded.
            due = max(sent_at, self.clock.now)
            record = self.store.set_status(message_id, "expired", sent_at, due_at=due)
            self._emit(
                emitted,
                sent_at,
                message_id,
                "expired",
                dest,
                None,
                "expired on the destination before the reorg: refunding the send again",
            )
        return record

    def _is_expired_on_dest(self, record: MessageRecord) -> bool:
        dest = self._messengers[record.dest_chain_id]
        return int(dest.status(bytes.fromhex(record.id[2:]))) == STATUS_EXPIRED

    def _observe_other(
        self,
        chain: Chain,
        log: Log,
        name: str,
        args: Mapping[str, Any],
        emitted: list[MessageEvent],
        to_schedule: list[tuple[str, float]],
        to_cancel: list[str],
    ) -> None:
        message_id = _hex(args["id"])
        record = self.store.get(message_id)
        if record is None:
            return  # not sent through a messenger this relayer watches
        at = self._event_time(chain, log)
        tx = _hex(log.transaction_hash)
        if name == "MessageDelivered":
            if record.status == "executed":
                if tx == record.relay_tx:
                    return  # the same delivery, seen again in a rescan after a reorg
                raise DoubleDelivery(f"message {message_id} delivered twice (tx {tx})")
            if record.status == "relayed" and record.relayed_at is not None:
                at = max(at, record.relayed_at)  # never before the relay (whole-second blocks)
            else:
                # Delivered by a transaction we did not record: ours, submitted at its due
                # time just before a crash, or someone else's, at the time it was mined.
                is_ours = chain.get_receipt(log.transaction_hash).sender == self.account
                relayed_at = record.due_at if is_ours and record.due_at is not None else at
                self.store.set_status(
                    message_id,
                    "relayed",
                    relayed_at,
                    relay_tx=tx,
                    attempts=record.attempts + (1 if is_ours else 0),
                )
                self._emit(emitted, relayed_at, message_id, "relayed", chain.chain_id, tx)
                at = max(at, relayed_at)
            self.store.set_status(message_id, "executed", at, due_at=None)
            self._emit(emitted, at, message_id, "executed", chain.chain_id, tx)
            to_cancel.append(message_id)
        elif name == "MessageExpired":
            if record.status in ("expired", "refunded"):
                return  # seen again in a rescan after a reorg
            due = max(at, self.clock.now)
            self.store.set_status(message_id, "expired", at, due_at=due, attempts=0)
            self._emit(emitted, at, message_id, "expired", chain.chain_id, tx)
            to_schedule.append((message_id, due))
        elif name == "MessageRefunded":
            if record.status == "refunded":
                return
            self.store.set_status(message_id, "refunded", at, due_at=None)
            self._emit(emitted, at, message_id, "refunded", chain.chain_id, tx)
            to_cancel.append(message_id)
