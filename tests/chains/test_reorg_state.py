"""Reorgs across a state save and load (``testbed up --state FILE``): what a restart keeps
of a chain's reorg history (``chains/_state.py``, "Reorgs after a restart")."""

from __future__ import annotations

import json

import pytest

from chains import FINALITY_PRESETS, Devnet, ReorgRefused, dump_devnet
from chains._state import load_devnet


def _restarted(devnet: Devnet) -> Devnet:
    """The devnet written to JSON text and loaded into a new process-like Devnet."""
    return load_devnet(json.loads(json.dumps(dump_devnet(devnet))))


def test_a_reorg_after_a_restart_never_rebuilds_an_earlier_reorgs_block() -> None:
    devnet = Devnet(n_chains=1, seed=3)
    chain = devnet.chains[0]
    chain.mine(3)
    before = chain.get_block(chain.block_number).hash
    chain.reorg(1)
    first = chain.get_block(chain.block_number).hash
    assert first != before

    restored = _restarted(devnet)
    again = restored.chains[0]
    assert again.get_block(again.block_number).hash == first
    again.reorg(1)  # same slot, same parent, no transactions: only the count differs

    assert again.get_block(again.block_number).hash not in (before, first)
    assert again.export_state().reorg_count == 2


def test_finality_heads_and_the_reorg_floor_survive_a_restart() -> None:
    devnet = Devnet(n_chains=1, seed=3, **FINALITY_PRESETS["anvil"])
    chain = devnet.chains[0]
    chain.mine(70)
    heads = (chain.safe_block_number, chain.finalized_block_number)

    again = _restarted(devnet).chains[0]

    assert (again.safe_block_number, again.finalized_block_number) == heads
    assert again.block_number - again.finalized_block_number == 64
    with pytest.raises(ReorgRefused):
        again.reorg(65)  # it would replace the finalized head
