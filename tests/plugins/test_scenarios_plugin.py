"""The scenarios pytest plugin's fixtures, used the way a protocol team's suite would."""

from __future__ import annotations

from collections.abc import Callable

from scenarios import RunResult, Suite, World
from scenarios.world import BridgedLayout


def test_world_is_isolated_per_test_first(world: World, suite: Suite) -> None:
    suite.usdc.mint(world.roles.flow, 123, sender=world.roles.deployer)
    assert suite.usdc.balanceOf(world.roles.flow) % 1000 == 123


def test_world_is_isolated_per_test_second(world: World, suite: Suite) -> None:
    suite.usdc.mint(world.roles.flow, 123, sender=world.roles.deployer)
    # the other test's mint was reverted, whatever order they ran in
    assert suite.usdc.balanceOf(world.roles.flow) % 1000 == 123


def test_bridge_fixture_is_the_layout(world: World, bridge: BridgedLayout) -> None:
    assert bridge.lending.chain.name == "B"
    assert bridge.relayer is world.bridged.relayer


def test_scenario_run_one_call(scenario_run: Callable[..., RunResult]) -> None:
    result = scenario_run("remote-start", "bridged", latency="fast-attestation", seed=1)
    assert result.metrics["outcome"] == "complete"
    assert result.metrics["stranded_usdc"] == 0
    atomic = scenario_run("remote-start", "atomic", seed=1)
    assert atomic.metrics["divergence_usdc"] == 0.0


def test_scenario_run_builds_the_world_a_scenario_needs(
    world: World, scenario_run: Callable[..., RunResult]
) -> None:
    # The arbitrage needs a second pool, and a 5-chain placement needs five chains: neither
    # is in the session's World, so each runs in one built for it (kept for the session).
    arb = scenario_run("cross-chain-arb", "bridged", seed=1)
    assert arb.metrics["outcome"] == "complete"
    assert arb.metrics["net_value_usdc"] > arb.spec.notional  # the gap is closed at a profit
    far = scenario_run("remote-start", "bridged", placement="amm=B,lending=D,cdp=E", chains=5)
    assert far.metrics["outcome"] == "complete"
    assert {e["chain"] for e in far.timeline if e["event"] == "delivered"} - {"A"}
    assert world.chains == 3  # the test's own World is untouched


def test_bridged_never_strands_value_at_moderate_vol(
    scenario_run: Callable[..., RunResult],
) -> None:
    """The README's example, as a protocol team would write it."""
    for seed in range(5):
        result = scenario_run(
            "remote-start", "bridged", latency="finality", sigma=0.4, seed=seed, slippage=0.05
        )
        assert result.metrics["stranded_usdc"] == 0
