"""Running a scenario in a mode, with divergence against the same scenario's atomic run.

:func:`run_scenario` plans the scenario for the spec's mode (placement: the given one, the
scenario file's, or the default spread over ``spec.chains``), executes the plan, then the
*same scenario's* atomic plan in the same world with the same seed, price path and notional,
and fills ``divergence_usdc``/``divergence_bps`` (:func:`scenarios.with_divergence`). A
scenario without an atomic form is refused before anything runs when divergence is asked for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from scenarios.model import MarketConfig, RunResult, RunSpec, with_divergence
from scenarios.plan import (
    SWAP_BORROW_REFINANCE,
    Placement,
    Plan,
    Scenario,
    ScenarioError,
    build_plan,
    load_scenario,
    validate,
)
from scenarios.runners import (
    _batch,  # noqa: F401 - registers the atomic execution
    _intent,  # noqa: F401 - registers the intent execution
    _ladder,  # noqa: F401 - registers the slot executions
)
from scenarios.runners._interpreter import execute_plan
from scenarios.runners._legs import Execution
from scenarios.world import MAX_WORLD_CHAINS, Hosting, World

__all__ = [
    "PlanRunner",
    "hosting_for",
    "hosting_for_spec",
    "plan_for",
    "resolve_scenario",
    "run_plan",
    "run_scenario",
]


def hosting_for(scenario: Scenario, placement: Placement, chains: int) -> Hosting:
    """The hosting a world of ``chains`` chains needs for ``scenario`` placed by
    ``placement`` (in every mode: its one-chain form and its spread form), as built: the
    standard layout when that covers it. A placement on more chains than ``chains`` or than
    a world may have is refused, naming it."""
    if placement.chains > MAX_WORLD_CHAINS:
        raise ScenarioError(
            f"placement {placement.text()} needs {placement.chains} chains; a world has at "
            f"most {MAX_WORLD_CHAINS} (A..E)"
        )
    if placement.chains > chains:
        raise ScenarioError(
            f"placement {placement.text()} needs {placement.chains} chains but chains={chains}: "
            f"run with chains={placement.chains}"
        )
    needs = Hosting.for_placement(
        scenario.venues, placement.chain_of, chains, inventory=scenario.inventory
    )
    return needs.effective()


def hosting_for_spec(spec: RunSpec) -> Hosting:
    """:func:`hosting_for` the scenario and placement ``spec`` names."""
    scenario, placement = resolve_scenario(spec)
    validate(scenario, placement)
    return hosting_for(scenario, placement, spec.chains)


def plan_for(scenario: Scenario, spec: RunSpec, placement: Placement | None = None) -> Plan:
    """The plan ``spec.mode`` runs for ``scenario`` (default placement: spread over
    ``spec.chains``)."""
    if placement is None:
        placement = Placement.spread(scenario, spec.chains)
    return build_plan(scenario, placement, spec.mode)


def run_plan(
    world: World,
    spec: RunSpec,
    plan: Plan,
    *,
    execution: Execution | None = None,
    market: MarketConfig | None = None,
) -> RunResult:
    """Execute ``plan`` (no divergence) with its mode's execution unless one is given."""
    return execute_plan(world, spec, plan, execution=execution, market=market)


def run_scenario(
    spec: RunSpec,
    scenario: Scenario = SWAP_BORROW_REFINANCE,
    placement: Placement | None = None,
    *,
    world: World | None = None,
    divergence: bool = True,
    execution: Execution | None = None,
    market: MarketConfig | None = None,
) -> RunResult:
    """Run ``scenario`` in ``spec.mode``; with ``divergence``, against its own atomic run
    (same world, seed, price path, notional and ``market``). ``execution`` replaces the
    mode's default execution strategy (e.g. ``BridgedExecution(latency=Constant(600))``)."""
    spec.validate()
    placement = placement if placement is not None else Placement.spread(scenario, spec.chains)
    validate(scenario, placement, needs_atomic=divergence)
    plan = plan_for(scenario, spec, placement)
    if world is None:
        world = World.build(spec.chains, hosting=hosting_for(scenario, placement, spec.chains))
    result = run_plan(world, spec, plan, execution=execution, market=market)
    if not divergence:
        return result
    if spec.mode == "atomic":
        return with_divergence(result, result)
    atomic_spec = dataclasses.replace(spec, mode="atomic")
    baseline = run_plan(
        world, atomic_spec, plan_for(scenario, atomic_spec, placement), market=market
    )
    return with_divergence(result, baseline)


def resolve_scenario(spec: RunSpec) -> tuple[Scenario, Placement]:
    """The scenario and placement ``spec`` names: ``spec.scenario`` (a built-in or a TOML
    file), ``spec.placement`` (else the file's ``[placement]``, else the default spread
    over ``spec.chains``)."""
    scenario, file_placement = load_scenario(spec.scenario)
    if spec.placement:
        placement = Placement.parse(spec.placement)
    elif file_placement is not None:
        placement = file_placement
    else:
        placement = Placement.spread(scenario, spec.chains)
    return scenario, placement


class PlanRunner:
    """A mode as a plan runner: loads the spec's scenario and placement, plans it for the
    mode (``scenarios.plan``) and executes the plan with the mode's :class:`Execution`.
    The built-in ``atomic``, ``sequential`` and ``bridged`` are registered as these."""

    def __init__(
        self,
        mode: str,
        *,
        market: MarketConfig | None = None,
        execution: Callable[[], Execution] | None = None,
    ) -> None:
        self.name = mode
        self.market = market
        self.execution = execution

    def run(self, world: World, spec: RunSpec) -> RunResult:
        scenario, placement = resolve_scenario(spec)
        validate(scenario, placement)
        plan = build_plan(scenario, placement, self.name)
        execution = self.execution() if self.execution is not None else None
        return run_plan(world, spec, plan, execution=execution, market=self.market)
