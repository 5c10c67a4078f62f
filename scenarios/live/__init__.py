"""scenarios.live: the live devnet behind ``testbed up``: chains, bridge and relayer served
over JSON-RPC.
"""

from __future__ import annotations

from scenarios.live._devnet import (
    MANIFEST_VERSION,
    LiveDevnet,
    UpOptions,
)

__all__ = [
    "LiveDevnet",
    "MANIFEST_VERSION",
    "UpOptions",
]
