"""The relayer's ground floor: its errors and values, the per-lane tables, and the state
and helpers every part of it shares (clock scheduling, lifecycle events, fault plans,
crash points).

The relayer is one class, :class:`bridge.Relayer`, built in layers, each a module:
``_relayer_core`` (this one) ← ``_relayer_reorgs`` (confirmations, reorgs, the
reconciler) ← ``_relayer_scan`` (reading the messengers' logs) ← ``_relayer_actions``
(relay, expire, refund, retries) ← ``_relayer`` (construction, lifecycle, reading,
snapshots). Each layer uses only what the layers below it define, plus the three
lifecycle hooks declared here for the type checker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bridge._deploy import BridgeDeployment, Message
from bridge.confirmation import Confirmation
from bridge.faults import CrashPoint, FaultPlan, Faults, RelayerCrash
from bridge.latency import PRESETS, LatencyModel
from bridge.store import MessageEvent, MessageRecord, MessageStore
from chains import ConfigError, TransactionReverted

if TYPE_CHECKING:
    from chains import Chain, Contract, Devnet, Log, ScheduledEvent

__all__ = [
    "ACTION_PRIORITY",
    "SCAN_PRIORITY",
    "Backoff",
    "BridgeError",
    "DoubleDelivery",
    "RelayerCore",
    "UnbackedMint",
]

logger = logging.getLogger("bridge._relayer")

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


class RelayerCore:
    """The state every layer of the relayer reads (set by ``Relayer.__init__``) and the
    helpers they share."""

    devnet: Devnet
    deployment: BridgeDeployment
    store: MessageStore
    seed: int
    backoff: Backoff
    chains: dict[int, Chain]
    lanes: list[LaneKey]
    latency: dict[LaneKey, LatencyModel]
    confirmation: dict[LaneKey, Confirmation]
    faults: dict[LaneKey, Faults]
    account: str
    is_stale: bool
    _messengers: dict[int, Contract]
    _addresses: dict[int, str]
    _is_started: bool
    _is_alive: bool
    _is_paused: bool
    _is_listening: bool
    _scan_event: ScheduledEvent | None
    _actions: dict[str, ScheduledEvent]
    _deferred: set[str]
    _waiting: set[str]
    _callbacks: list[Callable[[MessageEvent], None]]
    _armed: set[CrashPoint]
    _reported: set[str]

    if TYPE_CHECKING:
        # lifecycle hooks, defined by the layers above
        def stop(self) -> None: ...
        def _stop_listening(self) -> None: ...
        def _scan(self) -> int: ...
        def _fire(self, message_id: str) -> None: ...

    # ------------------------------------------------------------------------------------
    # clock scheduling
    # ------------------------------------------------------------------------------------
    @property
    def clock(self) -> Any:
        return self.devnet.clock

    @property
    def is_running(self) -> bool:
        return self._is_started and self._is_alive

    def _on_block(self, block: Any) -> None:
        if self.is_running:
            self._schedule_scan()

    def _schedule_scan(self) -> None:
        if self._scan_event is None:
            self._scan_event = self.clock.schedule(
                self.clock.now, self._scan, priority=SCAN_PRIORITY, label="relayer:scan"
            )

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
