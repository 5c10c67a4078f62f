"""Confirmation policies: how settled a source block must be before the relayer relays.

A :class:`Confirmation` is a depth (blocks built on the message's block) and a finality
level of the source chain (``latest``, ``safe``, ``finalized``, as the chain's config
defines them, see ``chains._finality``); both must hold. The trade-off it sets: a reorg of
depth ``d`` undoes a lock in one of the last ``d`` blocks, so a message relayed after
``depth`` confirmations survives every reorg of depth ≤ ``depth``, and one relayed from a
finalized block survives every reorg the chain allows — at the cost of waiting for those
blocks or for finality. Relaying earlier risks an unbacked mint on the destination
(:meth:`bridge.Relayer.reconcile`).

``as_confirmation`` reads the relayer's ``confirmations=`` values: an integer (a depth),
``"safe"``, ``"finalized"``, or a :class:`Confirmation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from chains import ConfigError

if TYPE_CHECKING:
    from chains import Chain

__all__ = ["CONFIRMATION_LEVELS", "Confirmation", "ConfirmationLevel", "as_confirmation"]

ConfirmationLevel = Literal["latest", "safe", "finalized"]
CONFIRMATION_LEVELS: tuple[ConfirmationLevel, ...] = ("latest", "safe", "finalized")


@dataclass(frozen=True)
class Confirmation:
    """Relay a message once ``depth`` blocks sit on its block and the block is ``level``."""

    depth: int = 0
    level: ConfirmationLevel = "latest"

    def __post_init__(self) -> None:
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 0:
            raise ConfigError(f"confirmation depth must be an integer ≥ 0, got {self.depth!r}")
        if self.level not in CONFIRMATION_LEVELS:
            raise ConfigError(
                f"confirmation level must be one of {', '.join(CONFIRMATION_LEVELS)}, "
                f"got {self.level!r}"
            )

    def describe(self) -> str:
        """``0 blocks``, ``2 blocks``, ``finalized``, ``finalized + 2 blocks``."""
        blocks = f"{self.depth} block{'s' if self.depth != 1 else ''}"
        if self.level == "latest":
            return blocks
        return self.level if self.depth == 0 else f"{self.level} + {blocks}"

    def is_met(self, chain: Chain, block_number: int) -> bool:
        """Whether block ``block_number`` of ``chain`` is confirmed enough now."""
        if chain.block_number - block_number < self.depth:
            return False
        if self.level == "latest":
            return True
        return block_number <= chain.get_finality_head(self.level)

    def get_time_bound(self, chain: Chain, block_number: int) -> float | None:
        """When the level's time rule will hold for the block (``None``: no time rule, or
        it already holds); blocks the depth rules need arrive as blocks, not as time."""
        if self.level == "latest":
            return None
        at = chain.get_finality_time(self.level, block_number)
        return at if at is not None and at > chain.clock.now else None


def as_confirmation(spec: Any) -> Confirmation:
    """A policy from an integer depth, ``"latest"``/``"safe"``/``"finalized"`` or itself."""
    if isinstance(spec, Confirmation):
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool):
        if spec < 0:
            raise ConfigError(f"confirmations must be an integer ≥ 0, got {spec!r}")
        return Confirmation(depth=spec)
    if isinstance(spec, str) and spec in CONFIRMATION_LEVELS:
        return Confirmation(level=spec)
    raise ConfigError(
        "confirmations must be an integer ≥ 0 (blocks), 'latest', 'safe', 'finalized', "
        f"'preset' or a Confirmation, got {spec!r}"
    )
