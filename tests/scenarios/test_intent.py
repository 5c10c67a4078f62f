"""The ``intent`` mode: the plan's hops as ERC-7683 orders filled by a solver from its
inventory and settled through the bridge afterwards (``scenarios/runners/_intent.py``)."""

from __future__ import annotations

import math

import pytest

from scenarios import RunSpec, World, run
from scenarios.model import CostModel
from scenarios.plan import BUILTINS
from scenarios.runners._intent import IntentExecution, get_quote
from scenarios.runners._scenario_run import plan_for, resolve_scenario, run_plan
from scenarios.sweep import WorldCache


def _events(result, name):
    return [e for e in result.timeline if e["event"] == name]


@pytest.mark.parametrize("latency", ["interop", "fast-attestation", "finality"])
def test_intent_user_latency_is_the_fill_time_whatever_the_preset(
    scenario_world: World, latency: str
) -> None:
    spec = RunSpec(mode="intent", scenario="remote-start", latency=latency, seed=2)
    result = run(spec, world=scenario_world)
    m = result.metrics
    assert m["outcome"] == "complete"
    fills = _events(result, "fill")
    assert len(fills) == 5
    # every fill lands one block of its destination after the open (2 s blocks)
    assert [f["latency_s"] for f in fills] == [2.0] * 5
    # the user's last move is the last leg of the plan, 36 s after its first:
    # 14 legs, one 2 s block each, plus one 2 s block per fill
    assert m["user_latency_s"] == 36.0
    assert m["latency_s"] >= m["user_latency_s"]
    assert _events(result, "bridge_out") == []  # the user never waits for the bridge


def test_intent_solver_repayment_waits_for_the_bridge(scenario_world: World) -> None:
    spec = RunSpec(mode="intent", scenario="remote-start", latency="finality", seed=2)
    result = run(spec, world=scenario_world)
    m = result.metrics
    settled = _events(result, "settled")
    assert len(settled) == 5
    # the finality preset takes minutes: no solver is repaid before its proof arrives
    assert min(e["latency_s"] for e in settled) > 60.0
    first = min(e["t"] for e in result.timeline if "gas" in e)
    assert m["latency_s"] == pytest.approx(max(e["t"] for e in settled) - first)
    solver = _events(result, "solver")[0]
    assert (solver["fills"], solver["declined"]) == (5, 0)
    assert solver["capital_usd_s"] > 0
    assert m["solver_capital_usd_s"] >= solver["capital_usd_s"]
    assert m["risk_bearer"] == "solver"
    # every repaid input went back to where its output was spent
    assert len(_events(result, "rebalanced")) == 5
    assert m["user_latency_s"] < 60.0


def test_intent_order_no_solver_can_fill_expires_and_refunds_exactly(
    scenario_world: World,
) -> None:
    spec = RunSpec(
        mode="intent",
        scenario="remote-start",
        seed=1,
        cost={"solver_inventory_usd": 50_000.0},  # less than the 100,000 USDC order
    )
    result = run(spec, world=scenario_world)
    m = result.metrics
    assert m["failed_step"] == "order:wUSDC B→A"
    assert m["outcome"] in ("partial", "reverted")
    declined = _events(result, "declined")[0]
    assert declined["reason"].startswith("inventory short")
    assert [e["event"] for e in result.timeline if "gas" in e] == ["open", "expire"]
    assert len(_events(result, "refunded")) == 1
    # the escrow came back exactly: the user holds its notional, nothing stranded
    assert m["net_value_usdc"] == spec.notional
    assert m["stranded_usdc"] == 0.0
    # a failure never looks like a gain: it costs at least what entering atomically costs
    assert m["all_in_cost_bps"] > 0
    assert m["all_in_cost_bps"] == math.fsum(m["cost_components_bps"].values())


def test_intent_with_no_inventory_at_all_declines_every_order(scenario_world: World) -> None:
    spec = RunSpec(mode="intent", scenario="remote-start", seed=1)
    scenario, placement = resolve_scenario(spec)
    plan = plan_for(scenario, spec, placement)
    result = run_plan(scenario_world, spec, plan, execution=IntentExecution(inventory_usd=0.0))
    assert _events(result, "declined")[0]["reason"].startswith("inventory short: 0 of")
    assert result.metrics["net_value_usdc"] == spec.notional


@pytest.mark.parametrize("scenario", sorted(BUILTINS))
def test_every_builtin_scenario_runs_in_intent_mode(worlds: WorldCache, scenario: str) -> None:
    spec = RunSpec(mode="intent", scenario=scenario, seed=4)
    result = run(spec, world=worlds.for_spec(spec))  # the arbitrage has a world of its own
    m = result.metrics
    assert m["outcome"] == "complete"
    assert m["user_latency_s"] <= m["latency_s"]
    scenario_, placement = resolve_scenario(spec)
    hops = len(plan_for(scenario_, spec, placement).hops)
    assert len(_events(result, "fill")) == hops
    assert len(_events(result, "settled")) == hops
    assert m["all_in_cost_bps"] == math.fsum(m["cost_components_bps"].values())


@pytest.mark.parametrize(
    ("scenario", "baseline"),
    [
        ("remote-start", "atomic"),
        ("swap-borrow-refinance", "atomic"),
        # the atomic leverage loop borrows on a different state than any split run (its
        # bridged run diverges by thousands of USDC at σ = 0): compare with bridged there
        ("leverage-loop", "bridged"),
    ],
)
def test_intent_at_sigma0_equals_the_baseline_up_to_the_premium_and_fees(
    scenario_world: World, scenario: str, baseline: str
) -> None:
    """divergence(intent) − divergence(baseline) = (baseline's fees − intent's fees) −
    Σ premiums at σ = 0 (closed form: the price never moves, so the final positions differ
    only by the plan's fees and what the solver's quotes kept), up to the price impact of
    the slightly smaller amounts the premiums leave (within 5 % of the premiums)."""
    spec = RunSpec(mode="intent", scenario=scenario, sigma=0.0, seed=3)
    result = run(spec, world=scenario_world)
    base = run(RunSpec(mode=baseline, scenario=scenario, sigma=0.0, seed=3), world=scenario_world)
    m = result.metrics
    premiums = math.fsum(e["premium_usd"] for e in _events(result, "fill"))
    assert premiums > 0
    expected = (base.metrics["fees_usdc"] - m["fees_usdc"]) - premiums
    gap = m["divergence_usdc"] - base.metrics["divergence_usdc"]
    assert gap == pytest.approx(expected, abs=0.05 * premiums)
    # the cost model books the quotes' premiums as solver premium, beside the fronter's
    # (tens of seconds of capital and one transaction's gas: under 0.01 bps)
    fronter = m["cost_components_bps"]["solver_premium"] - premiums / spec.notional * 1e4
    assert 0 <= fronter < 0.01


def test_quote_is_fair_value_minus_the_premium() -> None:
    model = CostModel()
    quote = get_quote(
        "WETH",
        10 * 10**18,
        price=2_000.0,
        sigma=0.8,
        model=model,
        preset="finality",
        dest_chain="B",
    )
    tau = model.bridge_fee("finality").expected_s
    year = 365 * 86_400
    value = 20_000.0
    capital = model.solver_rate * value * tau / year
    risk = model.solver_risk_charge * value * 0.8 * math.sqrt(tau / year)
    assert quote.capital_usd == pytest.approx(capital)
    assert quote.risk_usd == pytest.approx(risk)
    assert quote.premium_usd == pytest.approx(capital + risk + quote.gas_usd + quote.rebalance_usd)
    assert quote.amount_in - quote.output == math.ceil(quote.premium_usd / 2_000.0 * 10**18)
    # a dollar asset carries no price-risk charge
    usd = get_quote(
        "USDC",
        20_000 * 10**6,
        price=2_000.0,
        sigma=0.8,
        model=model,
        preset="finality",
        dest_chain="B",
    )
    assert usd.risk_usd == 0.0


def test_sweeps_run_the_preset_free_modes_once_per_layout() -> None:
    from scenarios.sweep import PRESET_FREE_MODES, SweepSpec

    sweep = SweepSpec(
        modes=("atomic", "superblock", "shared-sequencer", "intent", "bridged"),
        latencies=("fast-attestation", "finality"),
        chains=(2, 3),
        seeds=1,
    )
    runs: dict[str, list[tuple[int, str]]] = {}
    for spec in sweep.specs():
        runs.setdefault(spec.mode, []).append((spec.chains, spec.latency))
    assert {"superblock", "shared-sequencer"} == PRESET_FREE_MODES
    assert runs["atomic"] == [(2, "fast-attestation")]
    for mode in PRESET_FREE_MODES:
        assert runs[mode] == [(2, "fast-attestation"), (3, "fast-attestation")]
    for mode in ("intent", "bridged"):
        assert len(runs[mode]) == 4


def test_solver_economics_over_a_stream_of_orders(scenario_world: World) -> None:
    from scenarios.report import get_solver_economics

    specs = [
        RunSpec(mode="intent", scenario="remote-start", latency="finality", seed=seed)
        for seed in (0, 1)
    ]
    specs.append(
        RunSpec(
            mode="intent",
            scenario="remote-start",
            latency="finality",
            seed=2,
            cost={"solver_inventory_usd": 50_000.0},
        )
    )
    results = [run(spec, world=scenario_world) for spec in specs]
    econ = get_solver_economics(results, 2_000.0)
    assert (econ.runs, econ.orders, econ.declined) == (3, 11, 1)
    fills = [e for r in results for e in _events(r, "fill")]
    premium = math.fsum(e["premium_usd"] for e in fills)
    assert econ.premium_bps == pytest.approx(premium / econ.volume_usd * 1e4)
    assert econ.volume_usd > 0 and econ.capital_usd_day > 0
    assert set(econ.peak_usd) == {"A", "B", "C"}
    # one user's orders never need more than the working inventory of 1,000,000 USD
    assert all(0 < share < 1 for share in econ.utilisation.values())
    assert econ.little_usd["A"] > 0
