"""Solver economics over a stream of ``intent`` runs: what the solver's inventory does.

Each ``intent`` run ends with a ``solver`` timeline event (``scenarios/runners/_intent.py``):
its fills and declines, the premiums its quotes earned, its capital tied up, the
mark-to-market of the WETH it had out, its peak outstanding output per chain and asset and
each fill's cycle (fill → inventory back by rebalancing). Over a stream of runs — the seeds
of a demo or a sweep cell, one user's order flow each — :func:`get_solver_economics` sums
them per group (a latency preset):

- ``orders`` = fills + declines; ``declined`` the declines;
- ``volume_usd`` = Σ fill value (the outputs at P when filled);
- ``premium_bps`` = Σ premium / volume · 10⁴: what the solver charged;
- ``risk_pnl_bps`` mean and ``risk_std_bps`` std over runs of the WETH mark-to-market
  Σ units · (P(settled) − P(filled)) / run volume · 10⁴: the price risk it bore (its
  expectation is 0 without drift; the premium's risk charge prices its spread);
- ``capital_usd_day`` = mean over runs of Σ V·(settled − filled) / 86,400: capital tied up
  until repaid;
- ``peak_usd`` per chain = max over runs of the outstanding outputs on that chain (USD at
  the t0 price for WETH): the inventory one user's flow needs at once; ``utilisation`` =
  max over runs of that run's peak / the working inventory cap of the assets it used there;
- ``little_usd`` per chain = Σ over fills on the chain of V · cycle / (runs · 60 s): the
  inventory a stream of one such user a minute keeps out on average (Little's law L = λ·W,
  λ = 1/60 s⁻¹, W·V the value-weighted cycle time).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SolverEconomics", "get_solver_economics"]

#: Arrival interval of the stream :attr:`SolverEconomics.little_usd` assumes (seconds).
STREAM_INTERVAL_S = 60.0


@dataclass(frozen=True)
class SolverEconomics:
    """The solver's economics over the runs of one group (see the module docstring)."""

    runs: int
    orders: int
    declined: int
    volume_usd: float
    premium_bps: float
    risk_pnl_bps: float
    risk_std_bps: float
    capital_usd_day: float
    peak_usd: dict[str, float] = field(default_factory=dict)
    utilisation: dict[str, float] = field(default_factory=dict)
    little_usd: dict[str, float] = field(default_factory=dict)


def get_solver_economics(results: Sequence[Any], weth_price: float) -> SolverEconomics:
    """Economics over ``results`` (``RunResult``s or their JSON dicts) of ``intent`` runs;
    WETH outputs valued at ``weth_price`` for the inventory figures."""
    pairs = [(r, e) for r in results if (e := _solver_event(r)) is not None]
    events = [e for _, e in pairs]
    fills = [f for r, _ in pairs for f in _fills(r)]
    orders = sum(int(e["fills"]) + int(e["declined"]) for e in events)
    declined = sum(int(e["declined"]) for e in events)
    volume = math.fsum(float(f["value"]) for f in fills)
    premium = math.fsum(float(e["premium_usd"]) for e in events)
    per_run = []
    for r, e in pairs:
        run_volume = math.fsum(float(f["value"]) for f in _fills(r))
        if run_volume > 0:
            per_run.append(float(e["risk_pnl_usd"]) / run_volume * 1e4)
    peak: dict[str, float] = {}
    utilisation: dict[str, float] = {}
    for e in events:
        caps = dict(e.get("cap", {}))
        out: dict[str, float] = {}
        cap: dict[str, float] = {}
        for key, units in dict(e.get("peak", {})).items():
            chain, asset = key.split(":")
            price = weth_price if asset == "WETH" else 1.0
            out[chain] = out.get(chain, 0.0) + float(units) * price
            cap[chain] = cap.get(chain, 0.0) + float(caps.get(asset, 0.0)) * price
        for chain, usd in out.items():
            peak[chain] = max(peak.get(chain, 0.0), usd)
            if cap[chain] > 0:
                utilisation[chain] = max(utilisation.get(chain, 0.0), usd / cap[chain])
    little: dict[str, float] = {}
    for f in fills:
        if f["cycle"] is not None:
            little[f["chain"]] = little.get(f["chain"], 0.0) + f["value"] * f["cycle"]
    n = max(1, len(events))
    return SolverEconomics(
        runs=len(events),
        orders=orders,
        declined=declined,
        volume_usd=volume,
        premium_bps=premium / volume * 1e4 if volume else 0.0,
        risk_pnl_bps=statistics.fmean(per_run) if per_run else 0.0,
        risk_std_bps=statistics.pstdev(per_run) if len(per_run) > 1 else 0.0,
        capital_usd_day=math.fsum(float(e["capital_usd_s"]) for e in events) / n / 86_400,
        peak_usd=dict(sorted(peak.items())),
        utilisation=dict(sorted(utilisation.items())),
        little_usd={c: v / (n * STREAM_INTERVAL_S) for c, v in sorted(little.items())},
    )


def _timeline(result: Any) -> list[Mapping[str, Any]]:
    return list(result.timeline if hasattr(result, "timeline") else result["timeline"])


def _solver_event(result: Any) -> Mapping[str, Any] | None:
    for event in _timeline(result):
        if event.get("event") == "solver":
            return event
    return None


def _fills(result: Any) -> list[dict[str, Any]]:
    """Each fill of a run: its destination chain, value when filled, cycle time."""
    timeline = _timeline(result)
    solver = _solver_event(result) or {}
    cycles = list(solver.get("cycle_s", []))
    out = []
    for i, event in enumerate(e for e in timeline if e.get("event") == "fill"):
        price = float(event.get("price", 1.0))
        is_weth = "WETH" in str(event.get("order", ""))
        value = float(event["output"]) * (price if is_weth else 1.0)
        cycle = cycles[i] if i < len(cycles) else None
        out.append({"chain": event["chain"], "value": value, "cycle": cycle})
    return out
