"""Latency models: how long a cross-chain message takes, sampled from a seeded distribution.

Each model is a small frozen dataclass with one hook, ``sample(rng) -> seconds``, plus its
analytic ``quantile(q)`` (so the presets table needs no sampling). The relayer draws every
message's latency from a ``random.Random`` seeded by ``(seed, message id, attempt)``, never
from a shared stream, so crashes, restarts and reorderings give the same times.

A new model is a new class with ``sample``, ``quantile`` and ``describe``; nothing else
changes (see :class:`LatencyModel`).

The presets stand for the bridge families of DESIGN §7; each one's docstring entry in
:data:`PRESETS` gives the source of its numbers (``testbed presets`` prints the table).
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import NamedTuple, Protocol, runtime_checkable

from bridge.confirmation import Confirmation
from chains import ConfigError

__all__ = [
    "PRESETS",
    "Constant",
    "Empirical",
    "Exponential",
    "LatencyModel",
    "LogNormal",
    "Preset",
    "PresetRow",
    "Uniform",
    "get_preset",
    "presets_table",
]

_MINUTE = 60.0
_HOUR = 3_600.0
_DAY = 86_400.0


@runtime_checkable
class LatencyModel(Protocol):
    """A distribution of delivery delays in seconds (≥ 0)."""

    def sample(self, rng: random.Random) -> float:
        """One delay, drawn with ``rng`` only (no other source of randomness)."""
        ...

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (0 ≤ q ≤ 1) of the distribution, analytically."""
        ...

    def describe(self) -> str:
        """A short human description, e.g. ``uniform(8 s, 20 s)``."""
        ...


def _check_q(q: float) -> None:
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile must be in [0, 1], got {q}")


def _non_negative(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise ConfigError(f"{name} must be a finite number ≥ 0 seconds, got {value!r}")


def format_seconds(seconds: float) -> str:
    """``0 s``, ``8.5 s``, ``13.0 min``, ``6.40 d``: a duration at a readable scale."""
    if seconds < _MINUTE:
        return f"{seconds:.3g} s"
    if seconds < _HOUR:
        return f"{seconds / _MINUTE:.3g} min"
    if seconds < _DAY:
        return f"{seconds / _HOUR:.3g} h"
    return f"{seconds / _DAY:.3g} d"


@dataclass(frozen=True)
class Constant:
    """Always ``seconds``."""

    seconds: float

    def __post_init__(self) -> None:
        _non_negative("Constant.seconds", self.seconds)

    def sample(self, rng: random.Random) -> float:
        return float(self.seconds)

    def quantile(self, q: float) -> float:
        _check_q(q)
        return float(self.seconds)

    def describe(self) -> str:
        return f"constant {format_seconds(self.seconds)}"


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[low, high]``."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _non_negative("Uniform.low", self.low)
        _non_negative("Uniform.high", self.high)
        if self.high < self.low:
            raise ConfigError(f"Uniform needs low ≤ high, got low={self.low}, high={self.high}")

    def sample(self, rng: random.Random) -> float:
        return self.low + (self.high - self.low) * rng.random()

    def quantile(self, q: float) -> float:
        _check_q(q)
        return self.low + (self.high - self.low) * q

    def describe(self) -> str:
        return f"uniform({format_seconds(self.low)}, {format_seconds(self.high)})"


@dataclass(frozen=True)
class Exponential:
    """``shift`` plus an exponential delay of mean ``mean`` (memoryless waiting)."""

    mean: float
    shift: float = 0.0

    def __post_init__(self) -> None:
        _non_negative("Exponential.shift", self.shift)
        if not (math.isfinite(self.mean) and self.mean > 0):
            raise ConfigError(f"Exponential.mean must be a finite number > 0, got {self.mean!r}")

    def sample(self, rng: random.Random) -> float:
        # Inverse CDF on one uniform draw: -mean·ln(1 − u), u ∈ [0, 1).
        return self.shift - self.mean * math.log1p(-rng.random())

    def quantile(self, q: float) -> float:
        _check_q(q)
        if q == 1.0:
            return math.inf
        return self.shift - self.mean * math.log1p(-q)

    def describe(self) -> str:
        shift = f"{format_seconds(self.shift)} + " if self.shift else ""
        return f"{shift}exponential(mean {format_seconds(self.mean)})"


@dataclass(frozen=True)
class LogNormal:
    """Log-normal with the given ``median`` and log-space standard deviation ``sigma``,
    optionally capped at ``cap`` seconds: median·exp(σ·Z), Z ~ N(0, 1)."""

    median: float
    sigma: float
    cap: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.median) and self.median > 0):
            raise ConfigError(f"LogNormal.median must be > 0 seconds, got {self.median!r}")
        _non_negative("LogNormal.sigma", self.sigma)
        if self.cap is not None and not self.cap >= self.median:
            raise ConfigError(f"LogNormal.cap must be ≥ the median, got {self.cap!r}")

    def sample(self, rng: random.Random) -> float:
        # One uniform draw through the normal inverse CDF keeps one draw per sample.
        u = rng.random()
        z = NormalDist().inv_cdf(min(max(u, 1e-12), 1 - 1e-12))
        value = self.median * math.exp(self.sigma * z)
        return value if self.cap is None else min(value, self.cap)

    def quantile(self, q: float) -> float:
        _check_q(q)
        if q in (0.0, 1.0):
            edge = 0.0 if q == 0.0 else math.inf
            return edge if self.cap is None or q == 0.0 else self.cap
        value = self.median * math.exp(self.sigma * NormalDist().inv_cdf(q))
        return value if self.cap is None else min(value, self.cap)

    def describe(self) -> str:
        cap = f", cap {format_seconds(self.cap)}" if self.cap is not None else ""
        return f"lognormal(median {format_seconds(self.median)}, σ {self.sigma:g}{cap})"


@dataclass(frozen=True)
class Empirical:
    """An empirical distribution given by its quantile function at a few points.

    ``points`` are ``(q, seconds)`` pairs with q from 0 to 1 inclusive, both strictly
    increasing in q and non-decreasing in seconds; between points the inverse CDF is
    linear. :meth:`from_samples` builds one from observed delays.
    """

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        pts = tuple((float(q), float(s)) for q, s in self.points)
        object.__setattr__(self, "points", pts)
        if len(pts) < 2:
            raise ConfigError("Empirical needs at least two (q, seconds) points")
        if pts[0][0] != 0.0 or pts[-1][0] != 1.0:
            raise ConfigError("Empirical points must start at q=0 and end at q=1")
        for (q0, s0), (q1, s1) in zip(pts, pts[1:], strict=False):
            if not q1 > q0:
                raise ConfigError(f"Empirical quantiles must increase strictly: {q0} then {q1}")
            if s1 < s0:
                raise ConfigError(f"Empirical seconds must not decrease: {s0} then {s1}")
        for _, s in pts:
            _non_negative("Empirical seconds", s)

    @classmethod
    def from_samples(cls, samples: Iterable[float]) -> Empirical:
        """The empirical distribution of observed delays (order statistics, interpolated)."""
        values = sorted(float(s) for s in samples)
        if len(values) < 2:
            raise ConfigError("Empirical.from_samples needs at least two samples")
        n = len(values) - 1
        return cls(tuple((i / n, v) for i, v in enumerate(values)))

    @classmethod
    def from_quantiles(cls, quantiles: Mapping[float, float]) -> Empirical:
        """From a ``{q: seconds}`` table, e.g. ``{0: 1, 0.5: 4, 0.95: 30, 1: 300}``."""
        return cls(tuple(sorted(quantiles.items())))

    def sample(self, rng: random.Random) -> float:
        return self.quantile(rng.random())

    def quantile(self, q: float) -> float:
        _check_q(q)
        qs = [p[0] for p in self.points]
        i = bisect.bisect_right(qs, q)
        if i >= len(self.points):
            return self.points[-1][1]
        (q0, s0), (q1, s1) = self.points[i - 1], self.points[i]
        return s0 + (s1 - s0) * (q - q0) / (q1 - q0)

    def describe(self) -> str:
        lo, hi = self.points[0][1], self.points[-1][1]
        return f"empirical({len(self.points)} pts, {format_seconds(lo)}–{format_seconds(hi)})"


class Preset(NamedTuple):
    """A named latency model with what it stands for and where its numbers come from, and
    the confirmation policy that latency assumes (what a relayer must wait for on the
    source chain; ``Relayer(confirmations="preset")`` uses it)."""

    name: str
    model: LatencyModel
    stands_for: str
    source: str
    confirmation: Confirmation = Confirmation()


#: DESIGN §7 presets. Sources (public documentation; the distribution shapes are our
#: modelling choice where the source gives only a range):
#:
#: * ``same-block`` — shared sequencer / synchronous interop: the message executes at the
#:   instant it is sent (0 s), the lower bound every other preset is compared with.
#: * ``interop`` — OP Superchain interop: a message initiated in one L2 block is executable
#:   in the next block of the destination (2 s block time, OP Stack specs, "interop"
#:   section); uniform over 1–3 s (one block time, ± where the destination's block
#:   boundary falls), median 2 s.
#: * ``intent-fill`` — solver/relayer fills (Across): fills in about 2–9 s, with a heavy tail
#:   to minutes when relayers lack inventory (Across docs, "fill times"; public fill-time
#:   dashboards). Empirical quantiles: p50 4 s, p90 9 s, p99 2 min, max 10 min.
#: * ``fast-attestation`` — Circle CCTP v2 Fast Transfer: attestation after soft finality,
#:   8–20 s depending on the source chain (Circle developer docs, "CCTP: block
#:   confirmations / Fast Transfer"); uniform over that range.
#: * ``finality`` — waiting for Ethereum L1 finality (CCTP standard transfer, Wormhole
#:   "finalized" consistency level): two epochs, about 13–19 minutes (Circle docs; Wormhole
#:   docs, "consistency levels"); uniform over that range.
#: * ``optimistic-canonical`` — a rollup's canonical withdrawal: Arbitrum's challenge period
#:   of 45,818 L1 blocks ≈ 6.4 days (Arbitrum docs) to the OP Stack's 7-day fault-proof
#:   window (Optimism docs); uniform over that range.
#:
#: Confirmation policies they assume: ``same-block``, ``interop`` and ``intent-fill`` act
#: on the source's latest block (0 confirmations: a shared sequencer's or solver's
#: preconfirmation; OP interop executes against unsafe heads, reorg risk left to the
#: dependency set) — fast, and exposed to reorgs; ``fast-attestation`` waits for soft
#: finality, modelled as 2 blocks (Circle attests fast transfers after a few blocks, the
#: rest of the reorg risk borne by its fast-transfer allowance); ``finality`` and
#: ``optimistic-canonical`` wait for the source's ``finalized`` head — safe, and slow.
PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "same-block",
            Constant(0.0),
            "shared sequencer / synchronous interop",
            "by construction: executes when sent",
            Confirmation(),
        ),
        Preset(
            "interop",
            Uniform(1.0, 3.0),
            "1-block optimistic interop (OP Superchain)",
            "OP Stack interop specs; 2 s L2 blocks",
            Confirmation(),
        ),
        Preset(
            "intent-fill",
            Empirical.from_quantiles(
                {0.0: 1.5, 0.25: 2.5, 0.5: 4.0, 0.75: 6.5, 0.9: 9.0, 0.99: 120.0, 1.0: 600.0}
            ),
            "solver/relayer fills (Across)",
            "Across docs and fill-time dashboards: 2-9 s, tail to minutes",
            Confirmation(),
        ),
        Preset(
            "fast-attestation",
            Uniform(8.0, 20.0),
            "CCTP v2 Fast Transfer",
            "Circle CCTP docs: 8-20 s by source chain",
            Confirmation(depth=2),
        ),
        Preset(
            "finality",
            Uniform(13 * _MINUTE, 19 * _MINUTE),
            "L1 finality (CCTP standard, Wormhole finalized)",
            "Circle CCTP and Wormhole docs: ~13-19 min",
            Confirmation(level="finalized"),
        ),
        Preset(
            "optimistic-canonical",
            Uniform(6.4 * _DAY, 7.0 * _DAY),
            "rollup canonical withdrawal",
            "Arbitrum docs (6.4 d), Optimism docs (7 d)",
            Confirmation(level="finalized"),
        ),
    )
}


def get_preset(name: str) -> LatencyModel:
    """The model of preset ``name``; a clear error lists the known names otherwise."""
    try:
        return PRESETS[name].model
    except KeyError:
        raise ConfigError(
            f"unknown latency preset {name!r}; known presets: {', '.join(PRESETS)}"
        ) from None


def as_model(spec: str | LatencyModel) -> LatencyModel:
    """A model from a preset name or a model object (validated)."""
    if isinstance(spec, str):
        return get_preset(spec)
    if not isinstance(spec, LatencyModel):
        raise ConfigError(
            f"latency must be a preset name or a model with sample(rng), got {spec!r}"
        )
    return spec


class PresetRow(NamedTuple):
    """One line of ``testbed presets``."""

    name: str
    distribution: str
    median: float
    p95: float
    stands_for: str
    source: str
    confirmation: str = ""


def presets_table(presets: Sequence[Preset] | None = None) -> list[PresetRow]:
    """Median and p95 of every preset, computed analytically from its model."""
    rows = []
    for preset in presets if presets is not None else PRESETS.values():
        rows.append(
            PresetRow(
                preset.name,
                preset.model.describe(),
                preset.model.quantile(0.5),
                preset.model.quantile(0.95),
                preset.stands_for,
                preset.source,
                preset.confirmation.describe(),
            )
        )
    return rows
