"""The coordination ladder's slot modes: ``superblock`` (atomic execution across chains)
and ``shared-sequencer`` (atomic inclusion per slot), against ``atomic`` and ``bridged``."""

from __future__ import annotations

import math

import pytest

from scenarios import RunSpec, World, run
from scenarios.plan import Placement, build_plan, load_scenario
from scenarios.runners._ladder import get_slots

#: The refinance draws DAI worth the whole debt: at LTV 0.74 the vault (liquidation ratio
#: 1.5, so at most ~0.667) refuses the draw on chain C.
FAILING_LTV = 0.74


def _events(result, name):
    return [e for e in result.timeline if e["event"] == name]


@pytest.mark.parametrize("sigma", [0.0, 0.8], ids=["sigma0", "sigma0.8"])
@pytest.mark.parametrize("scenario", ["swap-borrow-refinance", "remote-start", "leverage-loop"])
def test_superblock_equals_atomic_up_to_the_plans_fees(
    scenario_world: World, scenario: str, sigma: float
) -> None:
    spec = RunSpec(mode="superblock", scenario=scenario, sigma=sigma, seed=3)
    result = run(spec, world=scenario_world)
    atomic = run(
        RunSpec(mode="atomic", scenario=scenario, sigma=sigma, seed=3), world=scenario_world
    )
    m = result.metrics
    assert m["outcome"] == "complete"
    assert m["latency_s"] == 0.0
    # the plan's fees: the atomic run's flash mint; the superblock's fronter is repaid in
    # the slot, for nothing; every swap pays the same 0.3 % on the same pool state
    fee_gap = atomic.metrics["fees_usdc"] - m["fees_usdc"]
    assert m["divergence_usdc"] == pytest.approx(fee_gap, abs=1e-6)
    # every hop was delivered inside the slot
    assert [e["latency_s"] for e in _events(result, "delivered")] == [0.0] * len(
        _events(result, "bridge_out")
    )
    assert len({e["t"] for e in result.timeline if "gas" in e}) == 1


def test_superblock_leg_failing_on_c_rolls_back_a_and_b(scenario_world: World) -> None:
    spec = RunSpec(mode="superblock", scenario="remote-start", target_ltv=FAILING_LTV, seed=1)
    result = run(spec, world=scenario_world)
    m = result.metrics
    assert (m["outcome"], m["failed_step"]) == ("reverted", "draw")
    assert _events(result, "failed")[0]["chain"] == "C"
    assert _events(result, "failed")[0]["reason"] == "cdp: unsafe position"
    # nothing stayed on A or B: no transaction, no gas, the user still holds the notional
    assert (m["transactions"], m["gas"]) == (0, 0)
    assert not [e for e in result.timeline if "gas" in e]
    assert m["net_value_usdc"] == pytest.approx(spec.notional, abs=1e-6)
    # nothing to unwind but re-entry: about what a reverted atomic run costs
    assert m["all_in_cost_bps"] == pytest.approx(0.0, abs=0.01)


def test_shared_sequencer_leg_failing_on_c_leaves_a_partial_priced_outcome(
    scenario_world: World,
) -> None:
    spec = RunSpec(mode="shared-sequencer", scenario="remote-start", target_ltv=FAILING_LTV, seed=1)
    result = run(spec, world=scenario_world)
    m = result.metrics
    assert (m["outcome"], m["failed_step"]) == ("partial", "draw")
    committed = {(e["event"], e["chain"]) for e in result.timeline if "gas" in e}
    assert {("swap", "A"), ("supply_collateral", "B"), ("borrow", "B"), ("lock", "C")} <= committed
    failed = _events(result, "failed")[0]
    assert (failed["chain"], failed["reason"]) == ("C", "cdp: unsafe position")
    assert failed["gas"] > 0  # included in its slot and reverted: its gas is paid
    components = m["cost_components_bps"]
    assert components["unwind"] > 0
    assert m["all_in_cost_bps"] == math.fsum(components.values())


def test_shared_sequencer_messages_travel_at_interop_whatever_the_bridge_preset(
    scenario_world: World,
) -> None:
    results = [
        run(
            RunSpec(mode="shared-sequencer", scenario="remote-start", sigma=0.8, seed=2, latency=p),
            world=scenario_world,
        )
        for p in ("fast-attestation", "finality")
    ]
    assert results[0].metrics == results[1].metrics
    hops = _events(results[0], "bridge_out")
    assert {e["preset"] for e in hops} == {"interop"}
    assert all(e["latency_s"] <= 4.0 for e in _events(results[0], "delivered"))
    # each slot's legs share one timestamp per chain
    slots = {(e["t"], e["chain"]) for e in results[0].timeline if "gas" in e}
    assert len(slots) == 6


def test_slots_end_at_each_hop() -> None:
    plan = build_plan(
        load_scenario("remote-start")[0],
        Placement.parse("amm=A,lending=B,cdp=C"),
        "shared-sequencer",
    )
    slots = get_slots(plan.legs)
    assert [[leg.action for leg in slot] for slot in slots] == [
        ["hop"],
        ["swap", "hop"],
        ["supply", "borrow", "front_repay", "withdraw", "hop"],
        ["hop"],
        ["lock", "draw", "hop"],
        ["swap", "repay_fronter"],
    ]
    assert sum(len(s) for s in slots) == len(plan.legs)
