"""Settlement risk in a bridged run: the spec's reorg process and confirmation policy.

:func:`begin_settlement` sets the layout's relayer to the spec's confirmation policy
(``RunSpec.confirmations``, ``bridge.parse_confirmations``) on every lane, and when the spec
names a reorg process (``RunSpec.reorgs``, ``bridge.parse_reorgs``) starts a seeded
``ReorgInjector`` on the layout's chains, floored at the heads when the run starts (a
reorg only ever rewrites the run's own blocks, never the deployment's). When the policy
waits for blocks, or reorgs are on, ``EmptyBlocks`` seals an empty block per chain every
``block_time`` while the relayer has messages waiting for confirmations (with reorgs: while
a message's send is not yet final, so fast and safe relaying see the same block production),
as a live chain would. :meth:`RunSettlement.end` stops both and puts the relayer's
previous policy back (the layout is shared by the runs of a world).

A spec with neither (``reorgs=""``, ``confirmations=""`` or ``fast``) changes nothing: the
relayer relays from the latest block, no block is added, and the run's bytes are those of
a run without settlement options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bridge import (
    Confirmation,
    EmptyBlocks,
    MessageEvent,
    ReorgInjector,
    needs_blocks,
    parse_confirmations,
    parse_reorgs,
)

if TYPE_CHECKING:
    from scenarios.model import RunSpec
    from scenarios.world import BridgedLayout

__all__ = ["RunSettlement", "begin_settlement"]


@dataclass
class RunSettlement:
    """What :func:`begin_settlement` started for one run."""

    layout: BridgedLayout
    previous: dict[tuple[int, int], Confirmation]
    injector: ReorgInjector | None = None
    blocks: EmptyBlocks | None = None
    #: reorgs (depth ≥ 1) made during the run
    reorgs: int = field(default=0)

    def on_message(self, event: MessageEvent) -> None:
        """A message observed (or observed again) may wait for blocks: tick again."""
        if self.blocks is not None and event.status == "sent":
            self.blocks.wake()

    def end(self) -> None:
        """Stop the reorgs and the empty blocks; restore the relayer's policy."""
        if self.injector is not None:
            self.injector.stop()
            self.reorgs = sum(1 for r in self.injector.log if r.depth > 0)
        if self.blocks is not None:
            self.blocks.stop()
        self.layout.relayer.confirmation = self.previous


def begin_settlement(layout: BridgedLayout, spec: RunSpec) -> RunSettlement:
    """Apply ``spec``'s confirmation policy and start its reorg process (module docstring)."""
    relayer = layout.relayer
    policy = parse_confirmations(spec.confirmations, spec.latency)
    faults = parse_reorgs(spec.reorgs)
    settlement = RunSettlement(layout, dict(relayer.confirmation))
    relayer.confirmation = dict.fromkeys(relayer.lanes, policy)
    chains = {c.chain_id: c.block_number for c in layout.chains}
    if faults is not None or needs_blocks(policy):
        until_final = faults is not None
        settlement.blocks = EmptyBlocks(
            relayer.devnet,
            chains,
            is_needed=lambda: relayer.count_unconfirmed(until_final=until_final) > 0,
        ).start()
    if faults is not None:
        settlement.injector = ReorgInjector(
            relayer.devnet, faults, seed=spec.seed, chains=chains, floors=chains
        ).start()
    return settlement
