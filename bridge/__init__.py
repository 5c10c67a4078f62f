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
)
from bridge.admin import admin_methods
from bridge.faults import CRASH_POINTS, FaultPlan, Faults, RelayerCrash
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
    "CRASH_POINTS",
    "EXPIRY_TAG",
    "PRESETS",
    "RELAY_TAG",
    "SCAN_PRIORITY",
    "STATUSES",
    "STATUS_DELIVERED",
    "STATUS_EXPIRED",
    "STATUS_NONE",
    "Backoff",
    "BridgeDeployError",
    "BridgeDeployment",
    "BridgeError",
    "Constant",
    "DoubleDelivery",
    "Empirical",
    "Exponential",
    "FaultPlan",
    "Faults",
    "LatencyModel",
    "LogNormal",
    "Message",
    "MessageEvent",
    "MessageRecord",
    "MessageStore",
    "Relayer",
    "RelayerCrash",
    "StoreError",
    "TokenTransfer",
    "Uniform",
    "admin_methods",
    "deploy_bridge",
    "derive_attester_keys",
    "get_expiry_digest",
    "get_message_id",
    "get_preset",
    "get_relay_digest",
    "render_presets",
    "render_relayer_bench",
    "run_relayer_bench",
    "sign_digest",
]
