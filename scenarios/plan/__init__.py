"""scenarios.plan: scenarios as data, placements, the planner and its plans — pure data, no
chain (the interpreter that runs a plan is in ``scenarios.runners``).

>>> from scenarios.plan import get_builtin, Placement, build_plan
>>> plan = build_plan(get_builtin("remote-start"), Placement.parse("amm=A,lending=B,cdp=C"),
...                   "bridged")
>>> len(plan.hops)
5
"""

from __future__ import annotations

from scenarios.plan._builtins import BUILTINS, SWAP_BORROW_REFINANCE, get_builtin
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
from scenarios.plan._toml import load_scenario, load_scenario_file
from scenarios.plan._validate import validate

__all__ = [
    "AMM_PAIRS",
    "MODES",
    "ASSETS",
    "BUILTINS",
    "STEP_KINDS",
    "SWAP_BORROW_REFINANCE",
    "AtLtv",
    "Borrow",
    "Bridge",
    "CdpRepay",
    "Draw",
    "Free",
    "Holding",
    "Leg",
    "Lock",
    "Mode",
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
    "build_plan",
    "chain_index",
    "chain_label",
    "get_builtin",
    "get_mode",
    "load_scenario",
    "load_scenario_file",
    "parse_amount",
    "register_mode",
    "validate",
]
