"""bridge: cross-chain messages between devnet chains, carried by an asynchronous relayer.

The relayer side: latency models and presets (:mod:`bridge.latency`), seeded faults
(:mod:`bridge.faults`), the SQLite message store (:mod:`bridge.store`) and the
:class:`Relayer` itself, an event-driven state machine on the devnet's clock.
"""

from __future__ import annotations

from bridge._relayer import (
    ACTION_PRIORITY,
    SCAN_PRIORITY,
    Backoff,
    BridgeError,
    DoubleDelivery,
    Relayer,
)
from bridge.faults import CRASH_POINTS, FaultPlan, Faults, RelayerCrash, forge_signatures
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
from bridge.store import STATUSES, MessageEvent, MessageRecord, MessageStore, StoreError

__all__ = [
    "ACTION_PRIORITY",
    "CRASH_POINTS",
    "PRESETS",
    "SCAN_PRIORITY",
    "STATUSES",
    "Backoff",
    "BridgeError",
    "Constant",
    "DoubleDelivery",
    "Empirical",
    "Exponential",
    "FaultPlan",
    "Faults",
    "LatencyModel",
    "LogNormal",
    "MessageEvent",
    "MessageRecord",
    "MessageStore",
    "Relayer",
    "RelayerCrash",
    "StoreError",
    "Uniform",
    "forge_signatures",
    "get_preset",
]
