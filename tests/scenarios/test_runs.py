"""Atomic and sequential runs on the session world: determinism, theory at σ = 0, outcomes."""

from __future__ import annotations

import math

import pytest

from scenarios import (
    METRIC_KEYS,
    Borrow,
    PricePath,
    RunSpec,
    Scenario,
    ScenarioConfigError,
    SequentialRunner,
    SupplyCollateral,
    Swap,
    World,
    run,
)
from scenarios.model import MarketConfig


def test_same_spec_twice_is_byte_identical(scenario_world: World) -> None:
    spec = RunSpec(mode="sequential", sigma=0.8, seed=7)
    assert run(spec, world=scenario_world).dumps() == run(spec, world=scenario_world).dumps()


def test_runs_leave_the_world_at_its_anchor(scenario_world: World) -> None:
    pool = scenario_world.suite.weth_usdc
    before = (
        pool.get_reserves(),
        scenario_world.devnet.now,
        scenario_world.suite.usdc.balanceOf(scenario_world.roles.user),
    )
    run(RunSpec(mode="sequential", seed=1), world=scenario_world)
    after = (
        pool.get_reserves(),
        scenario_world.devnet.now,
        scenario_world.suite.usdc.balanceOf(scenario_world.roles.user),
    )
    assert after == before


def test_the_world_holds_the_users_batch_executor(scenario_world: World) -> None:
    """Deployed with the world (before its anchor): owned by the user, with unlimited
    allowances to the router, the market and the vault; an atomic run deploys nothing, its
    chain-A blocks hold the keeper's report, the notional's mint and the batch only."""
    suite, account = scenario_world.suite, scenario_world.batch_executor
    assert account.owner() == scenario_world.roles.user
    for token in (suite.usdc, suite.weth, suite.dai):
        for spender in (suite.router, suite.market, suite.vault):
            assert token.allowance(account.address, spender.address) == 2**256 - 1
    chain = suite.chain
    with scenario_world.session():
        head = chain.block_number
    blocks: list[int] = []
    chain.on_block(blocks.append)
    try:
        result = run(RunSpec(mode="atomic", sigma=0.0, seed=3), world=scenario_world)
    finally:
        chain.off_block(blocks.append)
    assert result.metrics["outcome"] == "complete"
    assert chain.block_number == head  # back at the anchor
    assert len(blocks) == 3


@pytest.mark.parametrize("seed", [0, 5])
def test_every_mode_of_a_seed_sees_the_same_price_path(scenario_world: World, seed: int) -> None:
    """Each run's end price is the seed's path at the run's end time, computed apart."""
    cfg = MarketConfig()
    path = PricePath(cfg.weth_price, 2.0, 0.0, tick=cfg.tick, seed=seed)
    for mode in ("atomic", "sequential"):
        result = run(RunSpec(mode=mode, sigma=2.0, seed=seed), world=scenario_world)
        end = result.timeline[-1]
        assert end["event"] == "holdings"
        assert end["price"] == path.at(end["t"])
        assert result.metrics["price_move"] == pytest.approx(math.log(end["price"] / path.s0))
    assert PricePath(2000, 0.8, 0, seed=seed).at_tick(50) == PricePath(
        2000, 0.8, 0, seed=seed
    ).at_tick(50)


def test_result_has_every_metric(scenario_world: World) -> None:
    result = run(RunSpec(mode="atomic", seed=2), world=scenario_world)
    assert tuple(result.metrics) == tuple(METRIC_KEYS) or set(result.metrics) == set(METRIC_KEYS)
    assert result.metrics["outcome"] == "complete"
    assert result.metrics["transactions"] == 1
    assert result.metrics["latency_s"] == 0.0
    # the user ends with ~target LTV of the collateral as USDC, minus the DAI debt: NV ≈
    # notional minus the price impact and fees of two swaps
    assert 90_000 < float(result.metrics["net_value_usdc"]) < 100_000


def test_sigma_zero_sequential_equals_atomic_up_to_fees(scenario_world: World) -> None:
    """σ = 0: the only differences are the flash-mint fee (atomic) and a few blocks of
    interest (sequential), so divergence = fees(atomic) − fees(sequential) ± interest."""
    atomic = run(RunSpec(mode="atomic", sigma=0.0), world=scenario_world)
    seq = run(RunSpec(mode="sequential", sigma=0.0), world=scenario_world)
    fee_gap = float(atomic.metrics["fees_usdc"]) - float(seq.metrics["fees_usdc"])
    assert fee_gap > 0  # the flash-mint fee
    # interest on ~50k USDC for ~6 s at a few % a year is < 0.01 USDC
    assert float(seq.metrics["divergence_usdc"]) == pytest.approx(fee_gap, abs=0.01)
    assert seq.metrics["price_move"] == 0.0
    assert seq.metrics["oracle_gap_max"] == 0.0
    assert seq.metrics["lvr_usdc"] == 0.0


def test_sequential_fronts_the_repayment_and_is_repaid(scenario_world: World) -> None:
    result = run(RunSpec(mode="sequential", seed=3), world=scenario_world)
    m = result.metrics
    assert m["outcome"] == "complete"
    assert float(m["fronted_usdc"]) == pytest.approx(50_000 * 0.95, rel=0.02)
    # fronted from the repay block to the repay-fronter block: 5 blocks of 2 s
    assert m["fronted_s"] == 10.0
    assert m["transactions"] == 9
    assert m["latency_s"] == 16.0
    events = [e["event"] for e in result.timeline]
    # the swap changes the user's WETH exposure (an ``exposure`` event, for the cost model)
    assert events[:5] == ["start", "swap", "exposure", "supply_collateral", "borrow"]
    assert events[-2] == "repay_fronter"


def test_atomic_revert_leaves_nothing_behind(scenario_world: World) -> None:
    """A target LTV the vault cannot hold (CR 1/0.7 < 1.5): the composer reverts."""
    result = run(RunSpec(mode="atomic", target_ltv=0.7), world=scenario_world)
    m = result.metrics
    assert (m["outcome"], m["failed_step"]) == ("reverted", "refinance")
    assert m["net_value_usdc"] == 100_000.0  # still the notional, in USDC
    assert m["stranded_usdc"] == 0.0
    assert result.timeline[-2]["reason"] == "cdp: unsafe position"


def test_sequential_partial_prices_the_stranded_value(scenario_world: World) -> None:
    """Same LTV step by step: the swap, borrow, fronted repay, withdraw and lock commit, the
    draw fails; the WETH sits in the vault and the user owes the fronter."""
    result = run(RunSpec(mode="sequential", target_ltv=0.7, seed=4), world=scenario_world)
    m = result.metrics
    assert (m["outcome"], m["failed_step"]) == ("partial", "refinance")
    end = result.timeline[-1]
    # plain USDC (the borrowed USDC) exactly covers what is owed to the fronter, so all the
    # net value is stranded: the WETH locked in the vault
    assert float(m["stranded_usdc"]) == pytest.approx(end["weth"] * end["price"], rel=1e-6)
    assert float(m["stranded_usdc"]) == pytest.approx(float(m["net_value_usdc"]), rel=1e-6)
    assert float(m["divergence_usdc"]) < -1000  # vs the reverted atomic run, kept in USDC
    assert float(m["fronted_s"]) > 0


def test_sequential_borrow_above_max_ltv_is_partial_at_borrow(scenario_world: World) -> None:
    result = run(RunSpec(mode="sequential", target_ltv=0.77), world=scenario_world)
    assert (result.metrics["outcome"], result.metrics["failed_step"]) == ("partial", "borrow")
    assert result.timeline[-2]["reason"] == "market: ltv exceeded"


def test_user_scenario_runs_and_a_first_step_failure_is_reverted(scenario_world: World) -> None:
    lever = Scenario.from_mapping(
        {
            "name": "lever",
            "steps": [
                {"kind": "swap", "token_in": "USDC", "token_out": "WETH"},
                {"kind": "supply_collateral"},
                {"kind": "borrow", "target_ltv": 0.3},
            ],
        }
    )
    assert lever.steps == (Swap(), SupplyCollateral(), Borrow(target_ltv=0.3))
    result = SequentialRunner(lever).run(scenario_world, RunSpec(mode="sequential", seed=1))
    assert result.metrics["outcome"] == "complete"
    assert result.metrics["transactions"] == 3
    assert 0.9 < float(result.metrics["min_health_factor"]) * 0.3 / 0.8 < 1.1

    broken = Scenario("broken", (Swap("DAI", "USDC"),))
    failed = SequentialRunner(broken).run(scenario_world, RunSpec(mode="sequential"))
    assert (failed.metrics["outcome"], failed.metrics["failed_step"]) == ("reverted", "swap")
    assert failed.metrics["transactions"] == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target_ltv": 0.85}, "target_ltv=0.85 is at or above the market's liquidation threshold"),
        ({"notional": 5e6}, "notional=5000000.0 USDC is beyond the WETH/USDC pool's depth"),
    ],
    ids=["ltv-above-threshold", "notional-beyond-depth"],
)
def test_impossible_parameters_are_clear_errors(
    scenario_world: World, fields: dict[str, float], message: str
) -> None:
    for mode in ("atomic", "sequential"):
        with pytest.raises(ScenarioConfigError, match="impossible RunSpec") as info:
            run(RunSpec(mode=mode, **fields), world=scenario_world)  # type: ignore[arg-type]
        assert message in str(info.value)


def test_scenario_mapping_errors_name_the_step() -> None:
    with pytest.raises(ScenarioConfigError, match="step 1: kind='teleport'"):
        Scenario.from_mapping({"steps": [{"kind": "swap"}, {"kind": "teleport"}]})
    with pytest.raises(ScenarioConfigError, match=r"step 0 \(borrow\): unknown parameter"):
        Scenario.from_mapping({"steps": [{"kind": "borrow", "ltv": 0.5}]})
    with pytest.raises(ScenarioConfigError, match="swap WETH→DAI: no pool"):
        Swap("WETH", "DAI")
