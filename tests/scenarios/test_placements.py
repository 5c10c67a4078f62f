"""General placements: worlds host venues on any of up to five chains, every built-in runs in
every mode on them, and bad placements are refused before anything runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scenarios import MODES, RunSpec, World, run
from scenarios.model import ScenarioConfigError
from scenarios.plan import BUILTINS, Placement, ScenarioError, get_builtin
from scenarios.runners import hosting_for, run_scenario
from scenarios.world import Hosting

#: A 5-chain placement per built-in: no venue on A for most (every token crosses from its
#: home), the arbitrage's legs on D and B (its WETH travels D → A → B).
FIVE_CHAIN = {
    "swap-borrow-refinance": "amm=B,lending=D,cdp=E",
    "remote-start": "amm=B,lending=D,cdp=E",
    "leverage-loop": "amm=C,lending=E",
    "cross-chain-arb": "cheap=D,dear=B",
    "cross-chain-arb-inventory": "cheap=D,dear=B",
}


@pytest.fixture(scope="module")
def world5() -> Iterator[World]:
    """One 5-chain world hosting every built-in's :data:`FIVE_CHAIN` placement."""
    hostings = [
        hosting_for(get_builtin(name), Placement.parse(text), 5)
        for name, text in FIVE_CHAIN.items()
    ]
    yield World.build(5, hosting=Hosting.union(hostings))


@pytest.fixture(scope="module")
def world3() -> Iterator[World]:
    """A 3-chain world hosting every built-in's default spread (the standard layout plus
    the arbitrage's second AMMs and inventory)."""
    hostings = [hosting_for(s, Placement.spread(s, 3), 3) for s in BUILTINS.values()]
    yield World.build(3, hosting=Hosting.union(hostings))


def test_standard_needs_build_the_standard_layout() -> None:
    scenario = get_builtin("leverage-loop")
    needs = hosting_for(scenario, Placement.spread(scenario, 3), 3)
    assert needs == Hosting.standard(3)
    assert hosting_for(scenario, Placement.parse("amm=A,lending=D"), 4).spread == (
        ("amm", "A", 1),
        ("lending", "D", 1),
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_in_every_mode_on_five_chains(name: str, mode: str, world5: World) -> None:
    placement = Placement.parse(FIVE_CHAIN[name])
    spec = RunSpec(mode=mode, chains=5, sigma=0.8, seed=1, latency="fast-attestation")
    result = run_scenario(spec, get_builtin(name), placement, world=world5)
    assert result.metrics["outcome"] == "complete", result.metrics["failed_step"]
    if mode == "atomic":
        assert result.metrics["transactions"] == 1
    if mode in ("bridged", "shared-sequencer"):
        delivered = {e["chain"] for e in result.timeline if e["event"] == "delivered"}
        assert delivered - {"A"}, "hops reach the far chains"
    _check_divergence(name, result.metrics["divergence_bps"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_builtin_in_every_mode_on_three_chains(name: str, mode: str, world3: World) -> None:
    scenario = get_builtin(name)
    spec = RunSpec(mode=mode, chains=3, sigma=0.8, seed=1, latency="fast-attestation")
    result = run_scenario(spec, scenario, Placement.spread(scenario, 3), world=world3)
    assert result.metrics["outcome"] == "complete", result.metrics["failed_step"]
    _check_divergence(name, result.metrics["divergence_bps"])


def _check_divergence(name: str, bps: float) -> None:
    """At a fast preset the divergence is fees and fronting (a few bps), except in
    leverage-loop, where the arbitrageurs refill the pool between the loop's three swaps
    (minutes apart) while atomic's swaps stack their price impact: a gain of ~6-7 %."""
    if name == "leverage-loop":
        assert 0 <= bps < 1_000
    else:
        assert abs(bps) < 25


def test_the_same_run_in_a_larger_world_gives_the_same_metrics(
    scenario_world: World, world3: World
) -> None:
    """The standard layout's venues are deployed alike in a general 3-chain world: a
    swap-borrow-refinance run's metrics agree at σ = 0 and same-block hops (addresses,
    hashes and the relayer's per-message latency draws differ otherwise)."""
    spec = RunSpec(mode="bridged", chains=3, sigma=0.0, seed=2, latency="same-block")
    scenario = get_builtin("swap-borrow-refinance")
    standard = run_scenario(spec, scenario, world=scenario_world)
    general = run_scenario(spec, scenario, world=world3)
    for key in ("outcome", "transactions", "latency_s"):
        assert general.metrics[key] == standard.metrics[key]
    assert general.metrics["divergence_usdc"] == pytest.approx(
        standard.metrics["divergence_usdc"], abs=0.01
    )


def test_too_many_chains_is_refused_naming_the_placement() -> None:
    with pytest.raises(ScenarioError, match="needs 6 chains; a world has at most 5"):
        run(RunSpec(mode="bridged", chains=5, placement="amm=A,lending=F,cdp=C"))
    with pytest.raises(ScenarioError, match=r"needs 4 chains but chains=3: run with chains=4"):
        run(RunSpec(mode="bridged", chains=3, placement="amm=A,lending=D,cdp=C"))
    with pytest.raises(ScenarioConfigError, match="chains=6 must be 2 to 5"):
        RunSpec(chains=6).validate()


def test_a_step_on_an_unplaced_venue_is_refused_before_running() -> None:
    with pytest.raises(ScenarioError, match=r"step 1 \('sell', swap\) field 'venue': venue 'dear'"):
        run(RunSpec(mode="bridged", scenario="cross-chain-arb", placement="cheap=A"))


def test_a_world_that_does_not_host_the_placement_says_what_it_hosts(
    scenario_world: World,
) -> None:
    before = scenario_world.devnet.now
    with pytest.raises(ScenarioConfigError, match=r"this world hosts amm=A,cdp=C,lending=B"):
        run_scenario(
            RunSpec(mode="bridged"),
            get_builtin("swap-borrow-refinance"),
            Placement.parse("amm=B,lending=A,cdp=C"),
            world=scenario_world,
        )
    with pytest.raises(ScenarioConfigError, match=r"needs .*2 AMMs on A for the one-chain form"):
        run_scenario(
            RunSpec(mode="atomic", chains=3), get_builtin("cross-chain-arb"), world=scenario_world
        )
    assert scenario_world.devnet.now == before


def test_hosting_refuses_what_a_world_cannot_hold() -> None:
    with pytest.raises(ScenarioConfigError, match="a world has 2 to 5 chains"):
        Hosting(6)
    with pytest.raises(ScenarioConfigError, match="lending on chain 'D', but the world has 3"):
        Hosting(3, (("lending", "D", 1),))
    with pytest.raises(ScenarioConfigError, match="CDP vaults on several chains"):
        Hosting(3, (("cdp", "B", 1), ("cdp", "C", 1)))
