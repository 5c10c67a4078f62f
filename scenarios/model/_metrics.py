"""Metrics of one run (DESIGN §6): what is measured, and the formula, next to the code.

Notation: P(t) is the reference WETH price (the seeded path), t0 the run's start, T its end
(the last step's commit, or the moment the run gave up); a position is summarised by its
*holdings* (u, w): u = USD-valued items at par — USDC and wrapped USDC, DAI at $1, minus the
market's USDC debt, the vault's DAI debt and anything owed to the fronter — and w = WETH
units anywhere (wallet, wrapped copies, market collateral, vault collateral, in flight).
Net value at price P is NV(P) = u + w·P.

Formulas (each key of :data:`~scenarios.METRIC_KEYS`):

- ``net_value_usdc`` = NV(P(T)) of the user at the end.
- ``divergence_usdc`` = NV_mode(P(T)) − NV_atomic(P(T)): the atomic run's end holdings are
  revalued at the mode's end price, so both face the same price and the difference is the
  cost of the mode, not market exposure. ``divergence_bps`` = that / notional · 10⁴.
- ``shortfall_bps`` = (NV_quote(P0) − NV_realised(P0)) / notional · 10⁴; NV_quote from the
  t0 quotes (swap out, borrow at the target LTV, DAI in for the debt plus the flash fee):
  execution shortfall against the quote with market exposure removed.
- ``latency_s`` = commit time of the last step − that of the first (per-hop times are in
  the timeline); in ``intent`` mode the last step is the last settlement of a fill.
- ``capital_in_flight_usd_s`` = ∫ value in transit dt over [t0, T], each transfer valued at
  the reference price when sent; ``capital_in_flight`` is the step curve,
  ``capital_in_flight_peak_usd`` its maximum.
- ``user_latency_s`` = the last moment the user's position changed (its own or the
  fronter's transactions, a bridge delivery or an intent fill to it) − its first
  transaction: when the user holds its final position. ``atomic`` and ``superblock``: 0
  (one slot); ``bridged``, ``sequential``, ``shared-sequencer``: ``latency_s`` unless a
  delivery ends the run; ``intent``: the fills' time, whatever the bridge preset (the
  settlements that follow are in ``latency_s``).
- ``solver_capital_usd_s`` = fronted_usdc · fronted_s + Σ over an intent solver's fills of
  output value · (settled − filled): the solvers' capital tied up (the user's is
  ``capital_in_flight_usd_s``).
- ``risk_bearer``: the party with the most capital tied up — ``user``
  (``capital_in_flight_usd_s``), ``fronter`` (fronted_usdc · fronted_s) or ``solver`` — or
  ``none``.
- ``fronted_usdc``: USDC the fronter paid for the user; ``fronted_s``: until it was repaid
  (until T if never).
- ``outcome``: ``complete``; ``reverted`` (the first step failed, nothing changed);
  ``partial`` (step ``failed_step`` failed after earlier ones committed); ``liquidated``
  (the run completed but a position of the user is liquidatable, HF < 1, at the end).
- ``stranded_usdc`` (not complete, not liquidated): NV(P(T)) minus the plain USDC
  holdings — the value sitting in intermediate positions (WETH and wrapped WETH anywhere,
  market equity, an unfinished vault position, tokens in flight, DAI not yet swapped); 0
  when complete or liquidated (a liquidated run finished its steps: nothing is stranded).
- ``min_health_factor``: lowest of the market HF (collateral value · threshold / debt) and
  the vault's collateral ratio / liquidation ratio, sampled after every step and tick while
  a position is open; null if none was.
- ``lvr_usdc`` = Σ over the arbitrageurs' trades in [t0, T] of their profit at the
  reference price: the LPs' loss versus rebalancing net of fees (σ²/8 · V · τ for fee → 0).
- ``oracle_gap_max`` = max over the steps of |oracle price − P(t)| / P(t) on the step's chain.
- ``price_move`` = ln(P(T) / P(t0)).
- ``transactions``, ``gas``: the user's and the fronter's transactions (actors excluded).
- ``fees_usdc``: AMM fees (0.3 % of each swap input) and flash-mint fees, at P(t).
- ``bridge_fees_usdc``: fees charged by the bridge (the testbed's bridge charges none: 0).
- ``unbacked_usdc`` = Σ over the run's hops that the destination executed but whose send a
  reorg has taken off the source chain by T (``bridge.Relayer.reconcile``) of the hop's
  value when sent (USDC at par, WETH at P(t_send)): the settlement failure, value minted
  against a lock that no longer exists. The user keeps it; the wrapped token's holders
  (or the home escrow, for a burn) bear it. 0 without reorgs deeper than the relayer's
  confirmations.
- ``reorg_count`` = reorgs of any depth ≥ 1 the run's reorg process (``RunSpec.reorgs``)
  made on its chains in [t0, T] (0 without one).
- ``orphaned_usdc`` = Σ over the run's hops whose send a reorg took off the source chain
  before the relay (the relayer's ``orphaned`` status, never re-mined by T) of the hop's
  value when sent: the user's side of a settlement failure — the lock is undone, the
  value stays on the source, and the run stops there (its cost is in ``unwind``).
- ``flash_fees_usdc``: the part of ``fees_usdc`` paid as flash-loan / flash-mint fees.
- ``all_in_cost_bps``, ``cost_components_bps``: the all-in cost against atomic and its
  decomposition (component → bps), filled with the divergence; formulas in
  ``scenarios/model/_cost.py``.

Timeline hooks the cost model reads: every transaction event carries its ``chain``, ``gas``
and the reference ``price`` at submission (a reverted one too, in its ``failed`` event);
``exposure`` events ``{dw, price}`` record each change of the user's WETH units (swaps, and
at the end the reconciliation with the end holdings); the ``holdings`` event carries
``debt`` (open market and vault debt, USD), ``owed`` (the fronter's unpaid claim) and
``pool_usd`` (the WETH/USDC pool's USDC reserve) for the unwind valuation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chains import Receipt

__all__ = ["Holdings", "Recorder", "get_risk_bearer"]

AMM_FEE = 0.003


@dataclass(frozen=True)
class Holdings:
    """(u, w): USD at par and WETH units (see the module docstring)."""

    usd: float
    weth: float
    plain_usd: float = 0.0  # the part of ``usd`` held as plain USDC (not debt, not DAI)

    def value(self, price: float) -> float:
        """NV(P) = u + w·P."""
        return self.usd + self.weth * price


@dataclass
class Recorder:
    """Collects what a runner observes, then :meth:`metrics` applies the formulas."""

    t0: float
    notional: float
    timeline: list[dict[str, Any]] = field(default_factory=list)
    transactions: int = 0
    gas: int = 0
    fees_usdc: float = 0.0
    bridge_fees_usdc: float = 0.0
    unbacked_usdc: float = 0.0
    reorg_count: int = 0
    orphaned_usdc: float = 0.0
    flash_fees_usdc: float = 0.0
    exposure_weth: float = 0.0
    oracle_gaps: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    commits: list[float] = field(default_factory=list)
    flight: list[tuple[float, float]] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    fronted_usdc: float = 0.0
    fronted_at: float | None = None
    repaid_at: float | None = None
    failed_step: str = ""
    outcome: str = "complete"

    def event(self, t: float, chain: str, event: str, **extra: Any) -> None:
        """Append a timeline event at clock time ``t``."""
        self.timeline.append({"t": t - self.t0, "chain": chain, "event": event, **extra})

    def tx(self, t: float, chain: str, event: str, receipt: Receipt, **extra: Any) -> None:
        """Record one of the user's (or fronter's) committed transactions."""
        self.transactions += 1
        self.gas += receipt.gas_used
        self.commits.append(t)
        self.arrivals.append(t)
        self.event(t, chain, event, block=receipt.block_number, gas=receipt.gas_used, **extra)

    def user_latency_s(self) -> float:
        """``user_latency_s`` = the last moment the user's position changed (a user or
        fronter transaction, a delivery or fill to the user: :attr:`arrivals`) − the user's
        first transaction (see the module docstring)."""
        if not self.commits or not self.arrivals:
            return 0.0
        return max(self.arrivals) - min(self.commits)

    def failed(
        self,
        t: float,
        chain: str,
        step: str,
        reason: str | None,
        *,
        gas: int = 0,
        price: float | None = None,
    ) -> None:
        """A step's transaction reverted: the run stops there (its gas is still paid)."""
        if gas:
            self.transactions += 1
            self.gas += gas
        self.outcome = "partial" if self.commits else "reverted"
        self.failed_step = step
        extra: dict[str, Any] = {"gas": gas} if gas else {}
        if price is not None:
            extra["price"] = price
        self.event(t, chain, "failed", step=step, reason=reason or "", **extra)

    def flash_fee(self, usd: float) -> None:
        """Book a flash-loan / flash-mint fee worth ``usd`` (part of ``fees_usdc``)."""
        self.fees_usdc += usd
        self.flash_fees_usdc += usd

    def exposure(self, t: float, chain: str, dw: float, price: float) -> None:
        """The user's WETH units changed by ``dw`` at clock time ``t`` (reference ``price``)."""
        if dw == 0:
            return
        self.exposure_weth += dw
        self.event(t, chain, "exposure", dw=dw, price=price)

    def swap_fee(self, amount_in_usd: float) -> None:
        """Book an AMM swap's 0.3 % fee on an input worth ``amount_in_usd``."""
        self.fees_usdc += AMM_FEE * amount_in_usd

    def in_flight(self, t: float, usd: float) -> None:
        """The value in transit is ``usd`` from clock time ``t`` on (a step curve)."""
        self.flight.append((t - self.t0, usd))

    def metrics(
        self,
        *,
        end: float,
        p0: float,
        p_end: float,
        holdings: Holdings,
        quote: Holdings,
        lvr_usdc: float,
        liquidatable: bool,
    ) -> dict[str, Any]:
        """Apply the formulas of the module docstring (divergence is filled by ``run``)."""
        nv_end = holdings.value(p_end)
        shortfall = (quote.value(p0) - holdings.value(p0)) / self.notional * 1e4
        integral, peak = _integrate_flight(self.flight, end - self.t0)
        outcome = self.outcome
        if outcome == "complete" and liquidatable:
            outcome = "liquidated"
        stranded = 0.0 if outcome in ("complete", "liquidated") else nv_end - holdings.plain_usd
        if self.fronted_at is None:
            fronted_s = 0.0
        else:
            fronted_s = (self.repaid_at if self.repaid_at is not None else end) - self.fronted_at
        solver_capital = self.fronted_usdc * fronted_s  # an intent solver's is added later
        return {
            "net_value_usdc": nv_end,
            "divergence_usdc": 0.0,
            "divergence_bps": 0.0,
            "shortfall_bps": shortfall,
            "latency_s": (max(self.commits) - min(self.commits)) if self.commits else 0.0,
            "user_latency_s": self.user_latency_s(),
            "capital_in_flight_usd_s": integral,
            "capital_in_flight_peak_usd": peak,
            "solver_capital_usd_s": solver_capital,
            "risk_bearer": get_risk_bearer(integral, solver_capital, 0.0),
            "fronted_usdc": self.fronted_usdc,
            "fronted_s": fronted_s,
            "outcome": outcome,
            "failed_step": self.failed_step,
            "stranded_usdc": stranded,
            "min_health_factor": min(self.health) if self.health else math.nan,
            "lvr_usdc": lvr_usdc,
            "oracle_gap_max": max(self.oracle_gaps) if self.oracle_gaps else 0.0,
            "price_move": math.log(p_end / p0),
            "transactions": self.transactions,
            "gas": self.gas,
            "fees_usdc": self.fees_usdc,
            "bridge_fees_usdc": self.bridge_fees_usdc,
            "unbacked_usdc": self.unbacked_usdc,
            "reorg_count": self.reorg_count,
            "orphaned_usdc": self.orphaned_usdc,
            "flash_fees_usdc": self.flash_fees_usdc,
            "all_in_cost_bps": 0.0,
            "cost_components_bps": {},
        }


def get_risk_bearer(user_usd_s: float, fronter_usd_s: float, solver_usd_s: float) -> str:
    """``risk_bearer``: who has the most capital tied up (USD·s) across the cross-chain
    window — ``user`` (value in flight), ``fronter`` (fronted · fronted_s) or ``solver`` (an
    intent solver's outputs until repaid) — or ``none`` when nobody has any."""
    parts = {"user": user_usd_s, "fronter": fronter_usd_s, "solver": solver_usd_s}
    who, most = max(parts.items(), key=lambda item: item[1])
    return who if most > 0 else "none"


def _integrate_flight(curve: list[tuple[float, float]], end: float) -> tuple[float, float]:
    """∫ and max of a right-continuous step curve [(t, value from t on)] over [0, end]."""
    total = 0.0
    peak = 0.0
    for (t, value), nxt in zip(curve, [*curve[1:], (end, 0.0)], strict=False):
        total += value * max(0.0, min(nxt[0], end) - t)
        peak = max(peak, value)
    return total, peak
