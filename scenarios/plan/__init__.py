"""scenarios.plan: scenarios as data, placements, the planner and its plans.

>>> from scenarios.plan import get_builtin, Placement, validate
>>> scenario = get_builtin("remote-start")
>>> validate(scenario, Placement.parse("amm=A,lending=B,cdp=C"))
"""

from __future__ import annotations

from scenarios.plan._atomic import AtomicExecution
from scenarios.plan._builtins import BUILTINS, get_builtin
from scenarios.plan._interpret import (
    EXECUTIONS,
    Binding,
    BridgedExecution,
    Execution,
    OneChainExecution,
    bind,
    execute_plan,
)
from scenarios.plan._model import (
    AMM_PAIRS,
    ASSETS,
    STEP_KINDS,
    AtLtv,
    Borrow,
    Bridge,
    CdpRepay,
    Draw,
    Free,
    Holding,
    Lock,
    Open,
    Received,
    Refinance,
    Repay,
    Scenario,
    ScenarioError,
    Step,
    Supply,
    Swap,
    Transfer,
    Units,
    Wait,
    Withdraw,
    parse_amount,
)
from scenarios.plan._placement import Placement, chain_index, chain_label
from scenarios.plan._planner import MODES, Leg, Mode, Plan, build_plan, get_mode, register_mode
from scenarios.plan._run import plan_for, run_plan, run_scenario
from scenarios.plan._toml import load_scenario, load_scenario_file
from scenarios.plan._validate import validate

__all__ = [
    "AMM_PAIRS",
    "MODES",
    "ASSETS",
    "EXECUTIONS",
    "BUILTINS",
    "STEP_KINDS",
    "AtLtv",
    "AtomicExecution",
    "Binding",
    "Borrow",
    "Bridge",
    "BridgedExecution",
    "CdpRepay",
    "Draw",
    "Execution",
    "Free",
    "Holding",
    "Leg",
    "Lock",
    "Mode",
    "OneChainExecution",
    "Open",
    "Plan",
    "Placement",
    "Received",
    "Refinance",
    "Repay",
    "Scenario",
    "ScenarioError",
    "Step",
    "Supply",
    "Swap",
    "Transfer",
    "Units",
    "Wait",
    "Withdraw",
    "bind",
    "build_plan",
    "chain_index",
    "chain_label",
    "execute_plan",
    "get_builtin",
    "get_mode",
    "load_scenario",
    "load_scenario_file",
    "parse_amount",
    "plan_for",
    "register_mode",
    "run_plan",
    "run_scenario",
    "validate",
]
