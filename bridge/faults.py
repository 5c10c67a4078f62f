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
from typing import Literal, get_args

from chains import ConfigError

__all__ = [
    "CRASH_POINTS",
    "CrashPoint",
    "FaultPlan",
    "Faults",
    "RelayerCrash",
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
