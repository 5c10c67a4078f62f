"""bridge: cross-chain messages between devnet chains, carried by an asynchronous relayer.

The contracts side: the attested ``Messenger`` and the lock-and-mint ``TokenBridge``,
deployed and wired by :func:`deploy_bridge`, attestations signed in Python
(:class:`BridgeDeployment`). The relayer side: latency models and presets
(:mod:`bridge.latency`), seeded faults (:mod:`bridge.faults`), the SQLite message store
(:mod:`bridge.store`) and the :class:`Relayer`, an event-driven state machine on the
devnet's clock.

>>> from chains import Devnet
>>> from bridge import deploy_bridge
>>> devnet = Devnet(n_chains=2, seed=7)
>>> deployment = deploy_bridge(devnet)
>>> sorted(deployment.messengers) == [31337, 31338]
True
"""

from __future__ import annotations

from bridge._bench import render_relayer_bench, run_relayer_bench
from bridge._deploy import (
    BRIDGE_CONTRACTS_DIR,
    EXPIRY_TAG,
    RELAY_TAG,
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_NONE,
    BridgeDeployError,
    BridgeDeployment,
    Message,
    deploy_bridge,
    derive_attester_keys,
    get_expiry_digest,
    get_message_id,
    get_relay_digest,
    sign_digest,
)
from bridge._presets_cli import render_presets
from bridge._relayer import (
    ACTION_PRIORITY,
    SCAN_PRIORITY,
    Backoff,
    BridgeError,
    DoubleDelivery,
    Relayer,
    UnbackedMint,
)
from bridge.admin import admin_methods
from bridge.confirmation import CONFIRMATION_LEVELS, Confirmation, as_confirmation
from bridge.faults import (
    CRASH_POINTS,
    FaultPlan,
    Faults,
    FixedDepth,
    GeometricDepth,
    InjectedReorg,
    RelayerCrash,
    ReorgFaults,
    ReorgInjector,
)
from bridge.latency import (
    PRESETS,
    Constant,
    Empirical,
    Exponential,
    LatencyModel,
    LogNormal,
    Uniform,
    get_preset,
)
from bridge.policy import (
    CONFIRMATION_POLICIES,
    REORG_PROFILES,
    EmptyBlocks,
    needs_blocks,
    parse_confirmations,
    parse_reorgs,
)
from bridge.settlement import render_settlement, run_settlement, settlement_sweep
from bridge.store import (
    STATUSES,
    MessageEvent,
    MessageRecord,
    MessageStore,
    StoreError,
    TokenTransfer,
)

__all__ = [
    "ACTION_PRIORITY",
    "BRIDGE_CONTRACTS_DIR",
    "CONFIRMATION_LEVELS",
    "CONFIRMATION_POLICIES",
    "CRASH_POINTS",
    "EXPIRY_TAG",
    "PRESETS",
    "RELAY_TAG",
    "REORG_PROFILES",
    "SCAN_PRIORITY",
    "STATUSES",
    "STATUS_DELIVERED",
    "STATUS_EXPIRED",
    "STATUS_NONE",
    "Backoff",
    "BridgeDeployError",
    "BridgeDeployment",
    "BridgeError",
    "Confirmation",
    "Constant",
    "DoubleDelivery",
    "Empirical",
    "EmptyBlocks",
    "Exponential",
    "FaultPlan",
    "Faults",
    "FixedDepth",
    "GeometricDepth",
    "InjectedReorg",
    "LatencyModel",
    "LogNormal",
    "Message",
    "MessageEvent",
    "MessageRecord",
    "MessageStore",
    "Relayer",
    "RelayerCrash",
    "ReorgFaults",
    "ReorgInjector",
    "StoreError",
    "TokenTransfer",
    "UnbackedMint",
    "Uniform",
    "admin_methods",
    "as_confirmation",
    "deploy_bridge",
    "derive_attester_keys",
    "get_expiry_digest",
    "get_message_id",
    "get_preset",
    "get_relay_digest",
    "needs_blocks",
    "parse_confirmations",
    "parse_reorgs",
    "render_presets",
    "render_relayer_bench",
    "run_relayer_bench",
    "render_settlement",
    "run_settlement",
    "settlement_sweep",
    "sign_digest",
]
