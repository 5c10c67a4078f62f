"""The cost model: defaults and overrides, the risk statistics, and the all-in cost of real
runs against its closed forms (funding, latency-risk P&L, guard reverts, partial refinances)
and against the rule that a failure never scores as a gain."""

from __future__ import annotations

import json
import math
import statistics
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bridge import Constant
from scenarios import LATENCY_PRESETS, RunResult, RunSpec, ScenarioConfigError, World
from scenarios.model import (
    COMPONENTS,
    SECONDS_PER_YEAR_F,
    CostModel,
    PricePath,
    cvar,
    get_cell_risk,
    get_partial_probability,
    norm_cdf,
    percentile,
    price_run,
    with_divergence,
)
from scenarios.plan import get_builtin
from scenarios.runners import BridgedExecution, OneChainExecution, run_scenario
from scenarios.runners._one_chain import StepFailed

YEAR = 365 * 86_400.0


def _usd(result: RunResult, component: str) -> float:
    return result.metrics["cost_components_bps"][component] * result.spec.notional / 1e4


# -- the model and the statistics (pure) -------------------------------------------------------


def test_every_latency_preset_has_a_cited_bridge_fee() -> None:
    model = CostModel()
    for preset in LATENCY_PRESETS:
        assert model.bridge_fee(preset).source, preset


def test_cost_overrides_per_run_and_unknown_keys_refused() -> None:
    spec = RunSpec(cost={"user_rate": 0.2, "gas": {"L1": {"gwei": 30}}, "chain_kinds": {"A": "L1"}})
    model = spec.cost_model()
    assert model.user_rate == 0.2
    assert model.gas["L1"].gwei == 30
    assert model.gas["L2"] == CostModel().gas["L2"]
    assert model.kind_of("A") == "L1" and model.kind_of("B") == "L2"
    assert spec.to_json()["cost"]["user_rate"] == 0.2
    assert "cost" not in RunSpec().to_json()  # default runs keep their keys
    assert RunSpec.from_mapping(spec.to_json()) == spec
    with pytest.raises(ScenarioConfigError, match="unknown cost key.*user_rat"):
        RunSpec(cost={"user_rat": 0.2}).validate()
    with pytest.raises(ScenarioConfigError, match="fronter_penalty"):
        RunSpec(cost={"fronter_penalty": 2.0}).validate()


def test_percentiles_and_cvar_by_hand() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 0.5) == 10.5
    assert percentile(values, 0.95) == pytest.approx(19.05)
    assert cvar(values, 0.05) == 20.0  # ⌈0.05·20⌉ = 1 worst value
    assert cvar(values, 0.10) == 19.5
    rows = [
        {"all_in_cost_bps": v, "outcome": "complete", "latency_s": v, "cost_components_bps": {}}
        for v in values[:-2]
    ]
    rows += [
        {"all_in_cost_bps": 19.0, "outcome": "partial", "cost_components_bps": {"unwind": 4.0}},
        {"all_in_cost_bps": 20.0, "outcome": "reverted", "cost_components_bps": {"unwind": 2.0}},
    ]
    risk = get_cell_risk(rows)
    assert risk.n == 20
    assert risk.mean == pytest.approx(10.5)
    assert risk.std == pytest.approx(statistics.stdev(values))
    assert risk.p_partial == 0.1
    assert risk.unwind_loss == 3.0
    assert risk.time_max == 18.0


def test_partial_probability_closed_form_matches_the_price_model() -> None:
    """P(P(τ)/P(0) < κ) on the seeded GBM path vs Φ((ln κ + σ²τ/2)/(σ√τ)), 4 standard errors."""
    sigma, tau_s, kappa, n = 1.5, 86_400.0, 0.95, 1_500
    tick = 3_600.0
    hits = 0
    for seed in range(n):
        path = PricePath(2000.0, sigma, 0.0, tick=tick, seed=seed)
        hits += math.exp(path.log_return(int(tau_s / tick))) < kappa
    expected = get_partial_probability(kappa, sigma, tau_s / SECONDS_PER_YEAR_F)
    se = math.sqrt(expected * (1 - expected) / n)
    assert hits / n == pytest.approx(expected, abs=4 * se)
    assert get_partial_probability(kappa, 0.0, 1.0) == 0.0


# -- real runs --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(scenario_world: World) -> World:
    """The session's 3-chain world."""
    return scenario_world


@pytest.mark.parametrize(
    ("mode", "latency", "sigma", "seed"),
    [
        ("sequential", "same-block", 0.8, 1),
        ("bridged", "fast-attestation", 0.8, 1),
        ("bridged", "intent-fill", 0.0, 2),
        ("bridged", "optimistic-canonical", 0.8, 1),  # a refused draw: partial
    ],
)
def test_components_sum_to_the_total_and_explain_the_divergence(
    world: World, mode: str, latency: str, sigma: float, seed: int
) -> None:
    result = run_scenario(RunSpec(mode=mode, latency=latency, sigma=sigma, seed=seed), world=world)
    m = result.metrics
    parts = m["cost_components_bps"]
    assert list(parts) == list(COMPONENTS)
    assert math.fsum(parts.values()) == m["all_in_cost_bps"]
    on_chain = parts["amm_fees"] + parts["flash_fees"] + parts["latency_risk"] + parts["execution"]
    assert -on_chain == pytest.approx(m["divergence_bps"], abs=1e-9)
    assert parts["gas"] != 0.0
    if mode == "bridged":
        assert parts["bridge_fees"] > 0 and parts["funding"] > 0
    if m["outcome"] in ("complete", "liquidated"):
        assert parts["unwind"] == 0.0
    else:
        assert m["stranded_usdc"] != 0.0
        assert parts["unwind"] > 0.0
        assert m["all_in_cost_bps"] > 0.0  # a failure is never a gain
    text = result.dumps()
    assert RunResult.from_json(json.loads(text)).metrics["cost_components_bps"] == {
        k: pytest.approx(v, rel=1e-8, abs=1e-12) for k, v in parts.items()
    }


def test_atomic_costs_nothing_against_itself(world: World) -> None:
    result = run_scenario(RunSpec(mode="atomic", sigma=0.8, seed=3), world=world)
    assert result.metrics["all_in_cost_bps"] == 0.0
    assert set(result.metrics["cost_components_bps"].values()) == {0.0}


def test_funding_is_rate_times_value_times_latency_for_a_deterministic_hop(world: World) -> None:
    """funding = r·Σ V_hop·τ_hop exactly, each hop's τ its delivery time (600 s + the
    relay's block)."""
    rate = 0.07
    result = run_scenario(
        RunSpec(mode="bridged", sigma=0.5, seed=4, cost={"user_rate": rate}),
        world=world,
        execution=BridgedExecution(latency=Constant(600)),
    )
    sent = [e for e in result.timeline if e["event"] == "bridge_out"]
    delivered = [e for e in result.timeline if e["event"] == "delivered"]
    assert len(sent) == len(delivered) == 4
    assert all(600 <= e["latency_s"] <= 602 for e in delivered)
    expected = rate * math.fsum(
        s["value_usd"] * d["latency_s"] for s, d in zip(sent, delivered, strict=True)
    )
    assert _usd(result, "funding") * YEAR == pytest.approx(expected, rel=1e-9)


def _remote_start(world: World, *, sigma: float, seeds: int, taus: tuple[float, ...]) -> Any:
    scenario = get_builtin("remote-start")
    atomic = {
        s: run_scenario(RunSpec(mode="atomic", sigma=sigma, seed=s), scenario, world=world)
        for s in range(seeds)
    }
    out: dict[float, list[float]] = {}
    for tau in taus:
        out[tau] = []
        for s in range(seeds):
            result = run_scenario(
                RunSpec(mode="bridged", sigma=sigma, seed=s, slippage=0.9),
                scenario,
                world=world,
                execution=BridgedExecution(latency=Constant(tau)),
                divergence=False,
            )
            priced = with_divergence(result, atomic[s])
            out[tau].append(priced.metrics["cost_components_bps"]["latency_risk"])
    return out


@pytest.mark.parametrize(
    ("seeds", "tolerance"), [(6, 0.3), pytest.param(40, 0.1, marks=pytest.mark.slow)]
)
def test_latency_risk_std_is_notional_sigma_sqrt_tau(
    world: World, seeds: int, tolerance: float
) -> None:
    """remote-start: the latency-risk P&L's std across seeds is N·σ·√τ (in bps: 10⁴·σ√τ) —
    log-log slope 0.5 over hop latencies, the level within MC error; its mean is ≈ 0 at zero
    drift; at σ = 0 it is exactly 0."""
    sigma = 2.0
    taus = (600.0, 2_400.0, 9_600.0)
    runs = _remote_start(world, sigma=sigma, seeds=seeds, taus=taus)
    points = []
    for tau, values in runs.items():
        std = statistics.stdev(values)
        expected = 1e4 * sigma * math.sqrt(tau / YEAR)
        # a std from n seeds is off by ~1/√(2n) in relative terms
        assert std == pytest.approx(expected, rel=4 / math.sqrt(2 * seeds))
        mean = statistics.fmean(values)
        assert abs(mean) < 4 * expected / math.sqrt(seeds)
        points.append((math.log(tau), math.log(std)))
    xs, ys = zip(*points, strict=True)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    assert slope == pytest.approx(0.5, abs=tolerance)
    flat = _remote_start(world, sigma=0.0, seeds=1, taus=(2_400.0,))
    assert flat[2_400.0] == [0.0]


@pytest.mark.parametrize("seeds", [12, pytest.param(120, marks=pytest.mark.slow)])
def test_slippage_guard_reverts_with_the_closed_form_probability(world: World, seeds: int) -> None:
    """remote-start's swap waits one hop τ and is guarded at s against the t0 quote: it
    reverts when P(τ)/P(0) > 1/(1 − s), probability Φ((ln(1 − s) − σ²τ/2)/(σ√τ)) ≈
    Φ(−s/(σ√τ)) (the AMM's 0.3 % fee band aside)."""
    sigma, tau, s = 2.0, 9_600.0, 0.02
    scenario = get_builtin("remote-start")
    reverted = 0
    for seed in range(seeds):
        result = run_scenario(
            RunSpec(mode="bridged", sigma=sigma, seed=seed, slippage=s),
            scenario,
            world=world,
            execution=BridgedExecution(latency=Constant(tau)),
            divergence=False,
        )
        reverted += result.metrics["failed_step"] == "swap"
    vol = sigma * math.sqrt(tau / YEAR)
    expected = norm_cdf((math.log(1 - s) - vol * vol / 2) / vol)
    assert expected == pytest.approx(norm_cdf(-s / vol), abs=0.02)
    se = math.sqrt(expected * (1 - expected) / seeds)
    assert reverted / seeds == pytest.approx(expected, abs=4 * se + 0.05)


@pytest.mark.parametrize("seeds", [12, pytest.param(120, marks=pytest.mark.slow)])
def test_refinance_partial_probability_matches_the_draw_limit(world: World, seeds: int) -> None:
    """The refinance's draw is refused when the collateral price over the two hops between the
    borrow and the draw falls below κ = LTV·liquidation ratio·(DAI per fronted USDC):
    P(partial) ≈ Φ((ln κ + σ²τ/2)/(σ√τ)), τ = both hops."""
    sigma, hop, ltv = 2.0, 43_200.0, 0.6
    base = run_scenario(
        RunSpec(mode="bridged", sigma=0.0, seed=0, target_ltv=ltv),
        world=world,
        execution=BridgedExecution(latency=Constant(hop)),
        divergence=False,
    )
    fronted = base.metrics["fronted_usdc"]
    reserve = world.suite.config.dai_usdc_liquidity
    dai_per_usdc = reserve / ((reserve - fronted) * 0.997)
    kappa = ltv * world.suite.config.liquidation_ratio * dai_per_usdc
    partial = 0
    for seed in range(seeds):
        result = run_scenario(
            RunSpec(mode="bridged", sigma=sigma, seed=seed, target_ltv=ltv, slippage=0.9),
            world=world,
            execution=BridgedExecution(latency=Constant(hop)),
            divergence=False,
        )
        partial += result.metrics["failed_step"] == "draw"
    expected = get_partial_probability(kappa, sigma, 2 * hop / YEAR)
    se = math.sqrt(expected * (1 - expected) / seeds)
    assert partial / seeds == pytest.approx(expected, abs=4 * se + 0.05)


# -- a failure never scores as a gain ----------------------------------------------------------


class _StopAt:
    """Mixin: the leg numbered ``stop`` fails (as if its transaction reverted)."""

    stop = 0

    def before_leg(self, ctx: Any, leg: Any) -> None:
        if leg.n == self.stop:
            raise StepFailed(leg.action, leg.chain, "stopped by the test")
        super().before_leg(ctx, leg)  # type: ignore[misc]


class _StopBridged(_StopAt, BridgedExecution):
    pass


class _StopSequential(_StopAt, OneChainExecution):
    pass


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
@given(
    mode=st.sampled_from(["sequential", "bridged"]),
    latency=st.sampled_from(["interop", "fast-attestation", "finality", "optimistic-canonical"]),
    sigma=st.sampled_from([0.0, 0.4, 1.0]),
    seed=st.integers(0, 30),
    stop=st.integers(2, 9),  # after the first transaction, within every plan's legs
)
def test_no_unfinished_run_scores_better_than_its_completed_twin(
    world: World, mode: str, latency: str, sigma: float, seed: int, stop: int
) -> None:
    spec = RunSpec(mode=mode, latency=latency, sigma=sigma, seed=seed, slippage=0.9)
    done = run_scenario(spec, world=world)
    execution = _StopBridged() if mode == "bridged" else _StopSequential()
    execution.stop = stop
    stopped = run_scenario(spec, world=world, execution=execution)
    assume(done.metrics["outcome"] == "complete")
    assert stopped.metrics["outcome"] == "partial"
    assert stopped.metrics["all_in_cost_bps"] > done.metrics["all_in_cost_bps"]
    assert stopped.metrics["cost_components_bps"]["unwind"] > 0


@pytest.mark.parametrize("mode", ["sequential", "bridged"])
def test_a_reverted_run_is_never_a_gain(world: World, mode: str) -> None:
    """Stopped at its first transaction nothing happened: it costs no less than atomic (the
    trades are still to be made, at the atomic run's cost at best)."""
    execution = _StopBridged() if mode == "bridged" else _StopSequential()
    execution.stop = 1
    spec = RunSpec(mode=mode, latency="fast-attestation", sigma=0.8, seed=2)
    stopped = run_scenario(spec, world=world, execution=execution)
    assert stopped.metrics["outcome"] == "reverted"
    assert stopped.metrics["divergence_bps"] > 0  # what the mark-to-market alone would say
    assert stopped.metrics["all_in_cost_bps"] >= -1e-9  # 0 up to float rounding


def test_price_run_matches_the_metrics_it_filled(world: World) -> None:
    """Pricing is a pure function of the two results: re-pricing gives the same numbers,
    and a cost override changes only the components it touches."""
    spec = RunSpec(mode="bridged", latency="finality", sigma=0.8, seed=5)
    result = run_scenario(spec, world=world)
    atomic = run_scenario(RunSpec(mode="atomic", sigma=0.8, seed=5), world=world)
    again = price_run(result, atomic, spec.cost_model())
    assert again["cost_components_bps"] == result.metrics["cost_components_bps"]
    doubled = price_run(result, atomic, CostModel(user_rate=0.10))
    parts, base = doubled["cost_components_bps"], result.metrics["cost_components_bps"]
    assert parts["funding"] == pytest.approx(2 * base["funding"])
    assert {k: v for k, v in parts.items() if k != "funding"} == {
        k: v for k, v in base.items() if k != "funding"
    }
