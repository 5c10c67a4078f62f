"""The built-in runners, :func:`get_runner` and :func:`run` (divergence against atomic).

The table of runners by mode lives with the run interface (``scenarios/model``); this module
adds the built-in ``atomic``, ``sequential`` and ``bridged`` runners — each a
:class:`PlanRunner`: the spec's scenario, planned for the mode and run by the one
interpreter — to it by an explicit call, :func:`register_builtin_runners`, which
:func:`get_runner` makes before every lookup (idempotent), so importing a module registers
nothing.
"""

from __future__ import annotations

import dataclasses
import functools

from scenarios.model import (
    MODES,
    Runner,
    RunResult,
    RunSpec,
    add_builtin_runner,
    lookup_runner,
    with_divergence,
)
from scenarios.plan import validate
from scenarios.runners._scenario_run import PlanRunner, hosting_for, resolve_scenario
from scenarios.world import World

__all__ = ["get_runner", "register_builtin_runners", "run"]


def register_builtin_runners() -> None:
    """Register the built-in modes (:data:`scenarios.MODES`) where no runner holds the mode
    yet (idempotent: a plugin that took a built-in mode over keeps it)."""
    for mode in MODES:
        add_builtin_runner(mode, functools.partial(PlanRunner, mode))


def get_runner(mode: str) -> Runner:
    """The runner for ``mode`` (built-ins registered first); a clear error when the mode is
    unknown."""
    register_builtin_runners()
    return lookup_runner(mode)


def run(spec: RunSpec, *, world: World | None = None) -> RunResult:
    """Run ``spec`` and return its result, with divergence against the atomic run of the
    same scenario, seed, price path and notional (run in the same world and reverted); a
    scenario without an atomic form is refused before anything runs.

    ``world`` is reused when given (it must match the spec's layout); otherwise one is built.
    """
    spec.validate()
    runner = get_runner(spec.mode)
    hosting = None
    if isinstance(runner, PlanRunner):
        # divergence needs the scenario's atomic form: refuse before anything runs
        scenario, placement = resolve_scenario(spec)
        validate(scenario, placement, needs_atomic=True)
        hosting = hosting_for(scenario, placement, spec.chains)
    if world is None:
        world = World.build(spec.chains, hosting=hosting)
    result = runner.run(world, spec)
    if spec.mode == "atomic":
        baseline = result
    else:
        baseline = get_runner("atomic").run(world, dataclasses.replace(spec, mode="atomic"))
    return with_divergence(result, baseline)
