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

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
from eth_utils import to_checksum_address

from bridge._deploy import BridgeDeployment, Message
from bridge._relayer_actions import Actions
from bridge._relayer_core import (
    ACTION_PRIORITY,
    SCAN_PRIORITY,
    Backoff,
    BridgeError,
    ConfirmationSpec,
    DoubleDelivery,
    FaultsSpec,
    LaneKey,
    LatencySpec,
    UnbackedMint,
    _as_faults,
    _hex,
    _lane_table,
    _preset_confirmation,
)
from bridge.confirmation import Confirmation, as_confirmation
from bridge.faults import CRASH_POINTS, CrashPoint, Faults
from bridge.latency import LatencyModel, as_model
from bridge.store import MessageEvent, MessageRecord, MessageStatus, MessageStore
from chains import ConfigError

if TYPE_CHECKING:
    from chains import Chain, Contract, Devnet, ScheduledEvent

__all__ = [
    "ACTION_PRIORITY",
    "SCAN_PRIORITY",
    "Backoff",
    "BridgeError",
    "DoubleDelivery",
    "Relayer",
    "UnbackedMint",
]


class Relayer(Actions):
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
        # checksummed once: each scan filters its chain's logs by it (``_relayer_scan``)
        self._addresses = {
            cid: to_checksum_address(m.address) for cid, m in self._messengers.items()
        }
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
        #: unbacked mints already logged (each is logged once)
        self._reported: set[str] = set()
        #: Set when the chains were reverted beneath the relayer without restoring it.
        self.is_stale = False

    def __repr__(self) -> str:
        state = "running" if self._is_started else "stopped"
        return f"<Relayer {state} lanes={len(self.lanes)} store={self.store.path!r}>"

    # ------------------------------------------------------------------------------------
    # lifecycle
    # ------------------------------------------------------------------------------------

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
