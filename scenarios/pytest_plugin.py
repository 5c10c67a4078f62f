"""pytest plugin: ``world``, ``suite`` and ``bridge`` fixtures and a one-call scenario runner.

Loaded through the ``pytest11`` entry point (``testbed-scenarios``) once the package is
installed, next to the devnet plugin (``chains.pytest_plugin``). One :class:`~scenarios.World`
is built per session (``--testbed-world-chains``, default 3); each test runs inside
``world.session()``, so whatever it does to any chain, the clock or the relayer is reverted
to the post-deployment state afterwards (a scenario run starts from that state too).
``scenario_run`` runs a scenario in a mode and returns the :class:`~scenarios.RunResult`,
with divergence against the same scenario's atomic run::

    def test_bridged_never_strands_value_at_moderate_vol(scenario_run):
        for seed in range(5):
            result = scenario_run("remote-start", "bridged", latency="finality",
                                  sigma=0.4, seed=seed, slippage=0.05)
            assert result.metrics["stranded_usdc"] == 0

A scenario the session World does not host (the arbitrage's second pool, a placement on
more chains) runs in a World built for it on first use and kept for the session, reverted
after each run like the session's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scenarios.model import RunResult, RunSpec
from scenarios.plan import Placement, Scenario, load_scenario
from scenarios.runners import hosting_for, run_scenario
from scenarios.sweep import WorldCache
from scenarios.world import BridgedLayout, Suite, World

__all__ = [
    "bridge",
    "run_in",
    "scenario_run",
    "suite",
    "testbed_session_world",
    "testbed_worlds",
    "world",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("testbed-scenarios", "composability-testbed scenarios")
    group.addoption(
        "--testbed-world-chains",
        type=int,
        default=3,
        help="chains of the session World (2 or 3, default 3)",
    )


@pytest.fixture(scope="session")
def testbed_session_world(request: pytest.FixtureRequest) -> World:
    """The session's World (suites, bridge, relayer), built once; use ``world`` in tests."""
    return World.build(request.config.getoption("--testbed-world-chains"))


@pytest.fixture
def world(testbed_session_world: World) -> Iterator[World]:
    """The deployed World; every chain, the clock and the relayer revert after the test."""
    with testbed_session_world.session():
        yield testbed_session_world


@pytest.fixture
def suite(world: World) -> Suite:
    """The DeFi suite on chain A of ``world`` (reverted with it)."""
    return world.suite


@pytest.fixture
def bridge(world: World) -> BridgedLayout:
    """The bridged layout of ``world``: bridge contracts, relayer, venues on B (and C)."""
    return world.bridged


def run_in(
    world: World,
    scenario: str | Scenario,
    mode: str,
    *,
    placement: str | Placement | None = None,
    divergence: bool = True,
    **spec: Any,
) -> RunResult:
    """Run ``scenario`` (a built-in's name, a TOML path or a :class:`Scenario`) in ``mode``
    on ``world``; ``spec`` holds :class:`RunSpec` fields (``latency``, ``sigma``, ``seed``,
    ...; ``chains`` defaults to the world's)."""
    file_placement = None
    if isinstance(scenario, str):
        scenario, file_placement = load_scenario(scenario)
    if isinstance(placement, str):
        placement = Placement.parse(placement)
    spec.setdefault("chains", world.chains)
    return run_scenario(
        RunSpec(mode=mode, **spec),
        scenario,
        placement if placement is not None else file_placement,
        world=world,
        divergence=divergence,
    )


@pytest.fixture(scope="session")
def testbed_worlds(testbed_session_world: World) -> WorldCache:
    """Worlds by what they host: the session's, and those ``scenario_run`` built on first
    use for scenarios it does not host."""
    worlds = WorldCache()
    worlds.put(testbed_session_world)
    return worlds


@pytest.fixture
def scenario_run(world: World, testbed_worlds: WorldCache) -> Callable[..., RunResult]:
    """``scenario_run(scenario, mode, **spec)``: one run on ``world`` (see :func:`run_in`),
    or on the World the scenario and its placement need when ``world`` does not host them."""

    def _run(scenario: str | Scenario, mode: str, **kwargs: Any) -> RunResult:
        if isinstance(scenario, str):
            scenario, file_placement = load_scenario(scenario)
            kwargs.setdefault("placement", file_placement)
        placement = kwargs.get("placement")
        if isinstance(placement, str):
            placement = kwargs["placement"] = Placement.parse(placement)
        chains = kwargs.get("chains", world.chains)
        needs = hosting_for(scenario, placement or Placement.spread(scenario, chains), chains)
        if needs == world.hosting:
            return run_in(world, scenario, mode, **kwargs)
        other = testbed_worlds.get(needs)
        with other.session():
            return run_in(other, scenario, mode, **kwargs)

    return _run
