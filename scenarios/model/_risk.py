"""Risk across seeds: the distribution of a sweep cell's all-in cost, failures, durations.

For the n runs of one cell (same mode, layout, preset, σ, notional; seeds differ), with
costs c₁ ≤ … ≤ cₙ in bps (cost positive):

- ``mean`` = Σ cᵢ / n; ``std`` = √(Σ (cᵢ − mean)² / (n − 1)) (0 when n = 1);
- ``p5``, ``p50``, ``p95``: percentiles with linear interpolation between order statistics
  (position q·(n − 1), numpy's default);
- ``cvar5`` = the 5 % expected shortfall of the cost: the mean of the worst ⌈0.05·n⌉ costs
  (the largest; at least one), so cvar5 ≥ p95 up to interpolation;
- ``p_partial`` = share of runs whose outcome is ``partial`` or ``reverted``;
  ``unwind_loss`` = mean of the ``unwind`` component over those runs (0 if none);
- ``time_p50``, ``time_p95``, ``time_max``: percentiles of ``latency_s`` over the runs that
  completed (``complete`` or ``liquidated``), NaN if none did;
- settlement risk (runs with a reorg process, ``RunSpec.reorgs``; 0 otherwise):
  ``p_settlement`` = share of runs with a settlement failure (``unbacked_usdc > 0`` or
  ``orphaned_usdc > 0``); ``unbacked_mean`` = Σ unbacked_usdc / n, the USD per run the
  bridge's side bears; ``orphaned_mean`` = Σ orphaned_usdc / n, the USD per run whose hop
  a reorg undid (the user's side, priced by the unwind).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

__all__ = ["RISK_FIELDS", "CellRisk", "cvar", "get_cell_risk", "percentile"]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 ≤ q ≤ 1) with linear interpolation; NaN for no values."""
    if not 0 <= q <= 1:
        raise ValueError(f"quantile q={q!r} must be in [0, 1]")
    xs = sorted(values)
    if not xs:
        return math.nan
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def cvar(values: Sequence[float], alpha: float = 0.05) -> float:
    """Expected shortfall of a cost: the mean of the worst ⌈α·n⌉ values (the largest)."""
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha={alpha!r} must be in (0, 1]")
    xs = sorted(values, reverse=True)
    if not xs:
        return math.nan
    k = max(1, math.ceil(alpha * len(xs) - 1e-12))
    return math.fsum(xs[:k]) / k


class CellRisk(NamedTuple):
    """The risk statistics of one sweep cell (see the module docstring)."""

    n: int
    mean: float
    std: float
    p5: float
    p50: float
    p95: float
    cvar5: float
    p_partial: float
    unwind_loss: float
    time_p50: float
    time_p95: float
    time_max: float
    p_settlement: float = 0.0
    unbacked_mean: float = 0.0
    orphaned_mean: float = 0.0


#: The fields of :class:`CellRisk`, in report order.
RISK_FIELDS = CellRisk._fields


def get_cell_risk(metrics: Iterable[dict[str, Any]]) -> CellRisk:
    """:class:`CellRisk` of the runs whose metric dicts are given (one per seed)."""
    rows = list(metrics)
    costs = [float(m["all_in_cost_bps"]) for m in rows if _is_number(m.get("all_in_cost_bps"))]
    n = len(costs)
    mean = math.fsum(costs) / n if n else math.nan
    std = math.sqrt(math.fsum((c - mean) ** 2 for c in costs) / (n - 1)) if n > 1 else 0.0
    unfinished = [m for m in rows if m.get("outcome") in ("partial", "reverted")]
    unwind = [float((m.get("cost_components_bps") or {}).get("unwind", 0.0)) for m in unfinished]
    done = [
        float(m["latency_s"])
        for m in rows
        if m.get("outcome") in ("complete", "liquidated") and _is_number(m.get("latency_s"))
    ]
    unbacked = [_number(m.get("unbacked_usdc")) for m in rows]
    orphaned = [_number(m.get("orphaned_usdc")) for m in rows]
    hit = [u for u, o in zip(unbacked, orphaned, strict=True) if u > 0 or o > 0]
    return CellRisk(
        n=n,
        mean=mean,
        std=std if n else math.nan,
        p5=percentile(costs, 0.05),
        p50=percentile(costs, 0.5),
        p95=percentile(costs, 0.95),
        cvar5=cvar(costs, 0.05),
        p_partial=len(unfinished) / len(rows) if rows else math.nan,
        unwind_loss=math.fsum(unwind) / len(unwind) if unwind else 0.0,
        time_p50=percentile(done, 0.5),
        time_p95=percentile(done, 0.95),
        time_max=max(done) if done else math.nan,
        p_settlement=len(hit) / len(rows) if rows else math.nan,
        unbacked_mean=math.fsum(unbacked) / len(rows) if rows else math.nan,
        orphaned_mean=math.fsum(orphaned) / len(rows) if rows else math.nan,
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _number(value: Any) -> float:
    return float(value) if _is_number(value) else 0.0
