"""BatchExecutor: a user's account that runs calls in one transaction, patches amounts from
its balances and runs inner calls inside a flash mint."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chains import Contract, TransactionReverted
from scenarios import Suite

ZERO = "0x" + "00" * 20
MAX = 2**256 - 1


@pytest.fixture
def account(suite: Suite, deploy: Callable[..., Contract], trader: str) -> Contract:
    """The trader's batch executor (allowances to router, market and vault), 10,000 USDC."""
    approvals = [
        (t.address, s.address)
        for t in (suite.usdc, suite.weth, suite.dai)
        for s in (suite.router, suite.market, suite.vault)
    ]
    account = deploy("BatchExecutor", trader, approvals, sender=suite.deployer)
    suite.usdc.mint(account.address, 10_000 * 10**6, sender=suite.deployer)
    return account


def _call(contract: Contract, fn: str, *args: object, patch: str = ZERO, inner: int = 0) -> tuple:
    return (contract.address, getattr(contract, fn).encode(*args), patch, 4, inner)


def test_execute_patches_the_amount_from_the_balance(
    suite: Suite, account: Contract, trader: str
) -> None:
    path = [suite.usdc.address, suite.weth.address]
    # amount 1 in the calldata, patched to the whole USDC balance when the call runs
    swap = _call(
        suite.router,
        "swap_exact_tokens_for_tokens",
        1,
        0,
        path,
        account.address,
        MAX,
        patch=suite.usdc.address,
    )
    supply = _call(suite.market, "supply_collateral", 1, account.address, patch=suite.weth.address)
    account.execute([swap, supply], sender=trader)
    receipt = suite.chain.last_receipt
    assert suite.usdc.balanceOf(account.address) == 0
    assert suite.weth.balanceOf(account.address) == 0
    assert suite.market.collateral(account.address) > 0
    assert any(e.name == "Executed" and e.args["calls"] == 2 for e in receipt.events)


def test_execute_not_owner_reverts(suite: Suite, account: Contract, attacker: str) -> None:
    call = _call(suite.usdc, "transfer", attacker, 1)
    with pytest.raises(TransactionReverted, match="batch: not owner"):
        account.execute([call], sender=attacker)


def test_execute_reverts_all_calls_when_one_fails(
    suite: Suite, account: Contract, trader: str, lp: str
) -> None:
    ok = _call(suite.usdc, "transfer", lp, 5 * 10**6)
    bad = _call(suite.market, "borrow", 10**6, account.address)  # no collateral
    before = suite.usdc.balanceOf(account.address)
    with pytest.raises(TransactionReverted):
        account.execute([ok, bad], sender=trader)
    assert suite.usdc.balanceOf(account.address) == before


def test_flash_mint_runs_inner_calls_and_repays(
    suite: Suite, account: Contract, trader: str, lp: str
) -> None:
    chain = suite.chain
    weth = 5 * 10**18
    suite.weth.mint(account.address, weth, sender=suite.deployer)
    amount = 1_000 * 10**18
    fee = suite.vault.flash_fee(amount)
    calls = [
        _call(suite.vault, "flash_mint", account.address, amount, b"", inner=2),
        _call(suite.vault, "lock", weth, account.address),
        _call(suite.vault, "draw", amount + fee, account.address),
    ]
    account.execute(calls, sender=trader)
    receipt = chain.last_receipt
    assert suite.vault.debt_of(account.address) >= amount + fee
    # minted `amount`, drew amount + fee, the vault burned amount + fee: `amount` is left
    assert suite.dai.balanceOf(account.address) == amount
    assert any(e.name == "FlashMint" and e.args["fee"] == fee for e in receipt.events)


def test_flash_mint_inner_out_of_range_reverts(
    suite: Suite, account: Contract, trader: str
) -> None:
    calls = [_call(suite.vault, "flash_mint", account.address, 10**18, b"", inner=3)]
    with pytest.raises(TransactionReverted, match="batch: inner calls out of range"):
        account.execute(calls, sender=trader)


def test_callback_outside_execute_reverts(suite: Suite, account: Contract, attacker: str) -> None:
    with pytest.raises(TransactionReverted, match="batch: untrusted lender"):
        account.on_flash_loan(account.address, suite.dai.address, 1, 0, b"", sender=attacker)


def test_flash_mint_to_another_receiver_is_not_called_back(
    suite: Suite, account: Contract, trader: str, lp: str
) -> None:
    # a "flash" call whose target never calls this account back reverts the batch
    flash = _call(suite.usdc, "transfer", lp, 1, inner=1)
    inner = _call(suite.usdc, "transfer", lp, 1)
    with pytest.raises(TransactionReverted, match="batch: flash callback not run"):
        account.execute([flash, inner], sender=trader)


def test_patch_out_of_range_reverts(suite: Suite, account: Contract, trader: str, lp: str) -> None:
    call = (suite.usdc.address, suite.usdc.transfer.encode(lp, 1), suite.usdc.address, 60, 0)
    with pytest.raises(TransactionReverted, match="batch: patch out of range"):
        account.execute([call], sender=trader)
