"""cross-chain-arb: the same WETH/USDC pair on two venues with a price gap, closed atomically on
one chain (the reference), with inventory on both chains, or through the bridge."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Iterator

import pytest

from bridge import Constant
from scenarios import RunSpec, World
from scenarios.model import (
    SECONDS_PER_YEAR_F,
    arb_optimum,
    arb_profit,
    break_even_gap,
    with_divergence,
)
from scenarios.plan import Placement, Swap, Units, build_plan, get_builtin
from scenarios.runners import BridgedExecution, hosting_for, push_to_price, run_scenario
from scenarios.world import AmmVenue

ARB = get_builtin("cross-chain-arb")
INVENTORY = get_builtin("cross-chain-arb-inventory")
SPLIT = Placement.parse("cheap=A,dear=B")
NOTIONAL = 10_000.0


@pytest.fixture(scope="module")
def arb_world() -> Iterator[World]:
    """A 2-chain world hosting both arbitrage scenarios: two AMMs on A (the one-chain form),
    an AMM on B, WETH inventory on B."""
    yield World.build(2, hosting=hosting_for(INVENTORY, SPLIT, 2))


def _reserves(amm: AmmVenue) -> tuple[int, int]:
    """(WETH, USDC) reserves of ``amm``'s WETH/USDC pool."""
    pool = amm.weth_usdc
    r0, r1, _ = pool.get_reserves()
    return (int(r0), int(r1)) if pool.token0() == amm.weth.address else (int(r1), int(r0))


def _t0_reserves(world: World, gap_bps: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """The one-chain pools at t0 of a σ = 0 run: the cheap one as deployed, the dear one
    pushed to P0·(1 + gap) (what a run's start does), read and reverted."""
    cheap, dear = world.amm, world.extra_amms[0]
    with world.session():
        push_to_price(dear, 2000.0 * (1 + gap_bps / 1e4), world.roles.arbitrageur)
        return _reserves(cheap), _reserves(dear)


def _profit(result_net_value: float) -> float:
    return result_net_value - NOTIONAL


def test_break_even_gap_is_two_fees() -> None:
    assert break_even_gap() == pytest.approx(1 / 0.997**2 - 1)
    assert 1e4 * break_even_gap() == pytest.approx(60.27, abs=0.01)
    # equal pools at P and P·(1 + g): profitable only above the break-even gap
    x, y = 1_000.0, 2_000_000.0
    for gap, is_profitable in ((0.005, False), (0.007, True)):
        p = 2_000 * (1 + gap)
        x2, y2 = math.sqrt(x * y / p), math.sqrt(x * y * p)
        assert (arb_optimum(x, y, x2, y2).profit > 0) is is_profitable


def test_closed_form_optimum_is_the_maximum() -> None:
    x1, y1, x2, y2 = 1_000.0, 2_000_000.0, 990.0, 2_020_000.0
    size, profit = arb_optimum(x1, y1, x2, y2)
    assert profit == pytest.approx(arb_profit(size, x1, y1, x2, y2), rel=1e-12)
    for factor in (0.9, 0.99, 1.01, 1.1):
        assert arb_profit(size * factor, x1, y1, x2, y2) < profit


@pytest.mark.parametrize("gap_bps", [100.0, 150.0])
def test_atomic_profit_agrees_with_the_closed_form(arb_world: World, gap_bps: float) -> None:
    """σ = 0: the atomic run's profit is π(Δ) of the two pools' reserves at t0, at the
    scenario's size Δ = 2,000 USDC and at the optimal size Δ*, where it is π*."""
    (x1, y1), (x2, y2) = _t0_reserves(arb_world, gap_bps)
    spec = RunSpec(mode="atomic", sigma=0.0, notional=NOTIONAL, arb_gap_bps=gap_bps, chains=2)
    result = run_scenario(spec, ARB, SPLIT, world=arb_world)
    assert result.metrics["outcome"] == "complete"
    expected = arb_profit(2_000e6, x1, y1, x2, y2) / 1e6
    assert expected > 0
    assert _profit(result.metrics["net_value_usdc"]) == pytest.approx(expected, rel=1e-6)
    # at the optimum
    size, best = arb_optimum(x1, y1, x2, y2)
    sized = dataclasses.replace(
        ARB,
        steps=(
            Swap("buy", "cheap", sell="USDC", buy="WETH", amount=Units(round(size / 1e6, 6))),
            ARB.steps[1],
        ),
    )
    optimal = run_scenario(spec, sized, SPLIT, world=arb_world)
    assert _profit(optimal.metrics["net_value_usdc"]) == pytest.approx(best / 1e6, rel=1e-6)
    assert best / 1e6 > expected * (1 - 1e-9)


def test_below_break_even_the_arbitrage_loses(arb_world: World) -> None:
    spec = RunSpec(mode="atomic", sigma=0.0, notional=NOTIONAL, arb_gap_bps=40.0, chains=2)
    result = run_scenario(spec, ARB, SPLIT, world=arb_world)
    assert result.metrics["outcome"] == "complete"
    assert _profit(result.metrics["net_value_usdc"]) < 0


def test_plans_atomic_bridge_and_inventory() -> None:
    atomic = build_plan(ARB, SPLIT, "atomic")
    assert atomic.chains == 1 and atomic.transactions == 1 and not atomic.hops
    bridged = build_plan(ARB, SPLIT, "bridged")
    assert [leg.action for leg in bridged.legs] == ["swap", "hop", "swap"]
    inventory = build_plan(INVENTORY, SPLIT, "bridged")
    assert [leg.action for leg in inventory.legs] == [
        "swap",
        "front_inventory",
        "swap",
        "hop",
        "repay_inventory",
    ]
    assert inventory.hops[0].amount == "inventory"
    assert "inventory" in inventory.funding


@pytest.mark.parametrize("mode", ["sequential", "bridged", "superblock", "shared-sequencer"])
@pytest.mark.parametrize("scenario", [ARB, INVENTORY], ids=lambda s: s.name)
def test_sigma_zero_every_mode_equals_atomic(arb_world: World, scenario: object, mode: str) -> None:
    """σ = 0: both pools stay put between the legs, so every mode makes atomic's profit."""
    spec = RunSpec(mode=mode, sigma=0.0, notional=NOTIONAL, chains=2, latency="finality")
    result = run_scenario(spec, scenario, SPLIT, world=arb_world)  # type: ignore[arg-type]
    assert result.metrics["outcome"] == "complete", result.metrics["failed_step"]
    assert result.metrics["divergence_usdc"] == pytest.approx(0.0, abs=1e-6)


def test_inventory_locks_the_profit_bridge_exposes_it(arb_world: World) -> None:
    """σ = 3 over a 40-minute hop: the bridge-based arbitrage sells after the hop at the dear
    pool's price then, so its profit spreads across seeds; the inventory-based one sells at
    once from inventory and rebalances after, so it keeps atomic's profit, at the cost of
    the inventory's capital for the hop's duration (``fronted_s``)."""
    bridge_based, inventory_based = [], []
    for seed in range(4):
        spec = RunSpec(mode="bridged", sigma=3.0, seed=seed, notional=NOTIONAL, chains=2)
        spec = dataclasses.replace(spec, slippage=0.9)
        execution = BridgedExecution(latency=Constant(2_400))
        bridge_based.append(
            run_scenario(spec, ARB, SPLIT, world=arb_world, execution=execution).metrics
        )
        execution = BridgedExecution(latency=Constant(2_400))
        inventory_based.append(
            run_scenario(spec, INVENTORY, SPLIT, world=arb_world, execution=execution).metrics
        )
    assert statistics.stdev(m["divergence_usdc"] for m in bridge_based) > 1.0
    for metrics in inventory_based:
        assert metrics["outcome"] == "complete"
        assert metrics["divergence_usdc"] == pytest.approx(0.0, abs=1e-6)
        assert metrics["fronted_s"] >= 2_400
        assert metrics["fronted_usdc"] > 1_900


@pytest.mark.parametrize(
    ("seeds", "tolerance"), [(6, 0.35), pytest.param(40, 0.12, marks=pytest.mark.slow)]
)
def test_bridge_based_profit_spread_grows_like_sigma_sqrt_tau(
    arb_world: World, seeds: int, tolerance: float
) -> None:
    """Bridge-based: the WETH bought (a ≈ 1 WETH) is sold after the hop τ on the dear pool,
    which its arbitrageur holds at P(τ)·(1 + g) once the move leaves the pool's 0.3 % fee
    band, so the divergence against atomic is ≈ a·P·(soft-thresholded move): std ≈
    a·P·s·√(2[(1 + c²)Q(c) − c·φ(c)]), s = σ√τ, c = b/s (the remote-start test's band
    correction). σ = 3, τ from 10 min to 2.7 h; MC error of a std from n seeds ~1/√(2n)."""
    sigma = 3.0
    atomic = {
        s: run_scenario(
            RunSpec(mode="atomic", sigma=sigma, seed=s, notional=NOTIONAL, chains=2),
            ARB,
            SPLIT,
            world=arb_world,
        )
        for s in range(seeds)
    }
    points = []
    for tau in (600, 2_400, 9_600):
        values = []
        for s in range(seeds):
            spec = RunSpec(
                mode="bridged", sigma=sigma, seed=s, notional=NOTIONAL, chains=2, slippage=0.9
            )
            result = run_scenario(
                spec,
                ARB,
                SPLIT,
                world=arb_world,
                execution=BridgedExecution(latency=Constant(tau)),
                divergence=False,
            )
            assert result.metrics["outcome"] == "complete"
            values.append(with_divergence(result, atomic[s]).metrics["divergence_usdc"])
        points.append((math.log(tau), math.log(statistics.stdev(values))))
    expected = _slope([(x, math.log(_band_std(sigma, math.exp(x)))) for x, _ in points])
    assert 0.5 <= expected < 0.65
    assert _slope(points) == pytest.approx(expected, abs=tolerance)
    # the level: a·P·band_std at the longest hop, within the MC error
    level = 2_000 * _band_std(sigma, 9_600.0)
    assert math.exp(points[-1][1]) == pytest.approx(level, rel=3 / math.sqrt(2 * seeds))


def _slope(points: list[tuple[float, float]]) -> float:
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
