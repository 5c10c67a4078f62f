"""The dev controls as Python (``chains/_dev.py``): what snapshots restore, what reset keeps."""

from __future__ import annotations

import pytest

from chains import Chain, Devnet, SnapshotNotFound


def test_snapshots_restore_the_dev_settings(chain: Chain) -> None:
    sid = chain.snapshot()
    chain.set_mining("manual")
    chain.set_coinbase("0x" + "ab" * 20)
    chain.set_block_timestamp_interval(30)
    chain.auto_impersonate(True)
    chain.revert(sid)
    assert chain.mining == "auto"
    assert chain.block_timestamp_interval is None
    assert not chain.is_auto_impersonating
    chain.mine()
    assert chain.get_block("latest").header.coinbase == bytes(20)


def test_reset_keeps_genesis_snapshots_and_drops_later_ones() -> None:
    chain = Devnet(n_chains=1).chains[0]
    at_genesis = chain.snapshot()
    chain.mine()
    later = chain.snapshot()
    chain.set_mining("manual")
    chain.reset()
    assert chain.block_number == 0
    assert chain.mining == "manual"  # the mining mode stays, as in anvil
    chain.revert(at_genesis)
    assert chain.mining == "auto"
    with pytest.raises(SnapshotNotFound):
        chain.revert(later)  # above genesis: its blocks are gone


def test_add_balance(chain: Chain) -> None:
    address = "0x" + "12" * 20
    chain.add_balance(address, 5)
    chain.add_balance(address, 6)
    assert chain.get_balance(address) == 11


def test_a_stale_queue_entry_is_replaced_when_its_nonce_comes_due() -> None:
    chain = Devnet(n_chains=1).chains[0]
    sender, to = chain.accounts[1].address, chain.accounts[2].address
    chain.submit_transaction(sender=sender, to=to, nonce=3, gas=21_000)
    chain.set_nonce(sender, 3)  # the queued one is now due, but nothing promoted it
    tx_hash = chain.submit_transaction(
        sender=sender,
        to=to,
        nonce=3,
        gas=21_000,
        max_fee_per_gas=10**11,
        max_priority_fee_per_gas=10**10,
    )
    assert chain.get_receipt(tx_hash).status
    assert chain.txpool.status() == (0, 0)
