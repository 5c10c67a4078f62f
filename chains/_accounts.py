"""The standard development accounts (the ones anvil and Hardhat print)."""

from __future__ import annotations

import functools

from eth_account import Account
from eth_account.signers.local import LocalAccount

__all__ = ["DEV_MNEMONIC", "dev_accounts"]

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_PATH = "m/44'/60'/0'/0/{index}"


@functools.cache
def _derive(mnemonic: str, count: int) -> tuple[LocalAccount, ...]:
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        Account.from_mnemonic(mnemonic, account_path=DEV_PATH.format(index=i)) for i in range(count)
    )


def dev_accounts(count: int = 10, mnemonic: str = DEV_MNEMONIC) -> list[LocalAccount]:
    """Derive ``count`` accounts from ``mnemonic`` along the BIP-44 Ethereum path."""
    if count < 1:
        raise ValueError(f"need at least one dev account, got count={count}")
    return list(_derive(mnemonic, count))
