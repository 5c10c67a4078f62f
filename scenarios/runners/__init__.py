"""scenarios.runners: the runners: built-in registration, :func:`run` (divergence against
atomic), the market actors, the one-chain runners (atomic, sequential) and the bridged
runner.
"""

from __future__ import annotations

from scenarios.runners._actors import (
    Keeper,
    MarketActors,
)
from scenarios.runners._bridged import (
    ACTOR_EVENTS,
    HOP_DEADLINE,
    STEP_PRIORITY,
    BridgedRunner,
    Delay,
    Delivery,
)
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

__all__ = [
    "ACTOR_EVENTS",
    "AtomicRunner",
    "BridgedRunner",
    "Delay",
    "Delivery",
    "HOP_DEADLINE",
    "Keeper",
    "MarketActors",
    "RunState",
    "STEP_PRIORITY",
    "SequentialRunner",
    "get_runner",
    "register_builtin_runners",
    "run",
]
