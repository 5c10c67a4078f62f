"""scenarios.world: deployment: the DeFi suite on a chain, the venues and roles, the bridged
layout and the :class:`World` every run happens in.
"""

from __future__ import annotations

from scenarios.world._general import build_general_layout, deploy_amm
from scenarios.world._hosting import MAX_WORLD_CHAINS, Hosting
from scenarios.world._intent import (
    PROOF_WINDOW,
    SOLVER_INVENTORY_USD,
    IntentLayout,
    build_intent,
)
from scenarios.world._layout import (
    FRONTER_INVENTORY,
    BridgedLayout,
    build_layout,
)
from scenarios.world._suite import (
    CONTRACTS_DIR,
    Suite,
    SuiteConfig,
    SuiteConfigError,
    build_blueprint_initcode,
    deploy_suite,
    market_args,
    vault_args,
)
from scenarios.world._venues import (
    AmmVenue,
    CdpVenue,
    LendingVenue,
    Roles,
    fetch_token0,
)
from scenarios.world._world import (
    World,
)

__all__ = [
    "AmmVenue",
    "BridgedLayout",
    "CONTRACTS_DIR",
    "build_blueprint_initcode",
    "CdpVenue",
    "FRONTER_INVENTORY",
    "Hosting",
    "MAX_WORLD_CHAINS",
    "IntentLayout",
    "PROOF_WINDOW",
    "SOLVER_INVENTORY_USD",
    "LendingVenue",
    "Roles",
    "Suite",
    "SuiteConfig",
    "SuiteConfigError",
    "World",
    "build_general_layout",
    "build_intent",
    "build_layout",
    "deploy_amm",
    "deploy_suite",
    "fetch_token0",
    "market_args",
    "vault_args",
]
