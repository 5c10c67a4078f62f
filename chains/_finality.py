"""Finality levels: when a block becomes ``safe`` and ``finalized``.

A chain's :class:`~chains.ChainConfig` says how, with two rules that must both hold:

* **depth**: block ``n`` is safe once ``head − n ≥ safe_depth`` (finalized: ``finalized_depth``),
  anvil's rule (``safe = head − 32``, ``finalized = head − 64``, one and two epochs of slots);
* **time**, on the devnet's shared clock: blocks are settled in batches closing every
  ``finality_interval`` seconds (0: every block is its own batch); a block with timestamp
  ``t`` belongs to the batch closing at ``c(t) = ⌈t / I⌉·I`` (``c(t) = t`` when ``I = 0``)
  and is safe once ``now ≥ c(t) + safe_after`` (finalized: ``finalized_after``).

The safe (finalized) head is the highest block meeting both rules; genesis always is.
Timestamps never decrease along the chain, so both rules are monotone in the block
number and the head is found by bisection. :data:`FINALITY_PRESETS` gives the usual
shapes (splat one into a chain's config); a reorg may only replace blocks above the
finalized head.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Literal

from chains._types import BlockRecord

__all__ = [
    "FINALITY_FIELDS",
    "FINALITY_PRESETS",
    "FinalityLevel",
    "get_close_time",
    "get_level_head",
]

FinalityLevel = Literal["safe", "finalized"]

FINALITY_FIELDS: Final = (
    "safe_depth",
    "finalized_depth",
    "finality_interval",
    "safe_after",
    "finalized_after",
)

#: Finality shapes, as ChainConfig keys. ``anvil`` is the default (anvil's block-count
#: tags). ``ethereum``: 32-slot epochs of 12 s (384 s); an epoch is justified (safe) one
#: epoch after it closes and finalized two epochs after (Gasper: a block waits 12.8–19 min).
#: ``op-stack``: the batcher closes a batch every 60 s, it lands on L1 about two slots later
#: (24 s, the L2's ``safe`` head) and is final when that L1 block is (24 s + 960 s, the L1's
#: mean wait of 2.5 epochs). ``instant``: every block final at once (no reorg possible).
FINALITY_PRESETS: Final[Mapping[str, Mapping[str, Any]]] = MappingProxyType(
    {
        "anvil": MappingProxyType(
            {
                "safe_depth": 32,
                "finalized_depth": 64,
                "finality_interval": 0.0,
                "safe_after": 0.0,
                "finalized_after": 0.0,
            }
        ),
        "instant": MappingProxyType(
            {
                "safe_depth": 0,
                "finalized_depth": 0,
                "finality_interval": 0.0,
                "safe_after": 0.0,
                "finalized_after": 0.0,
            }
        ),
        "ethereum": MappingProxyType(
            {
                "safe_depth": 0,
                "finalized_depth": 0,
                "finality_interval": 384.0,
                "safe_after": 384.0,
                "finalized_after": 768.0,
            }
        ),
        "op-stack": MappingProxyType(
            {
                "safe_depth": 0,
                "finalized_depth": 0,
                "finality_interval": 60.0,
                "safe_after": 24.0,
                "finalized_after": 984.0,
            }
        ),
    }
)


def get_close_time(timestamp: float, interval: float) -> float:
    """``c(t) = ⌈t / I⌉·I`` for ``I > 0``, else ``t``: when the batch holding ``t`` closes."""
    if interval <= 0:
        return float(timestamp)
    return math.ceil(timestamp / interval) * interval


def get_level_head(
    blocks: Sequence[BlockRecord], now: float, *, depth: int, after: float, interval: float
) -> int:
    """The highest block number meeting the depth rule and the time rule (at least 0)."""
    head = blocks[-1].number
    by_depth = head - depth
    if after <= 0 and interval <= 0:
        by_time = head
    else:
        limit = now - after
        by_time = (
            bisect_right(blocks, limit, key=lambda b: get_close_time(b.timestamp, interval)) - 1
        )
    return max(0, min(by_depth, by_time))
