"""``atomic``: the whole plan in one transaction (placeholder until the batch executor)."""

from __future__ import annotations

from scenarios._runners import AtomicRunner
from scenarios._runspec import RunResult, RunSpec
from scenarios._world import World
from scenarios.plan._builtins import SWAP_BORROW_REFINANCE
from scenarios.plan._model import ScenarioError
from scenarios.plan._planner import Plan

__all__ = ["run_atomic"]


def run_atomic(world: World, spec: RunSpec, plan: Plan) -> RunResult:
    if plan.scenario.steps != SWAP_BORROW_REFINANCE.steps:
        raise ScenarioError("atomic: only the composer's scenario for now")
    return AtomicRunner().run(world, spec)
