"""Scenarios run through the planner and the one interpreter, in every mode, on the World."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge import Constant
from scenarios import MODES as LADDER_MODES
from scenarios import MarketConfig, RunSpec, World
from scenarios.model import SECONDS_PER_YEAR_F, ScenarioConfigError, with_divergence
from scenarios.plan import (
    BUILTINS,
    Placement,
    Scenario,
    ScenarioError,
    get_builtin,
    load_scenario_file,
)
from scenarios.runners import BridgedExecution, hosting_for, run_scenario
from scenarios.sweep import WorldCache

MODES = ("atomic", "sequential", "bridged")
EXAMPLES = Path(__file__).parents[2] / "examples" / "scenarios"


@pytest.fixture(scope="module")
def world2() -> Iterator[World]:
    """A 2-chain world (lending on B, AMM and CDP on A), built once for the module."""
    yield World.build(2)


def _world(chains: int, world: World, world2: World) -> World:
    return world if chains == 3 else world2


@pytest.mark.parametrize("chains", [2, 3])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_runs_in_every_mode(
    name: str, mode: str, chains: int, world: World, world2: World, worlds: WorldCache
) -> None:
    worlds.put(world2)
    scenario = get_builtin(name)
    spec = RunSpec(mode=mode, chains=chains, sigma=0.8, seed=1, latency="fast-attestation")
    host = worlds.get(hosting_for(scenario, Placement.spread(scenario, chains), chains))
    result = run_scenario(spec, scenario, world=host)
    assert result.metrics["outcome"] == "complete", result.metrics["failed_step"]
    assert result.metrics["transactions"] >= 1
    if mode == "atomic":
        assert result.metrics["divergence_usdc"] == 0.0
        assert result.metrics["transactions"] == 1
    if mode == "bridged":
        hops = [e for e in result.timeline if e["event"] == "delivered"]
        assert len(hops) >= 1
    else:
        assert not [e for e in result.timeline if e["event"] == "delivered"]


@pytest.mark.parametrize("name", sorted(BUILTINS))
@pytest.mark.parametrize("mode", ["sequential", "bridged"])
def test_sigma_zero_same_block_equals_atomic_up_to_plan_fees(
    name: str, mode: str, worlds: WorldCache
) -> None:
    """σ = 0, same-block hops, arbitrageurs off (nothing moves but the user's trades): a
    mode's divergence is the fees the atomic plan pays that it does not — the flash fee of
    a flash-funded refinance — up to the interest a few blocks accrue."""
    market = MarketConfig(arbitrage=False)
    spec = RunSpec(mode=mode, sigma=0.0, latency="same-block", seed=0)
    scenario = get_builtin(name)
    world = worlds.get(hosting_for(scenario, Placement.spread(scenario, 3), 3))
    result = run_scenario(spec, scenario, world=world, market=market)
    atomic = run_scenario(
        RunSpec(mode="atomic", sigma=0.0, seed=0), scenario, world=world, market=market
    )
    fee_gap = atomic.metrics["fees_usdc"] - result.metrics["fees_usdc"]
    assert result.metrics["outcome"] == "complete"
    assert result.metrics["divergence_usdc"] == pytest.approx(fee_gap, abs=0.05)
    if any(s.kind == "refinance" for s in scenario.steps):
        assert fee_gap > 1.0  # the flash fee: 0.01 % of ~49k DAI


def test_remote_start_is_exposed_to_the_hop_but_not_at_sigma_zero(world: World) -> None:
    """Divergence spread across seeds at finality: zero without volatility (only interest
    accrual over the sampled latencies); with σ = 0.8 of the order of notional·σ√τ for
    remote-start, whose swap waits for the hop, and far smaller for swap-borrow-refinance,
    whose swap comes first on the same pool state as atomic."""

    def spread(name: str, sigma: float) -> float:
        values = [
            run_scenario(
                RunSpec(mode="bridged", latency="finality", sigma=sigma, seed=s, slippage=0.9),
                get_builtin(name),
                world=world,
            ).metrics["divergence_bps"]
            for s in range(3)
        ]
        return statistics.stdev(values)

    assert spread("remote-start", 0.0) < 1e-3
    exposed = spread("remote-start", 0.8)
    # σ√τ at the preset's median (960 s) and σ = 0.8: 44 bps; the AMM fee band (0.3 %)
    # absorbs the smaller moves, so the spread is below that but far above zero
    assert 3.0 < exposed < 100.0
    assert spread("swap-borrow-refinance", 0.8) < exposed / 3


@pytest.mark.parametrize(
    ("seeds", "tolerance"), [(6, 0.3), pytest.param(48, 0.1, marks=pytest.mark.slow)]
)
def test_remote_start_divergence_std_grows_like_sqrt_tau(
    world: World, seeds: int, tolerance: float
) -> None:
    """log-log slope of std(divergence) against the hop latency τ: 0.5 (σ√τ), corrected
    for the AMM's no-arbitrage band — the arbitrageurs leave the pool alone while the price
    stays within the fee (b = 0.3 %) of it, so the swap sees the move x ~ N(0, s²),
    s = σ√τ, soft-thresholded: sign(x)·max(|x| − b, 0), whose std is
    s·√(2[(1 + c²)Q(c) − c·φ(c)]) with c = b/s. σ = 2, τ from 10 min to 2.7 h: the
    corrected slope is 0.58. The tolerance is the Monte Carlo error: a std from n seeds is
    off by ~1/√(2n) in log (32 % at 6 seeds) over ln 16 of τ."""
    scenario = get_builtin("remote-start")
    atomic = {
        s: run_scenario(RunSpec(mode="atomic", sigma=2.0, seed=s), scenario, world=world)
        for s in range(seeds)
    }
    points = []
    for tau in (600, 2_400, 9_600):
        values = []
        for s in range(seeds):
            result = run_scenario(
                RunSpec(mode="bridged", sigma=2.0, seed=s, slippage=0.9),
                scenario,
                world=world,
                execution=BridgedExecution(latency=Constant(tau)),
                divergence=False,
            )
            values.append(with_divergence(result, atomic[s]).metrics["divergence_bps"])
        points.append((math.log(tau), math.log(statistics.stdev(values))))
    expected = _slope([(x, math.log(_band_std(2.0, math.exp(x)))) for x, _ in points])
    assert expected == pytest.approx(0.58, abs=0.01)
    assert _slope(points) == pytest.approx(expected, abs=tolerance)


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y on x."""
    xs, ys = zip(*points, strict=True)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)


def _band_std(sigma: float, tau: float, band: float = 0.003) -> float:
    """std of sign(x)·max(|x| − band, 0) for x ~ N(0, s²), s = σ√(τ / year)."""
    s = sigma * math.sqrt(tau / SECONDS_PER_YEAR_F)
    c = band / s
    normal = statistics.NormalDist()
    tail = 1 - normal.cdf(c)
    return s * math.sqrt(2 * ((1 + c * c) * tail - c * normal.pdf(c)))


def test_user_toml_scenario_runs_with_its_own_divergence(world: World) -> None:
    scenario, placement = load_scenario_file(EXAMPLES / "user-lever.toml")
    assert placement is not None
    bridged = run_scenario(
        RunSpec(mode="bridged", chains=3, sigma=0.8, seed=2), scenario, placement, world=world
    )
    atomic = run_scenario(
        RunSpec(mode="atomic", chains=3, sigma=0.8, seed=2), scenario, world=world
    )
    assert bridged.metrics["outcome"] == "complete"
    assert atomic.metrics["outcome"] == "complete"
    # 60 % of the notional bought WETH; the rest stays USDC
    assert 0 < atomic.metrics["net_value_usdc"] < 100_000
    # divergence against its own atomic run: small at a fast preset (no refinance, no flash)
    assert abs(bridged.metrics["divergence_bps"]) < 50


def test_placement_the_world_does_not_host_is_refused(world: World) -> None:
    with pytest.raises(ScenarioConfigError, match="this world hosts amm=A,cdp=C,lending=B on 3"):
        run_scenario(
            RunSpec(mode="bridged"),
            get_builtin("swap-borrow-refinance"),
            Placement.parse("amm=B,lending=A,cdp=C"),
            world=world,
        )


def test_no_atomic_form_refused_before_running(world: World) -> None:
    scenario = Scenario.from_mapping(
        {"name": "patient", "steps": [{"kind": "swap"}, {"kind": "wait", "seconds": 60}]}
    )
    before = world.devnet.now
    with pytest.raises(ScenarioError, match="has no atomic form"):
        run_scenario(RunSpec(mode="sequential"), scenario, world=world)
    assert world.devnet.now == before
    result = run_scenario(RunSpec(mode="sequential"), scenario, world=world, divergence=False)
    assert result.metrics["outcome"] == "complete"


VOCABULARY = {
    "name": "vocabulary",
    "steps": [
        {"kind": "swap", "id": "buy", "amount": "50%"},
        {"kind": "transfer", "asset": "USDC", "amount": 100, "to": "fronter", "venue": "amm"},
        {"kind": "supply", "amount": "received:buy"},
        {"kind": "borrow", "amount": "ltv:0.3"},
        {"kind": "repay"},
        {"kind": "withdraw"},
        {"kind": "open", "draw": "ltv:0.25"},
        {"kind": "cdp_repay", "amount": "50%"},
        {"kind": "free", "amount": "10%"},
    ],
}


@pytest.mark.parametrize("mode", LADDER_MODES)
def test_every_step_kind_runs_in_every_mode(mode: str, world: World) -> None:
    """Transfer, repay, withdraw, open (lock + draw at an LTV), CDP repay and free, on the
    3-chain placement (bridged: 3 hops) — at σ = 0 every mode ends where atomic does."""
    scenario = Scenario.from_mapping(VOCABULARY)
    result = run_scenario(RunSpec(mode=mode, sigma=0.0, seed=0), scenario, world=world)
    assert result.metrics["outcome"] == "complete", result.metrics["failed_step"]
    # intent: the solver's quotes keep their premiums (within 5 % for the price impact of
    # the slightly smaller amounts they leave)
    premiums = math.fsum(e["premium_usd"] for e in result.timeline if e["event"] == "fill")
    assert (mode == "intent") == (premiums > 0)
    assert result.metrics["divergence_usdc"] == pytest.approx(
        -premiums, abs=max(0.01, 0.05 * premiums)
    )
    assert (
        result.metrics["transactions"]
        == {
            "atomic": 1,
            "superblock": 13,
            "shared-sequencer": 13,
            "intent": 13,
            "bridged": 13,
            "sequential": 10,
        }[mode]
    )
    # 100 USDC given away; the 50,000 USDC swap pays the 0.3 % fee and its price impact on
    # the 2M-USDC pool (~2.5 %); everything else is still the user's
    assert 98_000 < result.metrics["net_value_usdc"] < 100_000 - 100 - 150
