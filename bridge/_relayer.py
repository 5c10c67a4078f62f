"""The relayer: an event-driven state machine on the devnet's clock.

It watches every chain's messenger from persisted cursors, waits for confirmations,
samples each message's delivery time from its lane's latency model, collects the
attestation and submits the relay; it expires undeliverable messages on the destination
and refunds them on the source. Everything it knows lives in a :class:`MessageStore`,
and everything it records is derived from the chains and the seed, so a crash at any
point followed by a new ``Relayer`` on the same store loses nothing and delivers nothing
twice (the messenger refuses a second delivery anyway).

Flow of one message (times in clock seconds)::

    MessageSent in block with timestamp T          → status sent      (scan)
    T + confirmations × block_time + latency + fault delay
                                                   → eligible, relay tx submitted
    relay tx mined                                 → relayed          (relay_tx)
    MessageDelivered seen on the destination       → executed         (scan)
    relay reverted (target revert, ...)            → failed, retried with backoff
    deadline passed undelivered                    → expire tx; MessageExpired seen → expired
    refund tx on the source; MessageRefunded seen  → refunded

Virtual time (default): the relayer only schedules clock events — a scan when a chain
seals a block, an action when a message is due — so relays happen inside
``devnet.advance(...)`` at their exact virtual times. Clock ties run in the order
(time, priority, sequence): chain seals (priority 0) before the relayer's scans
(:data:`SCAN_PRIORITY`) before its actions (:data:`ACTION_PRIORITY`). Real time:
``await relayer.run()`` (anyio) drives the same events by calling ``clock.run_due()``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from eth_utils import to_checksum_address

from bridge._deploy import STATUS_EXPIRED, BridgeDeployment, Message
from bridge.confirmation import Confirmation, as_confirmation
from bridge.faults import CRASH_POINTS, CrashPoint, FaultPlan, Faults, RelayerCrash, seeded_rng
from bridge.latency import PRESETS, LatencyModel, as_model
from bridge.store import MessageEvent, MessageRecord, MessageStatus, MessageStore
from chains import ConfigError, TransactionReverted

if TYPE_CHECKING:
    from chains import Chain, Contract, Devnet, Log, Reorg, ScheduledEvent

__all__ = [
    "ACTION_PRIORITY",
    "SCAN_PRIORITY",
    "Backoff",
    "BridgeError",
    "DoubleDelivery",
    "Relayer",
    "UnbackedMint",
]

logger = logging.getLogger(__name__)

#: Clock priority of the relayer's log scans (after chain seals at the same instant).
SCAN_PRIORITY = 10
#: Clock priority of the relayer's actions (after its scans at the same instant).
ACTION_PRIORITY = 20
#: The messenger's refusal of a message already delivered or expired.
ALREADY_PROCESSED = "messenger: already processed"
#: Deadlines at or beyond this are "never" (no expiry is ever scheduled).
NEVER = 2**53

#: What a message observed again after a reorg forgets of its earlier life.
_FRESH: dict[str, Any] = {
    "relayed_at": None,
    "executed_at": None,
    "failed_at": None,
    "expired_at": None,
    "refunded_at": None,
    "relay_tx": None,
    "last_error": None,
}

LaneKey = tuple[int, int]
LatencySpec = str | LatencyModel
FaultsSpec = Faults | None
ConfirmationSpec = int | str | Confirmation


class BridgeError(Exception):
    """Base class of errors the relayer raises on purpose."""


class DoubleDelivery(BridgeError):
    """A message was executed twice: a bug in the messenger, never an expected outcome."""


@dataclass(frozen=True)
class UnbackedMint:
    """A message the destination executed whose sending transaction a reorg took off the
    source chain: what the destination paid out is backed by nothing.

    ``amount`` is the token amount of a token message (0 for a plain message), in the
    home token's units; ``borne_by`` says who holds the loss.
    """

    id: str
    source_chain_id: int
    dest_chain_id: int
    home_chain_id: int | None
    token: str | None
    amount: int
    borne_by: str


@dataclass(frozen=True)
class Backoff:
    """Retry delays: ``base × factor**(failures − 1)`` seconds, capped at ``cap``; at most
    ``max_attempts`` delivery attempts in all before the relayer waits for the deadline."""

    base: float = 2.0
    factor: float = 2.0
    cap: float = 3_600.0
    max_attempts: int = 5

    def __post_init__(self) -> None:
        if not (self.base > 0 and self.factor >= 1 and self.cap >= self.base):
            raise ConfigError(f"invalid backoff {self!r}: need base > 0, factor ≥ 1, cap ≥ base")
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be ≥ 1, got {self.max_attempts}")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (1-based)."""
        return min(self.cap, self.base * self.factor ** max(0, failures - 1))


def _lane_table(
    spec: Any, lanes: Sequence[LaneKey], what: str, convert: Callable[[Any], Any]
) -> dict[LaneKey, Any]:
    """Expand a single value or a ``{(src, dst) | "default": value}`` mapping per lane."""
    if not isinstance(spec, Mapping):
        value = convert(spec)
        return dict.fromkeys(lanes, value)
    unknown = [k for k in spec if k != "default" and tuple(k) not in lanes]
    if unknown:
        raise ConfigError(f"{what}: unknown lane(s) {unknown}; lanes: {list(lanes)}")
    table = {}
    for lane in lanes:
        if lane in spec:
            table[lane] = convert(spec[lane])
        elif "default" in spec:
            table[lane] = convert(spec["default"])
        else:
            raise ConfigError(f"{what}: no entry for lane {lane} and no 'default'")
    return table


def _preset_confirmation(latency: Any) -> Confirmation:
    """The confirmation policy a latency preset assumes (0 blocks for a custom model)."""
    if isinstance(latency, str) and latency in PRESETS:
        return PRESETS[latency].confirmation
    return Confirmation()


def _as_faults(spec: Any) -> Faults:
    if spec is None:
        return Faults()
    if not isinstance(spec, Faults):
        raise ConfigError(f"faults must be a Faults value, got {spec!r}")
    return spec


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _is_sealed(chain: Chain, tx_hash: str) -> bool:
    """Whether the transaction is in a sealed block of the chain's current history."""
    try:
        chain.get_receipt(bytes.fromhex(tx_hash[2:]))
    except KeyError:
        return False
    return True


class Relayer:
    """Delivers messages between the chains of ``deployment`` (see the module docstring).

    ``latency``, ``faults`` and ``confirmations`` are one value for every lane or a mapping
    ``{(source_chain_id, dest_chain_id): value, "default": value}``. ``confirmations`` is
    the lane's confirmation policy (:mod:`bridge.confirmation`): an integer depth n,
    ``"safe"``, ``"finalized"``, a :class:`Confirmation`, or ``"preset"`` (the policy the
    lane's latency preset assumes). A message in a block with timestamp T becomes due at
    T + n × block_time + its sampled latency (what n blocks take, also on virtual chains
    that seal no empty blocks), and is relayed once its block really has n blocks on top
    and is at the policy's finality level; until then it waits. ``seed`` defaults to the
    devnet's. The relay transactions come from ``account`` (default: the chains' last dev
    account).

    Reorgs: when a source chain rewrites blocks holding messages not yet relayed, those
    messages become ``orphaned`` (and are observed again if they reappear); a delivery the
    destination's reorg took away is relayed again; a relayed message whose sending
    transaction is gone is an unbacked mint, reported by :meth:`reconcile`.
    """

    def __init__(
        self,
        devnet: Devnet,
        deployment: BridgeDeployment,
        *,
        store: MessageStore | None = None,
        latency: LatencySpec | Mapping[Any, LatencySpec] = "fast-attestation",
        confirmations: ConfirmationSpec | Mapping[Any, ConfirmationSpec] = 0,
        faults: FaultsSpec | Mapping[Any, FaultsSpec] = None,
        seed: int | None = None,
        account: str | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.devnet = devnet
        self.deployment = deployment
        self.store = store if store is not None else MessageStore(":memory:")
        self.seed = devnet.seed if seed is None else seed
        self.backoff = backoff or Backoff()
        self.chains: dict[int, Chain] = {}
        for chain_id in sorted(deployment.messengers):
            self.chains[chain_id] = devnet.by_chain_id(chain_id)
        self.lanes: list[LaneKey] = [(a, b) for a in self.chains for b in self.chains if a != b]
        self.latency: dict[LaneKey, LatencyModel] = _lane_table(
            latency, self.lanes, "latency", as_model
        )
        names: dict[LaneKey, Any] = _lane_table(latency, self.lanes, "latency", lambda x: x)
        raw = _lane_table(confirmations, self.lanes, "confirmations", lambda x: x)
        #: The confirmation policy of every lane.
        self.confirmation: dict[LaneKey, Confirmation] = {
            lane: _preset_confirmation(names[lane]) if spec == "preset" else as_confirmation(spec)
            for lane, spec in raw.items()
        }
        self.faults: dict[LaneKey, Faults] = _lane_table(faults, self.lanes, "faults", _as_faults)
        first = next(iter(self.chains.values()))
        self.account = to_checksum_address(
            account if account is not None else first.accounts[-1].address
        )
        for chain in self.chains.values():
            if not chain.has_key(self.account):
                raise ConfigError(f"relayer account {self.account} has no key on {chain.name}")
        self._messengers: dict[int, Contract] = {
            cid: deployment.messengers[cid] for cid in self.chains
        }
        self._addresses = {cid: m.address for cid, m in self._messengers.items()}
        self._is_started = False
        self._is_alive = True
        self._is_paused = False
        self._is_listening = False
        self._scan_event: ScheduledEvent | None = None
        self._actions: dict[str, ScheduledEvent] = {}
        self._deferred: set[str] = set()
        self._waiting: set[str] = set()
        self._callbacks: list[Callable[[MessageEvent], None]] = []
        self._armed: set[CrashPoint] = set()
        #: Set when the chains were reverted beneath the relayer without restoring it.
        self.is_stale = False

    def __repr__(self) -> str:
        state = "running" if self._is_started else "stopped"
        return f"<Relayer {state} lanes={len(self.lanes)} store={self.store.path!r}>"

    # ------------------------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------------------------
    @property
    def clock(self) -> Any:
        return self.devnet.clock

    @property
    def is_running(self) -> bool:
        return self._is_started and self._is_alive

    @property
    def is_paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`: observing, not submitting."""
        return self._is_paused

    @property
    def deferred_ids(self) -> frozenset[str]:
        """Messages whose relay came due while paused: :meth:`resume` acts on them."""
        return frozenset(self._deferred)

    def start(self) -> Relayer:
        """Hook into the chains and the clock; resume every message the store holds."""
        if not self._is_alive:
            raise BridgeError("this relayer crashed; start a new Relayer on the same store")
        if self._is_started:
            return self
        self._is_started = True
        if not self._is_listening:
            for chain in self.chains.values():
                chain.on_block(self._on_block)
                chain.on_reorg(self._on_reorg)
            self._is_listening = True
        for record in self.store.messages(("sent", "eligible", "relayed", "failed", "expired")):
            if record.due_at is not None:
                self._schedule_action(record.id, record.due_at)
        self._schedule_scan()
        return self

    def stop(self) -> None:
        """Stop acting: cancel scheduled scans and actions and stop listening to the chains
        (the store keeps everything)."""
        self._is_started = False
        self._cancel_all()
        self._stop_listening()

    def _stop_listening(self) -> None:
        if self._is_listening:
            for chain in self.chains.values():
                chain.off_block(self._on_block)
                chain.off_reorg(self._on_reorg)
            self._is_listening = False

    def pause(self) -> None:
        """Keep observing, stop submitting; due actions wait for :meth:`resume`."""
        self._is_paused = True

    def resume(self) -> None:
        """Run every action that fell due while paused, now."""
        self._is_paused = False
        for message_id in sorted(self._deferred):
            self._schedule_action(message_id, self.clock.now)
        self._deferred.clear()

    async def run(self, *, poll_interval: float = 0.05) -> None:
        """Drive the relayer in real time (the live devnet): fire due clock events every
        ``poll_interval`` seconds until cancelled; stops cleanly on cancellation."""
        if poll_interval <= 0:
            raise ConfigError(f"poll_interval must be > 0 seconds, got {poll_interval}")
        self.start()
        try:
            while True:
                self.clock.run_due()
                await anyio.sleep(poll_interval)
        finally:
            self.stop()

    def arm_crash(self, point: CrashPoint) -> None:
        """Crash (raise :class:`RelayerCrash`) the next time ``point`` is reached."""
        if point not in CRASH_POINTS:
            raise ConfigError(f"unknown crash point {point!r}; known: {', '.join(CRASH_POINTS)}")
        self._armed.add(point)

    def forge(
        self,
        source_chain_id: int,
        dest_chain_id: int,
        *,
        sender: str,
        target: str,
        payload: bytes,
        attacker: str,
        nonce: int = 2**64,
        deadline: int = 2**256 - 1,
    ) -> Any:
        """The ``compromised=k`` fault: an attacker holding the lane's first ``k`` attester
        keys relays a message that was never sent. Returns the receipt if the messenger
        accepts it; raises :class:`TransactionReverted` if it refuses (k < threshold)."""
        lane = (source_chain_id, dest_chain_id)
        if lane not in self.faults:
            raise ConfigError(f"unknown lane {lane}; lanes: {self.lanes}")
        stolen = self.deployment.attester_keys[: self.faults[lane].compromised]
        message = Message.from_fields(
            source_chain_id, dest_chain_id, nonce, sender, target, payload, deadline
        )
        signatures = self.deployment.attest_relay(message, keys=stolen)
        dest = self._messengers[dest_chain_id]
        return dest.relay_message.transact(*message.relay_args(), signatures, sender=attacker)

    # ------------------------------------------------------------------------------------
    # reading
    # ------------------------------------------------------------------------------------
    def messages(self, statuses: Sequence[MessageStatus] | None = None) -> list[MessageRecord]:
        """Every message the relayer knows, in observation order."""
        return self.store.messages(statuses)

    def get(self, message_id: str | bytes) -> MessageRecord | None:
        """One message by id (``0x`` hex or 32 bytes)."""
        return self.store.get(message_id if isinstance(message_id, str) else _hex(message_id))

    def events(self, message_id: str | bytes | None = None) -> list[MessageEvent]:
        """The lifecycle log (of one message, if given)."""
        if isinstance(message_id, bytes):
            message_id = _hex(message_id)
        return self.store.events(message_id)

    def on_event(self, callback: Callable[[MessageEvent], None]) -> None:
        """Call ``callback(event)`` after every committed lifecycle event."""
        self._callbacks.append(callback)

    @property
    def is_quiescent(self) -> bool:
        """No message in flight that the relayer will still act on by itself."""
        return (
            not self._actions
            and not self._deferred
            and not self._waiting
            and self.store.count("relayed") == 0
        )

    # ------------------------------------------------------------------------------------
    # snapshots (devnet.attach)
    # ------------------------------------------------------------------------------------
    def snapshot(self) -> Any:
        """The store (an in-memory copy) and the scheduling state, for devnet snapshots."""
        return (
            self.store.snapshot(),
            dict(self._actions),
            self._scan_event,
            frozenset(self._deferred),
            self._is_paused,
            self._is_started,
            frozenset(self._waiting),
        )

    def restore(self, state: Any) -> None:
        """Return to a :meth:`snapshot`; the devnet restores the clock queue alongside."""
        store, actions, scan, deferred, paused, started, waiting = state
        self.store.restore(store)
        self._waiting = set(waiting)
        self._actions = dict(actions)
        self._scan_event = scan
        self._deferred = set(deferred)
        self._is_paused = paused
        self._is_started = started

    # ------------------------------------------------------------------------------------
    # scanning
    # ------------------------------------------------------------------------------------
    def _on_block(self, block: Any) -> None:
        if self.is_running:
            self._schedule_scan()

    def _schedule_scan(self) -> None:
        if self._scan_event is None:
            self._scan_event = self.clock.schedule(
                self.clock.now, self._scan, priority=SCAN_PRIORITY, label="relayer:scan"
            )

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
            logs = chain.get_logs(
                from_block=cursor, to_block=head, address=self._addresses[chain_id]
            )
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

    # ------------------------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------------------------
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

    def _schedule_action(self, message_id: str, at: float) -> None:
        self._cancel_action(message_id)
        self._actions[message_id] = self.clock.schedule(
            max(at, self.clock.now),
            lambda: self._fire(message_id),
            priority=ACTION_PRIORITY,
            label=f"relayer:{message_id[:10]}",
        )

    def _cancel_action(self, message_id: str) -> None:
        event = self._actions.pop(message_id, None)
        if event is not None:
            self.clock.cancel(event)

    def _cancel_all(self) -> None:
        for message_id in list(self._actions):
            self._cancel_action(message_id)
        if self._scan_event is not None:
            self.clock.cancel(self._scan_event)
            self._scan_event = None

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

    # ------------------------------------------------------------------------------------
    # confirmations and reorgs
    # ------------------------------------------------------------------------------------
    def _is_confirmed(self, record: MessageRecord) -> bool:
        """Whether the message's source block is still on the chain and settled enough."""
        chain = self.chains[record.source_chain_id]
        if not _is_sealed(chain, record.sent_tx):
            return False
        return self.confirmation[record.lane].is_met(chain, record.sent_block)

    def _wait(self, record: MessageRecord) -> None:
        """Hold a due message until its block is confirmed: re-checked after every block
        and, when the finality level has a time rule, at the time it will hold."""
        self._waiting.add(record.id)
        chain = self.chains[record.source_chain_id]
        bound = self.confirmation[record.lane].get_time_bound(chain, record.sent_block)
        if bound is not None:
            self._schedule_action(record.id, bound)

    def _on_reorg(self, reorg: Reorg) -> None:
        self._rewind(self.devnet.by_chain_id(reorg.chain_id), reorg.fork_number)

    def _rewind(self, chain: Chain, fork: int) -> None:
        """A reorg replaced ``chain``'s blocks after ``fork``: rescan from there, orphan the
        messages sent after it that were not relayed yet, and relay again the deliveries
        that are no longer on the chain. Messages relayed from orphaned blocks stay as they
        are: :meth:`reconcile` reports them while their send is gone."""
        chain_id = chain.chain_id
        now = self.clock.now
        emitted: list[MessageEvent] = []
        to_cancel: list[str] = []
        to_schedule: list[tuple[str, float]] = []
        with self.store.transaction():
            cursor = self.store.get_cursor(chain_id)
            if cursor is not None and cursor > fork + 1:
                self.store.set_cursor(chain_id, fork + 1)
            for record in self.store.messages():
                if (
                    record.source_chain_id == chain_id
                    and record.sent_block > fork
                    and record.status in ("sent", "eligible", "failed", "expired")
                ):
                    self.store.update(record.id, status="orphaned", due_at=None)
                    self._emit(
                        emitted,
                        now,
                        record.id,
                        "orphaned",
                        chain_id,
                        record.sent_tx,
                        f"source block {record.sent_block} orphaned by a reorg after {fork}",
                    )
                    to_cancel.append(record.id)
                elif (
                    record.dest_chain_id == chain_id
                    and record.status in ("relayed", "executed")
                    and record.relay_tx is not None
                    and not _is_sealed(chain, record.relay_tx)
                ):
                    self.store.set_status(
                        record.id,
                        "failed",
                        now,
                        due_at=now,
                        last_error="delivery orphaned by a reorg on the destination",
                    )
                    self._emit(
                        emitted,
                        now,
                        record.id,
                        "failed",
                        chain_id,
                        record.relay_tx,
                        f"delivery orphaned by a reorg after block {fork}; relaying again",
                    )
                    to_schedule.append((record.id, now))
        self._publish(emitted)
        for message_id in to_cancel:
            self._cancel_action(message_id)
            self._waiting.discard(message_id)
        for message_id, at in to_schedule:
            self._schedule_action(message_id, at)
        for unbacked in self.reconcile():
            logger.warning(
                "unbacked mint: message %s (%d → %d, amount %d) relayed, its send orphaned",
                unbacked.id[:10],
                unbacked.source_chain_id,
                unbacked.dest_chain_id,
                unbacked.amount,
            )
        if self.is_running:
            self._schedule_scan()

    def reconcile(self) -> list[UnbackedMint]:
        """Messages relayed or executed whose sending transaction is not in a sealed block
        of the source chain now: the destination's payout is unbacked (reorgs deeper than
        the confirmations). Derived from the chains each time it is called, so a send that
        reappears (re-mined from the pool) stops counting."""
        out = []
        for record in self.store.messages(("relayed", "executed")):
            source = self.chains.get(record.source_chain_id)
            if source is None or _is_sealed(source, record.sent_tx):
                continue
            transfer = record.token_transfer
            if transfer is None:
                borne_by = (
                    f"the message target {record.target} on chain {record.dest_chain_id}: "
                    "it acted on a message its source never sent"
                )
            elif transfer.home_chain_id == record.source_chain_id:
                borne_by = (
                    f"holders of the wrapped token on chain {record.dest_chain_id}: minted "
                    f"against a lock on chain {record.source_chain_id} that no longer exists"
                )
            else:
                borne_by = (
                    f"the bridge's escrow on chain {transfer.home_chain_id}: it released "
                    f"tokens for a burn on chain {record.source_chain_id} that no longer exists"
                )
            out.append(
                UnbackedMint(
                    id=record.id,
                    source_chain_id=record.source_chain_id,
                    dest_chain_id=record.dest_chain_id,
                    home_chain_id=None if transfer is None else transfer.home_chain_id,
                    token=None if transfer is None else transfer.home_token,
                    amount=0 if transfer is None else transfer.amount,
                    borne_by=borne_by,
                )
            )
        return out

    # ------------------------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------------------------
    def _plan(self, lane: LaneKey, message_id: str, attempt: int) -> FaultPlan:
        return self.faults[lane].plan(self.seed, message_id, attempt)

    def _event_time(self, chain: Chain, log: Log) -> float:
        """When a logged event happened, in clock time: its block's timestamp, or the
        clock now if the chain's timestamps ran ahead of the clock (automine chains give
        every block its own second, so a burst of transactions outruns the clock)."""
        return min(float(chain.get_block(log.block_number).timestamp), self.clock.now)

    def _expiry_time(self, deadline: int) -> float | None:
        """When an undelivered message can be expired (block time past the deadline)."""
        return None if deadline >= NEVER else float(deadline + 1)

    def _message(self, record: MessageRecord) -> Message:
        return Message(
            source_chain_id=record.source_chain_id,
            dest_chain_id=record.dest_chain_id,
            nonce=record.nonce,
            sender=record.sender,
            target=record.target,
            payload=record.payload,
            deadline=record.deadline,
            id=bytes.fromhex(record.id[2:]),
        )

    def _starved_gas(self, dest: Contract, args: tuple[Any, ...]) -> int:
        """A gas limit that covers the calldata but not the delivery (target_revert)."""
        data = dest.relay_message.encode(*args)
        zeros = data.count(0)
        tokens = zeros + 4 * (len(data) - zeros)
        return 21_000 + 10 * tokens + 25_000

    @staticmethod
    def _reason(exc: TransactionReverted, *, injected: bool) -> str:
        reason = exc.reason or (exc.receipt.error if exc.receipt is not None else None)
        text = reason or "reverted without a reason"
        return f"{text} (injected target revert)" if injected else text

    def _maybe_crash(self, point: CrashPoint, message_id: str, lane: LaneKey) -> None:
        """Raise :class:`RelayerCrash` if armed, or if the lane's faults say so and this
        (message, point) has not crashed before; the instance is dead afterwards."""
        crash = point in self._armed
        if not crash and lane in self.faults and self.faults[lane].crash_at:
            key = f"{message_id}:{point}"
            plan = self._plan(lane, message_id, 0)
            crash = point in plan.crash_points and not self.store.has_mark(key)
            if crash:
                self.store.add_mark(key)
        if crash:
            self._armed.discard(point)
            self._is_alive = False
            self._cancel_all()
            self._stop_listening()
            raise RelayerCrash(point, message_id)

    def _emit(
        self,
        emitted: list[MessageEvent],
        time: float,
        message_id: str,
        status: str,
        chain_id: int,
        tx: str | None = None,
        detail: str = "",
    ) -> None:
        event = MessageEvent(time, message_id, status, chain_id, tx, detail)
        self.store.add_event(event)
        emitted.append(event)

    def _publish(self, events: list[MessageEvent]) -> None:
        for event in events:
            logger.debug(
                "message %s %s at %s %s", event.id[:10], event.status, event.time, event.detail
            )
            for callback in self._callbacks:
                callback(event)
