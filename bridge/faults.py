"""Seeded fault injection for the relayer, configurable per lane.

A :class:`Faults` value says what can go wrong on one lane (source chain → destination
chain); :meth:`Faults.plan` turns it into the concrete decisions for one delivery attempt
of one message, drawn from a ``random.Random`` seeded by ``(seed, message id, attempt)``
so the same seed gives the same faults however the run is interleaved, crashed or
restarted.

What each fault means (the relayer's reaction in brackets):

* ``drop=p`` — the relayer loses the message: it never relays it on its own [the message
  stays ``sent``; after its deadline it is expired on the destination and refunded on the
  source; ``Relayer.relay_now(id)`` still delivers it before then].
* ``duplicate=p`` — the relay transaction is submitted twice [the second is refused on
  chain; "already delivered" counts as done, never as an error loop].
* ``reorder_window=s`` — each message waits an extra uniform ``[0, s]`` seconds, so
  messages of one lane can overtake each other.
* ``delay_spike=(p, s)`` — with probability ``p`` the message waits ``s`` more seconds.
* ``crash_at={point: p}`` (or a set of points, p = 1) — :class:`RelayerCrash` is raised at
  the named point of handling a message: ``after_observe`` (its log was read, nothing
  recorded), ``after_submit`` (the relay transaction is on chain, not recorded) or
  ``after_record`` (everything recorded). Each (message, point) crashes at most once; the
  marks live in the relayer's store so a restart does not crash at the same place again.
* ``target_revert=p`` — a delivery attempt reverts on chain. Injected as a relay
  transaction with too little gas for the call into the target, which reverts the whole
  delivery exactly as a reverting target does (the messenger undoes its "delivered" mark)
  [recorded ``failed`` with the reason, retried with backoff]. A target that really
  reverts is covered by the tests with a reverting mock target.
* reorgs (:class:`ReorgFaults`, per chain, run by a :class:`ReorgInjector`) — the chain
  rewrites its last ``d`` blocks at Poisson times, ``d`` from a depth distribution
  (:class:`FixedDepth`, :class:`GeometricDepth`) clipped at the finalized head, the
  orphaned transactions discarded or re-pooled [the relayer orphans messages not yet
  relayed and observes them again if they reappear; one already relayed whose lock is
  gone is an unbacked mint, which ``Relayer.reconcile()`` reports].
* ``compromised=k`` — an attacker holds ``k`` of the attester keys and forges messages on
  this lane (:meth:`Relayer.forge`). Security model: with ``k`` below the messenger's
  threshold every forgery is rejected; with ``k`` at or above it a forgery executes —
  the bridge is exactly as safe as its threshold of honest attesters.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from chains import ConfigError

if TYPE_CHECKING:
    from chains import Devnet, ScheduledEvent

__all__ = [
    "CRASH_POINTS",
    "REORG_PRIORITY",
    "CrashPoint",
    "FaultPlan",
    "Faults",
    "FixedDepth",
    "GeometricDepth",
    "InjectedReorg",
    "RelayerCrash",
    "ReorgDepth",
    "ReorgFaults",
    "ReorgInjector",
    "seeded_rng",
]

CrashPoint = Literal["after_observe", "after_submit", "after_record"]
#: The points where an injected crash can stop the relayer, in the order they are reached.
CRASH_POINTS: tuple[CrashPoint, ...] = get_args(CrashPoint)


class RelayerCrash(RuntimeError):
    """An injected relayer crash: the instance that raised it must be dropped; a new
    ``Relayer`` on the same store picks up where it stopped."""

    def __init__(self, point: CrashPoint, message_id: str) -> None:
        super().__init__(f"injected relayer crash {point} for message {message_id}")
        self.point = point
        self.message_id = message_id


def seeded_rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded by a stable hash of ``parts`` (never Python's ``hash``)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def _probability(name: str, value: float) -> float:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise ConfigError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class FaultPlan:
    """The faults decided for one attempt at delivering one message."""

    is_dropped: bool = False
    is_duplicated: bool = False
    extra_delay: float = 0.0
    is_reverted: bool = False
    crash_points: frozenset[CrashPoint] = frozenset()


@dataclass(frozen=True)
class Faults:
    """What can go wrong on a lane; all draws seeded (see the module docstring)."""

    drop: float = 0.0
    duplicate: float = 0.0
    reorder_window: float = 0.0
    delay_spike: tuple[float, float] = (0.0, 0.0)
    crash_at: Mapping[str, float] | Collection[str] = field(default_factory=dict)
    target_revert: float = 0.0
    compromised: int = 0
    seed: int | None = None

    def __post_init__(self) -> None:
        _probability("Faults.drop", self.drop)
        _probability("Faults.duplicate", self.duplicate)
        _probability("Faults.target_revert", self.target_revert)
        if not (math.isfinite(self.reorder_window) and self.reorder_window >= 0):
            raise ConfigError(
                f"Faults.reorder_window must be ≥ 0 seconds, got {self.reorder_window!r}"
            )
        try:
            p, seconds = self.delay_spike
        except (TypeError, ValueError):
            raise ConfigError(
                f"Faults.delay_spike must be (probability, seconds), got {self.delay_spike!r}"
            ) from None
        _probability("Faults.delay_spike probability", p)
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ConfigError(f"Faults.delay_spike seconds must be ≥ 0, got {seconds!r}")
        crash = (
            dict(self.crash_at)
            if isinstance(self.crash_at, Mapping)
            else dict.fromkeys(self.crash_at, 1.0)
        )
        unknown = sorted(set(crash) - set(CRASH_POINTS))
        if unknown:
            raise ConfigError(
                f"unknown crash point(s) {', '.join(unknown)}; known: {', '.join(CRASH_POINTS)}"
            )
        for point, prob in crash.items():
            _probability(f"Faults.crash_at[{point!r}]", prob)
        # Stored in the canonical point order so iteration never depends on input order.
        object.__setattr__(self, "crash_at", {p: crash[p] for p in CRASH_POINTS if p in crash})
        if not (isinstance(self.compromised, int) and self.compromised >= 0):
            raise ConfigError(
                f"Faults.compromised must be an integer ≥ 0, got {self.compromised!r}"
            )

    @property
    def crash_probabilities(self) -> dict[CrashPoint, float]:
        """``crash_at`` normalised: point → probability, in :data:`CRASH_POINTS` order."""
        crash = self.crash_at
        assert isinstance(crash, dict)  # normalised in __post_init__
        return dict(crash)

    @property
    def is_quiet(self) -> bool:
        """Whether this configuration injects nothing that affects delivery."""
        return self == Faults(compromised=self.compromised, seed=self.seed)

    def plan(self, seed: int, message_id: str, attempt: int) -> FaultPlan:
        """The faults for ``attempt`` (0-based) at delivering ``message_id``.

        Drop, reorder and spike apply to the first attempt only (they describe how the
        message reaches the relayer); duplicate and revert are per attempt; crashes per
        (message, point), the relayer remembering which already fired.
        """
        rng = seeded_rng(
            "faults", self.seed if self.seed is not None else seed, message_id, attempt
        )
        # Always draw in the same order and the same number of times: a changed
        # probability must not shift the other faults' draws.
        u_drop, u_dup, u_reorder, u_spike, u_revert = (rng.random() for _ in range(5))
        crashes = frozenset(
            point
            for point, prob in self.crash_probabilities.items()
            if seeded_rng(
                "crash", self.seed if self.seed is not None else seed, message_id, point
            ).random()
            < prob
        )
        first = attempt == 0
        extra = 0.0
        if first:
            extra += self.reorder_window * u_reorder
            if u_spike < self.delay_spike[0]:
                extra += self.delay_spike[1]
        return FaultPlan(
            is_dropped=first and u_drop < self.drop,
            is_duplicated=u_dup < self.duplicate,
            extra_delay=extra,
            is_reverted=u_revert < self.target_revert,
            crash_points=crashes,
        )


# ----------------------------------------------------------------------------------------
# settlement risk: seeded reorgs per chain
# ----------------------------------------------------------------------------------------
#: Clock priority of injected reorgs: after chain seals (0), before relayer scans (10).
REORG_PRIORITY = 5


class ReorgDepth(Protocol):
    """A distribution of reorg depths in blocks (≥ 1): one hook, ``sample(rng)``."""

    def sample(self, rng: random.Random) -> int: ...

    def describe(self) -> str: ...


@dataclass(frozen=True)
class FixedDepth:
    """Always ``depth`` blocks."""

    depth: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.depth, int) or self.depth < 1:
            raise ConfigError(f"FixedDepth.depth must be an integer ≥ 1, got {self.depth!r}")

    def sample(self, rng: random.Random) -> int:
        return self.depth

    def describe(self) -> str:
        return f"{self.depth} blocks"


@dataclass(frozen=True)
class GeometricDepth:
    """``P(d) = (1 − p)^(d − 1)·p`` with ``p = 1 / mean``, truncated at ``cap`` (a draw past
    the cap is the cap): short reorgs common, deep ones rare, as on proof-of-stake chains."""

    mean: float = 1.5
    cap: int = 64

    def __post_init__(self) -> None:
        if not (isinstance(self.mean, int | float) and math.isfinite(self.mean) and self.mean >= 1):
            raise ConfigError(f"GeometricDepth.mean must be ≥ 1 block, got {self.mean!r}")
        if not isinstance(self.cap, int) or self.cap < 1:
            raise ConfigError(f"GeometricDepth.cap must be an integer ≥ 1, got {self.cap!r}")

    def sample(self, rng: random.Random) -> int:
        p = 1.0 / self.mean
        u = rng.random()
        if p >= 1.0:
            return 1
        # inverse CDF of the geometric law on {1, 2, ...}: ⌈ln(1 − u) / ln(1 − p)⌉
        depth = max(1, math.ceil(math.log1p(-u) / math.log1p(-p)))
        return min(depth, self.cap)

    def describe(self) -> str:
        return f"geometric(mean {self.mean:g}, cap {self.cap})"


@dataclass(frozen=True)
class ReorgFaults:
    """A chain's reorg process: a Poisson process of ``rate`` reorgs per hour of clock time,
    each of a depth drawn from ``depth`` (clipped to what the chain's finality allows: a
    reorg never replaces a finalized block). The orphaned transactions are discarded or
    sent back to the pending block (``dropped``). Draws are seeded by (seed, chain id,
    reorg index), so a run is reproducible however it interleaves."""

    rate: float
    depth: ReorgDepth = field(default_factory=FixedDepth)
    dropped: Literal["discard", "pool"] = "discard"
    seed: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.rate, int | float) and math.isfinite(self.rate) and self.rate >= 0):
            raise ConfigError(f"ReorgFaults.rate must be ≥ 0 reorgs per hour, got {self.rate!r}")
        if isinstance(self.depth, int):
            object.__setattr__(self, "depth", FixedDepth(self.depth))
        if not hasattr(self.depth, "sample"):
            raise ConfigError(f"ReorgFaults.depth must be a depth distribution, got {self.depth!r}")
        if self.dropped not in ("discard", "pool"):
            raise ConfigError(
                f"ReorgFaults.dropped must be 'discard' or 'pool', got {self.dropped!r}"
            )

    def draw(self, seed: int, chain_id: int, index: int) -> tuple[float, int]:
        """The ``index``-th reorg of a chain: (seconds after the previous one, depth)."""
        rng = seeded_rng("reorg", self.seed if self.seed is not None else seed, chain_id, index)
        gap = rng.expovariate(self.rate / 3_600.0) if self.rate > 0 else math.inf
        return gap, self.depth.sample(rng)


@dataclass(frozen=True)
class InjectedReorg:
    """One reorg the injector attempted: when, where, the depth drawn and the depth done
    (0: the chain had no unfinalized block to replace)."""

    time: float
    chain_id: int
    drawn: int
    depth: int
    dropped: tuple[str, ...] = ()


class ReorgInjector:
    """Runs each chain's :class:`ReorgFaults` on the devnet's clock (``start``/``stop``).

    ``faults`` is one value for every chain or ``{chain_id | "default": ReorgFaults}``.
    It is a devnet participant (``devnet.attach(injector)``): snapshots cover its schedule
    and its log. ``floors`` (``{chain_id: block}``) keeps reorgs above those blocks.
    :attr:`log` lists every attempt (:class:`InjectedReorg`).
    """

    def __init__(
        self,
        devnet: Devnet,
        faults: ReorgFaults | Mapping[Any, ReorgFaults],
        *,
        seed: int | None = None,
        chains: Collection[int] | None = None,
        floors: Mapping[int, int] | None = None,
    ) -> None:
        self.devnet = devnet
        #: Per chain, the highest block a reorg never replaces (besides finalized ones):
        #: e.g. the heads when a run starts, so its reorgs touch only its own blocks.
        self.floors: dict[int, int] = dict(floors or {})
        self.seed = devnet.seed if seed is None else seed
        ids = [c.chain_id for c in devnet.chains] if chains is None else list(chains)
        table: dict[int, ReorgFaults] = {}
        if isinstance(faults, ReorgFaults):
            table = dict.fromkeys(ids, faults)
        else:
            unknown = [k for k in faults if k != "default" and k not in ids]
            if unknown:
                raise ConfigError(f"reorg faults for unknown chain(s) {unknown}; chains: {ids}")
            for chain_id in ids:
                spec = faults.get(chain_id, faults.get("default"))
                if spec is not None:
                    table[chain_id] = spec
        for spec in table.values():
            if not isinstance(spec, ReorgFaults):
                raise ConfigError(f"reorg faults must be ReorgFaults values, got {spec!r}")
        self.faults = table
        self.log: list[InjectedReorg] = []
        self._index: dict[int, int] = dict.fromkeys(table, 0)
        self._events: dict[int, ScheduledEvent] = {}

    def start(self) -> ReorgInjector:
        for chain_id in sorted(self.faults):
            if chain_id not in self._events:
                self._schedule(chain_id)
        return self

    def stop(self) -> None:
        for event in self._events.values():
            self.devnet.clock.cancel(event)
        self._events.clear()

    def _schedule(self, chain_id: int) -> None:
        gap, _ = self.faults[chain_id].draw(self.seed, chain_id, self._index[chain_id])
        if math.isinf(gap):
            return
        clock = self.devnet.clock
        self._events[chain_id] = clock.schedule(
            clock.now + gap,
            lambda: self._fire(chain_id),
            priority=REORG_PRIORITY,
            label=f"reorg:{chain_id}",
        )

    def _fire(self, chain_id: int) -> None:
        self._events.pop(chain_id, None)
        spec = self.faults[chain_id]
        _, drawn = spec.draw(self.seed, chain_id, self._index[chain_id])
        self._index[chain_id] += 1
        chain = self.devnet.by_chain_id(chain_id)
        floor = max(chain.finalized_block_number, self.floors.get(chain_id, 0))
        depth = max(0, min(drawn, chain.block_number - floor))
        dropped: tuple[str, ...] = ()
        if depth > 0:
            reorg = chain.reorg(depth, dropped=spec.dropped)
            dropped = tuple("0x" + h.hex() for h in reorg.dropped)
        self.log.append(InjectedReorg(self.devnet.clock.now, chain_id, drawn, depth, dropped))
        self._schedule(chain_id)

    # devnet participant
    def snapshot(self) -> Any:
        return (dict(self._index), dict(self._events), list(self.log))

    def restore(self, state: Any) -> None:
        index, events, log = state
        self._index = dict(index)
        self._events = dict(events)
        self.log = list(log)
