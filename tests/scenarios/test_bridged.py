"""The ``bridged`` mode on the session worlds (3 chains, and a 2-chain one): agreement with
the atomic run at σ = 0, determinism, latency versus divergence, capital in flight, both
layouts, partial outcomes with stranded value."""

from __future__ import annotations

import statistics
from dataclasses import replace
from typing import Any

import pytest

from scenarios import RunResult, RunSpec, ScenarioConfigError, World, get_runner, run
from scenarios.model import SECONDS_PER_YEAR_F, with_divergence
from scenarios.runners import BridgedRunner


@pytest.fixture(scope="session")
def world2() -> World:
    """A 2-chain world (AMM and CDP on A, lending on B), built once."""
    return World.build(2)


def _interest_bound(scenario_world: World, result: RunResult) -> float:
    """Most interest the user can pay over the run: the market's debt (≤ notional) at its
    top rate (base + slope1 + slope2, full utilisation) and the vault's debt (≤ notional) at
    its stability fee, both for the whole run (latency_s)."""
    cfg = scenario_world.suite.config
    rate = cfg.base_rate + cfg.slope1 + cfg.slope2 + cfg.stability_fee
    return result.spec.notional * rate * float(result.metrics["latency_s"]) / SECONDS_PER_YEAR_F


def _hops(result: RunResult) -> list[dict[str, Any]]:
    return [e for e in result.timeline if e["event"] == "delivered"]


@pytest.mark.parametrize("chains", [3, 2])
def test_sigma_zero_same_block_equals_atomic_up_to_fees(
    scenario_world: World, world2: World, chains: int
) -> None:
    """σ = 0, same-block: the market never moves, so the bridged run differs from the atomic
    one only by the flash-mint fee the atomic composer pays (the bridged refinance is
    fronted instead), by the interest accrued over the run's blocks, and by bridge fees
    (none in the testbed). Hence divergence = fees(atomic) − fees(bridged) ± that interest."""
    w = scenario_world if chains == 3 else world2
    spec = RunSpec(mode="bridged", chains=chains, latency="same-block", sigma=0.0)
    bridged = run(spec, world=w)
    atomic = run(RunSpec(mode="atomic", chains=chains, sigma=0.0), world=w)
    m = bridged.metrics
    assert m["outcome"] == "complete"
    assert m["bridge_fees_usdc"] == 0.0
    fee_gap = float(atomic.metrics["fees_usdc"]) - float(m["fees_usdc"])
    assert fee_gap > 0  # the flash-mint fee: 0.01 % of the DAI minted
    tolerance = _interest_bound(w, bridged) + 1e-6
    assert tolerance < 0.1  # a few blocks: the check is tight
    assert float(m["divergence_usdc"]) == pytest.approx(fee_gap, abs=tolerance)
    assert (m["price_move"], m["lvr_usdc"], m["oracle_gap_max"]) == (0.0, 0.0, 0.0)
    # same-block: every hop is delivered at the instant it is sent
    assert [e["latency_s"] for e in _hops(bridged)] == [0.0] * (4 if chains == 3 else 2)
    assert m["capital_in_flight_usd_s"] == 0.0
    assert float(m["capital_in_flight_peak_usd"]) > 0
    assert float(m["fronted_usdc"]) == pytest.approx(50_000 * 0.95, rel=0.02)


def test_sigma_zero_slow_bridge_costs_only_interest(scenario_world: World) -> None:
    """σ = 0 over a ~4-week optimistic-canonical run: still complete (oracles stay fresh,
    the coarse actor cadence syncs them before each step); the divergence is the flash fee
    saved minus the interest paid while the hops take days, never more."""
    spec = RunSpec(mode="bridged", latency="optimistic-canonical", sigma=0.0)
    result = run(spec, world=scenario_world)
    atomic = run(RunSpec(mode="atomic", sigma=0.0), world=scenario_world)
    m = result.metrics
    assert m["outcome"] == "complete"
    assert float(m["latency_s"]) > 4 * 6.4 * 86_400
    fee_gap = float(atomic.metrics["fees_usdc"]) - float(m["fees_usdc"])
    divergence = float(m["divergence_usdc"])
    assert fee_gap - _interest_bound(scenario_world, result) < divergence < fee_gap - 1.0
    assert m["lvr_usdc"] == 0.0


def test_same_spec_twice_is_byte_identical(scenario_world: World) -> None:
    """Including the relayer: message ids, relay transactions and sampled latencies are in
    the timeline."""
    spec = RunSpec(mode="bridged", latency="intent-fill", sigma=0.8, seed=3)
    first, second = run(spec, world=scenario_world), run(spec, world=scenario_world)
    assert first.dumps() == second.dumps()
    hops = _hops(first)
    assert len(hops) == 4 and all(str(h["tx"]).startswith("0x") for h in hops)
    latencies = [float(h["latency_s"]) for h in hops]
    assert len(set(latencies)) == 4 and all(1.5 <= x <= 600 for x in latencies)
    other = run(
        RunSpec(mode="bridged", latency="intent-fill", sigma=0.8, seed=4), world=scenario_world
    )
    assert [float(h["latency_s"]) for h in _hops(other)] != latencies


def test_slower_bridges_diverge_more(scenario_world: World) -> None:
    """σ > 0: the market moves while the hops wait, so the bridged outcome departs from its
    σ = 0 value (fees only) further with a slower bridge. Robust check over a few seeds: the
    median |divergence − divergence(σ = 0)| is larger for finality than for same-block."""

    bridged, atomic = get_runner("bridged"), get_runner("atomic")
    seeds = range(4)
    baselines = {s: atomic.run(scenario_world, RunSpec(mode="atomic", seed=s)) for s in seeds}
    base0 = atomic.run(scenario_world, RunSpec(mode="atomic", sigma=0.0))

    def excess(latency: str) -> float:
        spec = RunSpec(mode="bridged", latency=latency)
        still = with_divergence(bridged.run(scenario_world, replace(spec, sigma=0.0)), base0)
        moves = [
            with_divergence(bridged.run(scenario_world, replace(spec, seed=s)), baselines[s])
            for s in seeds
        ]
        base = float(still.metrics["divergence_usdc"])
        return statistics.median(abs(float(r.metrics["divergence_usdc"]) - base) for r in moves)

    assert excess("finality") > excess("same-block")


def test_capital_in_flight_integrates_the_hops(scenario_world: World) -> None:
    result = run(RunSpec(mode="bridged", latency="fast-attestation", seed=2), world=scenario_world)
    m, curve = result.metrics, result.capital_in_flight
    end = max(e["t"] for e in result.timeline if "gas" in e)
    # the metric is the integral of the step curve it reports
    integral = sum(
        v * (min(t_next, end) - t)
        for (t, v), (t_next, _) in zip(curve, [*curve[1:], (end, 0.0)], strict=True)
    )
    assert float(m["capital_in_flight_usd_s"]) == pytest.approx(integral, rel=1e-9)
    assert float(m["capital_in_flight_peak_usd"]) == max(v for _, v in curve)
    # hops never overlap here, so it is also Σ value sent × hop latency
    sent = [e for e in result.timeline if e["event"] == "bridge_out"]
    hops = _hops(result)
    assert [s["hop"] for s in sent] == [h["hop"] for h in hops]
    by_hops = sum(
        float(s["value_usd"]) * float(h["latency_s"]) for s, h in zip(sent, hops, strict=True)
    )
    assert float(m["capital_in_flight_usd_s"]) == pytest.approx(by_hops, rel=1e-9)
    assert all(8.0 <= float(h["latency_s"]) <= 20.0 for h in hops)
    assert float(m["capital_in_flight_usd_s"]) > 0
    assert curve[-1][1] == 0.0  # everything arrived


def test_two_chain_layout_has_two_hops(world2: World) -> None:
    result = run(RunSpec(mode="bridged", chains=2, latency="interop", seed=1), world=world2)
    m = result.metrics
    assert m["outcome"] == "complete"
    assert [h["hop"] for h in _hops(result)] == ["hop:WETH A→B", "hop:wWETH B→A"]
    assert m["transactions"] == 11
    assert float(m["fronted_s"]) > 0


def test_layout_mismatch_is_a_clear_error(scenario_world: World) -> None:
    with pytest.raises(ScenarioConfigError, match="the world was built with 3 chains"):
        run(RunSpec(mode="bridged", chains=2), world=scenario_world)
    with pytest.raises(ScenarioConfigError, match="actor_events"):
        BridgedRunner(actor_events=0)


def test_a_failed_draw_is_partial_and_the_stranded_value_priced(scenario_world: World) -> None:
    """σ = 2 and a week per hop: WETH falls ~40 % between the borrow on B and the draw on
    C (seed 1), so the vault refuses the DAI (unsafe position). The WETH is locked in the
    vault on C, the user owes the fronter what it repaid on B and holds the borrowed wUSDC
    there: all of the net value sits in the vault, stranded."""
    spec = RunSpec(
        mode="bridged", latency="optimistic-canonical", sigma=2.0, target_ltv=0.6, seed=1
    )
    result = run(spec, world=scenario_world)
    m = result.metrics
    assert (m["outcome"], m["failed_step"]) == ("partial", "draw")
    failed = [e for e in result.timeline if e["event"] == "failed"]
    assert failed[0]["reason"] == "cdp: unsafe position"
    end = result.timeline[-1]
    assert float(m["stranded_usdc"]) == pytest.approx(end["weth"] * end["price"], rel=1e-6)
    assert float(m["stranded_usdc"]) == pytest.approx(float(m["net_value_usdc"]), rel=1e-6)
    assert float(m["fronted_s"]) > 0
    assert m["transactions"] == 10  # up to the lock; the reverted draw counts too
