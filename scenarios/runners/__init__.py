"""scenarios.runners: the runners: built-in registration, :func:`run` (divergence against
atomic), the market actors, the one-chain runners (atomic, sequential) and the bridged
runner.
"""

from __future__ import annotations

from scenarios.runners._actors import (
    Keeper,
    MarketActors,
)
from scenarios.runners._batch import AtomicExecution
from scenarios.runners._bridged import (
    ACTOR_EVENTS,
    HOP_DEADLINE,
    STEP_PRIORITY,
    BridgedRunner,
    Delay,
    Delivery,
    Transfer,
    get_unbacked_usdc,
)
from scenarios.runners._interpreter import (
    EXECUTIONS,
    BridgedExecution,
    OneChainExecution,
    execute_plan,
    push_to_price,
)
from scenarios.runners._legs import Binding, Execution, PlanContext, bind
from scenarios.runners._one_chain import (
    AtomicRunner,
    RunState,
    SequentialRunner,
)
from scenarios.runners._registry import (
    get_runner,
    register_builtin_runners,
    run,
)
from scenarios.runners._scenario_run import (
    PlanRunner,
    hosting_for,
    hosting_for_spec,
    plan_for,
    resolve_scenario,
    run_plan,
    run_scenario,
)
from scenarios.runners._walk import BatchCall, Walk, walk_plan

__all__ = [
    "ACTOR_EVENTS",
    "EXECUTIONS",
    "AtomicExecution",
    "AtomicRunner",
    "BatchCall",
    "Binding",
    "BridgedExecution",
    "BridgedRunner",
    "Delay",
    "Delivery",
    "Execution",
    "HOP_DEADLINE",
    "Keeper",
    "MarketActors",
    "OneChainExecution",
    "PlanRunner",
    "PlanContext",
    "RunState",
    "STEP_PRIORITY",
    "SequentialRunner",
    "Transfer",
    "Walk",
    "bind",
    "execute_plan",
    "get_runner",
    "get_unbacked_usdc",
    "hosting_for",
    "hosting_for_spec",
    "plan_for",
    "push_to_price",
    "register_builtin_runners",
    "resolve_scenario",
    "run",
    "run_plan",
    "run_scenario",
    "walk_plan",
]
