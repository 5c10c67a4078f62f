"""The all-in cost of coordination: time and risk priced, decomposed, against atomic.

A run's divergence (``divergence_usdc``) counts only what the chains hold at the end. The
all-in cost adds what the chains do not show — gas valued in USD, what a real bridge charges,
the cost of capital tied up in flight or fronted by a solver, the solver's quote for taking
that risk — and values an unfinished run at what unwinding it costs. Everything is in USD,
then in bps of the notional N (``x_bps = x_usd / N · 10⁴``); **cost is positive**, a gain
negative, and every figure is *this mode minus the same scenario's atomic run* (same seed,
price path and notional).

Notation: P(t) reference WETH price, T the mode's end, w(t) the user's WETH units anywhere
(a step curve that only swaps and the end-of-run reconciliation move, recorded as
``exposure`` timeline events ``{t, dw, price}``), YEAR = 365 days in seconds.

Components (``cost_components_bps``; :data:`COMPONENTS` order); their sum is
``all_in_cost_bps`` exactly (the total is computed as that sum):

- ``amm_fees`` = AMM fees(mode) − AMM fees(atomic): 0.3 % of every swap's input at P(t).
- ``flash_fees`` = flash fees(mode) − flash fees(atomic) (the atomic run's flash mint; the
  split modes avoid it, so this is usually negative).
- ``latency_risk`` = −∫₀ᵀ (w_mode − w_atomic) dP: the P&L of holding a different WETH
  exposure than the atomic run while the price moves (the atomic run's exposure is held
  after its end). By parts, ∫₀ᵀ w dP = w(T)·P(T) − Σⱼ P(tⱼ)·Δwⱼ over the exposure events.
- ``execution`` = −divergence − latency_risk − amm_fees − flash_fees: the rest of the
  on-chain difference — price impact on pools the market moved, interest and stability fee
  over the window, rounding. (Hence divergence = −(latency_risk + amm_fees + flash_fees +
  execution) exactly.)
- ``gas`` = Σ over the user's transactions of gas·(gas price of its chain's kind)·P(t),
  mode minus atomic (the solver's own transactions are in ``solver_premium``; a reverted
  transaction's gas counts).
- ``bridge_fees`` = Σ over hops of fee_bps·V_hop + relay gas·(gas price)·P(t) +
  (Across-like) r_relayer·V_hop·repayment delay, by the latency preset's :class:`BridgeFee`
  (the spec's, or the one the hop names: ``same-block`` in a superblock, ``interop`` under a
  shared sequencer).
- ``funding`` = r_user · ∫ value in flight dt / YEAR = r_user·Σ V_hop·τ_hop / YEAR.
- ``solver_premium`` (when a solver fronted F for τ_f seconds) = r_solver·F·τ_f/YEAR
  (capital) + PD·LGD·F (expected loss; PD = Φ((ln κ + σ²τ/2)/(σ√τ)), the probability the
  draw limit κ = target LTV × liquidation ratio binds over τ = τ_f/YEAR) + λ·F·σ√τ (price-risk
  charge) + the solver's gas; plus, in ``intent`` mode, Σ over fills of the premium the
  solver's quote took from the output (capital + risk + fill gas + rebalance fee, the
  formula in ``scenarios/runners/_intent.py``). That premium is paid on chain, so it is
  inside the divergence: it is taken out of ``execution`` (below), not added to the total.
- (``execution`` in ``intent`` mode is the residual net of that on-chain premium.)
- ``unwind`` (only a run that did not complete; 0 for ``complete`` and ``liquidated``):
  selling the WETH exposure w(T) at P(T) — V·(AMM fee + V/(R + V)), R the pool's USDC
  reserve — plus closing open debt through the AMM (fee on it), bridging the stranded value
  back home (one hop's fee and r_user·V·E[τ]) when the run crossed chains, and settling the
  fronter's unpaid claim with its penalty (claim·penalty + r_solver·claim·E[τ]/YEAR); plus
  **re-entry**: the scenario's trades are still to be made, so what the atomic run paid to
  enter (N − NV_atomic at its end: its fees and price impact, plus its gas) is charged again
  rather than counted as a saving; and if the total still comes out below what the run
  paid (gas, bridge fees, funding, solver premium) — the run avoided a price move the atomic
  run's holdings took, e.g. an intent refunded after its deadline — the unwind makes up the
  difference: no credit for luck while failing. So a ``reverted`` run (nothing happened)
  costs its failed gas, never less than atomic, and a ``partial`` run never scores better
  than its completed twin (the unwind's sale and the claim's penalty exceed what finishing
  would have cost).

- ``settlement`` = value lost to reorgs that the chains do not show as the user's loss:
  ``unbacked_usdc`` (mode) − ``unbacked_usdc`` (atomic, 0) — the hops the destination paid
  out whose send a reorg took off the source chain after the relay (the relayer relayed
  before its confirmations covered the reorg's depth). The user keeps that payout, so
  it shows in the divergence as a gain (in ``execution``, negative); the wrapped token's
  holders or the bridge's escrow (the LPs) bear it. Counting it here makes the all-in cost
  the cost of the coordination to everyone involved: a fast relay that a reorg turned
  into an unbacked mint never scores as cheaper. The user's own side of a settlement
  failure — a hop whose send a reorg undid before the relay (``orphaned_usdc``): the value
  stays on the source chain and the run stops — is priced by ``unwind`` (the run is
  ``partial``), not here, so nothing is counted twice. Both are 0 without a reorg
  process (``RunSpec.reorgs``).

Sources of the default numbers are cited beside them in :class:`CostModel`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COMPONENTS",
    "DEFAULT_BRIDGE_FEES",
    "BridgeFee",
    "CostModel",
    "GasProfile",
    "get_partial_probability",
    "norm_cdf",
    "price_run",
]

YEAR = 365 * 86_400.0
AMM_FEE = 0.003

#: The components of ``cost_components_bps``, in report order.
COMPONENTS = (
    "amm_fees",
    "flash_fees",
    "gas",
    "bridge_fees",
    "funding",
    "solver_premium",
    "latency_risk",
    "execution",
    "unwind",
    "settlement",
)

#: Outcomes valued at unwind cost.
UNFINISHED = ("partial", "reverted")


def norm_cdf(x: float) -> float:
    """Φ(x), the standard normal CDF."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def get_partial_probability(kappa: float, sigma: float, tau_years: float) -> float:
    """P(P(τ)/P(0) < κ) under driftless GBM = Φ((ln κ + σ²τ/2)/(σ√τ)); a step at 0."""
    if sigma <= 0 or tau_years <= 0:
        return 1.0 if kappa > 1.0 else 0.0
    s = sigma * math.sqrt(tau_years)
    return norm_cdf((math.log(kappa) + s * s / 2) / s)


@dataclass(frozen=True)
class GasProfile:
    """Gas price of a chain kind: fee_eth = gas · gwei · 10⁻⁹ + data_fee_eth per transaction.

    L1 (assumption, documented): 10 gwei — mainnet's base fee has mostly sat between 1 and
    30 gwei since EIP-4844 (March 2024). L2 (assumption): 0.01 gwei execution plus an L1
    data fee of 5·10⁻⁶ ETH (≈ 1 cent) per transaction, the order of OP-Stack/Arbitrum
    transaction costs after blobs.
    """

    gwei: float
    data_fee_eth: float = 0.0

    def fee_usd(self, gas: float, eth_price: float) -> float:
        """Fee of one transaction using ``gas`` at ETH price ``eth_price``, in USD."""
        return (gas * self.gwei * 1e-9 + self.data_fee_eth) * eth_price


@dataclass(frozen=True)
class BridgeFee:
    """What a hop costs under a latency preset.

    fee = fee_bps·V/10⁴ + relay_gas at the ``relay_kind`` chain kind (the destination's kind
    when None) + r_relayer·V·repay_s/YEAR (a relayer's capital until it is repaid).
    ``expected_s`` is the preset's typical latency, used to price an unwind's hop back.
    """

    fee_bps: float = 0.0
    relay_gas: float = 0.0
    relay_kind: str | None = None
    relayer_rate: float = 0.0
    repay_s: float = 0.0
    expected_s: float = 0.0
    source: str = ""

    def fee_usd(self, value: float, gas_usd: float) -> float:
        """Fee of a hop carrying ``value`` USD whose relay gas costs ``gas_usd``."""
        capital = self.relayer_rate * value * self.repay_s / YEAR
        return self.fee_bps * value / 1e4 + gas_usd + capital


#: One entry per latency preset (DESIGN §7), modelled on the bridge it stands for. Each
#: preset also states the confirmation policy its bridge assumes
#: (``bridge.latency.PRESETS[name].confirmation``, ``testbed presets``): 0 blocks for
#: same-block, interop and intent-fill (fast, exposed to reorgs: the ``settlement``
#: component), 2 blocks for fast-attestation, the finalized head for finality and
#: optimistic-canonical (safe, slow). Runs relay at 0 blocks unless ``RunSpec.confirmations``
#: says otherwise (``preset`` applies the preset's own policy).
DEFAULT_BRIDGE_FEES: dict[str, BridgeFee] = {
    # shared sequencer / synchronous interop: no bridge fee, the relay's gas only
    "same-block": BridgeFee(relay_gas=100_000, expected_s=0.0, source="gas only"),
    # OP Superchain interop: a relay message executed on the destination, gas only
    "interop": BridgeFee(relay_gas=100_000, expected_s=2.0, source="gas only"),
    # Across-like intent fill: the transfer fee covers gas on both chains, bridge costs and
    # the relayer's margin (docs.across.to/introduction/fees); the LP fee follows a
    # utilisation rate model (UMIP-179, across-py fee_calculator: R1 = 8 %/yr at the kink),
    # ~1 bp for a transfer repaid within hours; the relayer's capital is repaid with the
    # next bundle (assumption: 2 h) at 10 %/yr (assumption)
    "intent-fill": BridgeFee(
        fee_bps=1.0,
        relay_gas=120_000,
        relayer_rate=0.10,
        repay_s=7_200.0,
        expected_s=6.0,
        source="Across-like: LP fee + relayer capital + fill gas",
    ),
    # CCTP V2 Fast Transfer: 1 bp from Ethereum, Arbitrum, Base, OP Mainnet (0-14 bps by
    # source chain; developers.circle.com/cctp/concepts/fees), plus the destination mint
    "fast-attestation": BridgeFee(
        fee_bps=1.0, relay_gas=150_000, expected_s=14.0, source="CCTP fast transfer: 1 bp"
    ),
    # CCTP Standard Transfer: no fee (same source), the destination mint's gas only
    "finality": BridgeFee(
        relay_gas=150_000, expected_s=960.0, source="CCTP standard transfer: 0 bp"
    ),
    # rollup canonical withdrawal: gas only, but on L1 — prove and finalize transactions on
    # the L1 portal (viem.sh/op-stack/guides/withdrawals; finalize ~420k gas in viem's
    # example, prove ~250k, assumption for the sum)
    "optimistic-canonical": BridgeFee(
        relay_gas=650_000,
        relay_kind="L1",
        expected_s=7 * 86_400.0,
        source="canonical bridge: L1 prove + finalize gas",
    ),
}


def _default_gas() -> dict[str, GasProfile]:
    return {"L1": GasProfile(10.0), "L2": GasProfile(0.01, 5e-6)}


@dataclass(frozen=True)
class CostModel:
    """The cost model (see the module docstring). Every field can be overridden per run
    (``RunSpec.cost``) or per sweep cell; :meth:`from_mapping` takes ``{"field": value}``,
    nested for ``gas`` (``{"L1": {"gwei": 30}}``), ``chain_kinds`` and ``bridge``.

    Rates are annual; ``user_rate`` 5 %/yr (assumption: a USD money-market rate),
    ``solver_rate`` 10 %/yr (assumption: a market maker's cost of capital),
    ``solver_lgd`` 10 % of the claim lost when a run fails (assumption),
    ``solver_risk_charge`` λ = 0.1 per unit of σ√τ exposure (assumption),
    ``fronter_penalty`` 1 % of the claim paid by a user who does not finish (assumption),
    ``solver_inventory_usd`` 1,000,000 USD: the working inventory an intent solver commits
    per chain and asset (assumption; the layout seeds twice that).
    ``chain_kinds`` maps chain names to ``L1``/``L2`` (unlisted chains: ``default_kind``).
    """

    gas: Mapping[str, GasProfile] = field(default_factory=_default_gas)
    chain_kinds: Mapping[str, str] = field(default_factory=dict)
    default_kind: str = "L2"
    bridge: Mapping[str, BridgeFee] = field(default_factory=lambda: dict(DEFAULT_BRIDGE_FEES))
    user_rate: float = 0.05
    solver_rate: float = 0.10
    solver_lgd: float = 0.10
    solver_risk_charge: float = 0.10
    fronter_penalty: float = 0.01
    solver_inventory_usd: float = 1_000_000.0
    liquidation_ratio: float = 1.5
    pool_usd: float = 2_000_000.0

    def __post_init__(self) -> None:
        errors = []
        for name in (
            "user_rate",
            "solver_rate",
            "solver_lgd",
            "solver_risk_charge",
            "solver_inventory_usd",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                errors.append(f"{name}={value!r} must be a finite number ≥ 0")
        if not (0 <= self.fronter_penalty < 1):
            errors.append(f"fronter_penalty={self.fronter_penalty!r} must be in [0, 1)")
        if not self.liquidation_ratio > 0 or not self.pool_usd > 0:
            errors.append("liquidation_ratio and pool_usd must be positive")
        kinds = {self.default_kind, *self.chain_kinds.values()}
        missing = sorted(k for k in kinds if k not in self.gas)
        if missing:
            errors.append(f"chain kind(s) {', '.join(missing)} have no gas profile")
        if errors:
            raise ValueError("invalid CostModel: " + "; ".join(errors))

    def kind_of(self, chain: str) -> str:
        return self.chain_kinds.get(chain, self.default_kind)

    def gas_usd(
        self, chain: str, gas: float, eth_price: float, *, kind: str | None = None
    ) -> float:
        return self.gas[kind or self.kind_of(chain)].fee_usd(gas, eth_price)

    def bridge_fee(self, preset: str) -> BridgeFee:
        try:
            return self.bridge[preset]
        except KeyError:
            raise ValueError(
                f"no bridge fee for latency preset {preset!r}; known: {', '.join(self.bridge)}"
            ) from None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> CostModel:
        """The default model with ``data``'s overrides; unknown keys are errors."""
        base = cls()
        if not data:
            return base
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(
                f"unknown cost key(s): {', '.join(unknown)}; known: {', '.join(known)}"
            )
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key == "gas":
                gas = dict(base.gas)
                for kind, profile in dict(value).items():
                    old = gas.get(kind, GasProfile(0.0))
                    gas[kind] = _replace(old, profile, f"gas.{kind}")
                changes["gas"] = gas
            elif key == "bridge":
                bridge = dict(base.bridge)
                for preset, fee in dict(value).items():
                    bridge[preset] = _replace(
                        bridge.get(preset, BridgeFee()), fee, f"bridge.{preset}"
                    )
                changes["bridge"] = bridge
            elif key == "chain_kinds":
                changes["chain_kinds"] = dict(value)
            else:
                changes[key] = value
        return dataclasses.replace(base, **changes)


def _replace(obj: Any, data: Any, where: str) -> Any:
    if isinstance(data, type(obj)):
        return data
    known = [f.name for f in dataclasses.fields(obj)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown {where} key(s): {', '.join(unknown)}; known: {', '.join(known)}")
    return dataclasses.replace(obj, **dict(data))


# -- pricing ----------------------------------------------------------------------------------

_SOLVER_EVENTS = ("front_repay",)


def _events(result: Any, name: str) -> list[dict[str, Any]]:
    return [e for e in result.timeline if e.get("event") == name]


def _holdings(result: Any) -> dict[str, Any]:
    for event in reversed(result.timeline):
        if event.get("event") == "holdings":
            return event
    raise ValueError(f"run {result.spec.key()} has no 'holdings' event in its timeline")


def _start_price(result: Any) -> float:
    for event in result.timeline:
        if event.get("event") == "start":
            return float(event["price"])
    return float(_holdings(result)["price"])


def _tx_events(result: Any) -> list[dict[str, Any]]:
    """Committed and reverted transactions of the user and the fronter (those with gas)."""
    return [e for e in result.timeline if e.get("gas") and e.get("event") != "holdings"]


def weth_integral(result: Any, p_end: float) -> float:
    """∫₀ᵀ w dP = w(T)·P(T) − Σⱼ P(tⱼ)·Δwⱼ over the run's ``exposure`` events, the
    exposure held at the last level until the price ``p_end``."""
    w = 0.0
    paid = 0.0
    for event in _events(result, "exposure"):
        dw = float(event["dw"])
        w += dw
        paid += float(event["price"]) * dw
    return w * p_end - paid


def _gas_usd(result: Any, model: CostModel, *, solver: bool) -> float:
    total = 0.0
    default_price = _start_price(result)
    for event in _tx_events(result):
        is_solver = event.get("event") in _SOLVER_EVENTS
        if is_solver != solver:
            continue
        price = float(event.get("price", default_price))
        total += model.gas_usd(str(event.get("chain", "")), float(event["gas"]), price)
    return total


def _bridge_fees(result: Any, model: CostModel) -> float:
    default_price = _start_price(result)
    total = 0.0
    for event in _events(result, "bridge_out"):
        # a mode whose messages skip the spec's bridge (superblock, shared sequencer)
        # names the preset they travel under on the hop
        preset = model.bridge_fee(str(event.get("preset", result.spec.latency)))
        value = float(event.get("value_usd", 0.0))
        dest = str(event.get("to_chain", event.get("chain", "")))
        price = float(event.get("price", default_price))
        gas_usd = model.gas_usd(dest, preset.relay_gas, price, kind=preset.relay_kind)
        total += preset.fee_usd(value, gas_usd)
    return total


def _solver_premium(result: Any, model: CostModel, gas_usd: float) -> float:
    metrics = result.metrics
    fronted = float(metrics.get("fronted_usdc", 0.0) or 0.0)
    if fronted <= 0:
        return gas_usd
    tau = float(metrics.get("fronted_s", 0.0) or 0.0) / YEAR
    sigma = float(result.spec.sigma)
    capital = model.solver_rate * fronted * tau
    kappa = float(result.spec.target_ltv) * model.liquidation_ratio
    pd = get_partial_probability(kappa, sigma, tau)
    expected_loss = pd * model.solver_lgd * fronted
    risk = model.solver_risk_charge * fronted * sigma * math.sqrt(tau)
    return capital + expected_loss + risk + gas_usd


def get_intent_premium_usd(result: Any) -> float:
    """Σ ``premium_usd`` over the run's ``fill`` events: what an intent solver's quotes took
    from the user's outputs (``scenarios/runners/_intent.py``); 0 in the other modes."""
    return math.fsum(float(e.get("premium_usd", 0.0)) for e in _events(result, "fill"))


def _unwind(result: Any, atomic: Any, model: CostModel) -> float:
    """Cost of unwinding an unfinished run from where it stopped, and of re-entering at the
    atomic run's cost (module docstring)."""
    if result.metrics.get("outcome") not in UNFINISHED or result is atomic:
        return 0.0
    entry = max(0.0, float(result.spec.notional) - float(atomic.metrics["net_value_usdc"]))
    entry += _gas_usd(atomic, model, solver=False)
    end = _holdings(result)
    price = float(end["price"])
    weth_value = max(0.0, float(end.get("weth", 0.0))) * price
    pool = float(end.get("pool_usd", model.pool_usd)) or model.pool_usd
    sell = weth_value * (AMM_FEE + weth_value / (pool + weth_value))
    debt = max(0.0, float(end.get("debt", 0.0)))
    close = AMM_FEE * debt
    owed = max(0.0, float(end.get("owed", 0.0)))
    sent = _events(result, "bridge_out") + _events(result, "open")  # hops, intent orders
    # the way back travels as the run's hops did (a shared sequencer's at interop)
    preset = model.bridge_fee(
        str(sent[-1].get("preset", result.spec.latency)) if sent else result.spec.latency
    )
    crossed = bool(sent)
    back = 0.0
    tau = 0.0
    if crossed:
        stranded = max(0.0, float(result.metrics.get("stranded_usdc", 0.0) or 0.0))
        tau = preset.expected_s
        gas_usd = model.gas_usd("", preset.relay_gas, price, kind=preset.relay_kind or "L2")
        back = preset.fee_usd(stranded, gas_usd) + model.user_rate * stranded * tau / YEAR
    claim = owed * model.fronter_penalty + model.solver_rate * owed * tau / YEAR
    return sell + close + back + claim + entry


def price_run(result: Any, atomic: Any, model: CostModel | None = None) -> dict[str, Any]:
    """``all_in_cost_bps`` and ``cost_components_bps`` of ``result`` against ``atomic``
    (both :class:`~scenarios.RunResult` with their timelines; ``result`` already carries
    its divergence). Formulas: the module docstring."""
    model = model if model is not None else CostModel()
    notional = float(result.spec.notional)
    metrics, base = result.metrics, atomic.metrics
    p_end = float(_holdings(result)["price"])
    is_self = result is atomic
    usd: dict[str, float] = {}
    flash_m = float(metrics.get("flash_fees_usdc", 0.0) or 0.0)
    flash_a = float(base.get("flash_fees_usdc", 0.0) or 0.0)
    fees_m = float(metrics.get("fees_usdc", 0.0) or 0.0) - flash_m
    fees_a = float(base.get("fees_usdc", 0.0) or 0.0) - flash_a
    usd["amm_fees"] = fees_m - fees_a
    usd["flash_fees"] = flash_m - flash_a
    usd["gas"] = _gas_usd(result, model, solver=False) - _gas_usd(atomic, model, solver=False)
    usd["bridge_fees"] = _bridge_fees(result, model)
    usd["funding"] = (
        model.user_rate * float(metrics.get("capital_in_flight_usd_s", 0.0) or 0.0) / YEAR
    )
    intent_premium = get_intent_premium_usd(result)
    usd["solver_premium"] = (
        _solver_premium(result, model, _gas_usd(result, model, solver=True)) + intent_premium
    )
    latency_pnl = 0.0 if is_self else weth_integral(result, p_end) - weth_integral(atomic, p_end)
    usd["latency_risk"] = -latency_pnl
    divergence = float(metrics.get("divergence_usdc", 0.0) or 0.0)
    # an intent solver's premium is paid on chain (a smaller output): it is part of the
    # divergence, so it moves from the residual to ``solver_premium`` (the sum is unchanged)
    usd["execution"] = (
        -divergence - usd["latency_risk"] - usd["amm_fees"] - usd["flash_fees"] - intent_premium
    )
    usd["unwind"] = _unwind(result, atomic, model)
    usd["settlement"] = float(metrics.get("unbacked_usdc", 0.0) or 0.0) - float(
        base.get("unbacked_usdc", 0.0) or 0.0
    )
    if metrics.get("outcome") in UNFINISHED and not is_self:
        # no credit for a price move an unfinished run happened to avoid: it costs at least
        # what it paid (gas, bridge fees, funding, solver premium)
        paid = max(0.0, usd["gas"]) + usd["bridge_fees"] + usd["funding"] + usd["solver_premium"]
        short = paid - math.fsum(usd.values())
        if short > 0:
            usd["unwind"] += short
    components = {name: usd[name] / notional * 1e4 for name in COMPONENTS}
    return {"all_in_cost_bps": math.fsum(components.values()), "cost_components_bps": components}


def sum_components(components: Mapping[str, float] | Sequence[float]) -> float:
    """The total of a component mapping (exact float sum, as :func:`price_run` takes it)."""
    values = components.values() if isinstance(components, Mapping) else components
    return math.fsum(float(v) for v in values)
