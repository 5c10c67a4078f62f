"""CdpVault: safety, rate accumulator against the closed form, liquidation, flash mint."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from contract_helpers import DAI, MAX_UINT256, RAY, USDC, WAD, WETH, advance_time
from testing_helpers import reverts

from chains import Chain, Contract, Devnet
from scenarios import (
    SECONDS_PER_YEAR,
    Suite,
    cdp_collateral_ratio,
    cdp_debt,
    cdp_is_safe,
    cdp_liquidation,
    per_second_factor,
    rate_after,
)

ZERO_ADDRESS = "0x" + "0" * 40
INK = 10 * WETH  # $20,000 at the seed price: at most 13,333 DAI at 150%


def open_cdp(suite: Suite, owner: str, ink: int, dai: int) -> None:
    suite.vault.lock(ink, owner, sender=owner)
    if dai:
        suite.vault.draw(dai, owner, sender=owner)


def buy_dai(suite: Suite, buyer: str, amount: int) -> None:
    """Swap USDC for exactly ``amount`` DAI on the DAI/USDC pool."""
    suite.router.swap_tokens_for_exact_tokens(
        amount,
        MAX_UINT256,
        [suite.usdc.address, suite.dai.address],
        buyer,
        MAX_UINT256,
        sender=buyer,
    )


# ---------------------------------------------------------------------- lock, draw ---


def test_lock_opens_a_position(suite: Suite, borrower: str) -> None:
    total = suite.vault.total_collateral()
    receipt = suite.vault.lock.transact(INK, borrower, sender=borrower)
    assert (suite.vault.ink(borrower), suite.vault.art(borrower)) == (INK, 0)
    assert suite.vault.total_collateral() == total + INK
    event = next(e for e in receipt.events if e.name == "Lock")
    assert event.args == {"caller": borrower, "owner": borrower, "amount": INK}


def test_lock_zero_reverts(suite: Suite, borrower: str) -> None:
    with reverts("cdp: zero amount"):
        suite.vault.lock(0, borrower, sender=borrower)


def test_draw_mints_dai_against_normalised_debt(suite: Suite, borrower: str) -> None:
    suite.vault.lock(INK, borrower, sender=borrower)
    rate = suite.vault.current_rate()  # views run in the block the next transaction joins
    receipt = suite.vault.draw.transact(10_000 * DAI, borrower, sender=borrower)
    art = -(-10_000 * DAI * RAY // rate)  # ceil
    assert suite.vault.rate() == rate
    assert receipt.return_value == art == suite.vault.art(borrower)
    assert suite.dai.balanceOf(borrower) == 10_000 * DAI
    assert cdp_debt(art, rate) >= 10_000 * DAI
    pending_rate = suite.vault.current_rate()
    assert suite.vault.debt_of(borrower) == cdp_debt(art, pending_rate)
    assert suite.vault.collateral_ratio(borrower) == cdp_collateral_ratio(
        INK, art, pending_rate, 2000 * WAD, 18
    )
    event = next(e for e in receipt.events if e.name == "Draw")
    assert (event["owner"], event["amount"], event["art"]) == (borrower, 10_000 * DAI, art)


def test_draw_unsafe_reverts(suite: Suite, borrower: str) -> None:
    suite.vault.lock(INK, borrower, sender=borrower)
    with reverts("cdp: unsafe position"):
        suite.vault.draw(13_334 * DAI, borrower, sender=borrower)


def test_draw_below_dust_reverts(suite: Suite, borrower: str) -> None:
    suite.vault.lock(INK, borrower, sender=borrower)
    with reverts("cdp: dust"):
        suite.vault.draw(99 * DAI, borrower, sender=borrower)


def test_draw_above_ceiling_reverts(suite: Suite, borrower: str) -> None:
    suite.vault.set_debt_ceiling(suite.vault.total_debt() + 500 * DAI, sender=suite.deployer)
    suite.vault.lock(INK, borrower, sender=borrower)
    with reverts("cdp: debt ceiling"):
        suite.vault.draw(1_000 * DAI, borrower, sender=borrower)


def test_free_keeps_the_position_safe(suite: Suite, borrower: str) -> None:
    open_cdp(suite, borrower, INK, 5_000 * DAI)
    before = suite.weth.balanceOf(borrower)
    suite.vault.free(INK // 2, borrower, sender=borrower)
    assert suite.weth.balanceOf(borrower) - before == INK // 2
    assert suite.vault.is_safe(borrower)


def test_free_unsafe_reverts(suite: Suite, borrower: str) -> None:
    open_cdp(suite, borrower, INK, 10_000 * DAI)
    with reverts("cdp: unsafe position"):
        suite.vault.free(INK // 4, borrower, sender=borrower)


def test_free_more_than_locked_reverts(suite: Suite, borrower: str) -> None:
    open_cdp(suite, borrower, INK, 0)
    with reverts("cdp: insufficient collateral"):
        suite.vault.free(INK + 1, borrower, sender=borrower)


# -------------------------------------------------------------------------- repay ---


def test_repay_part_burns_dai(suite: Suite, borrower: str) -> None:
    open_cdp(suite, borrower, INK, 5_000 * DAI)
    supply = suite.dai.totalSupply()
    art = suite.vault.art(borrower)
    rate = suite.vault.current_rate()
    receipt = suite.vault.repay.transact(2_000 * DAI, borrower, sender=borrower)
    assert suite.dai.totalSupply() == supply - 2_000 * DAI
    assert suite.vault.art(borrower) == art - 2_000 * DAI * RAY // rate
    event = next(e for e in receipt.events if e.name == "Wipe")
    assert (event["caller"], event["owner"], event["amount"]) == (borrower, borrower, 2_000 * DAI)


def test_repay_all_closes_the_debt(suite: Suite, borrower: str, devnet: Devnet) -> None:
    open_cdp(suite, borrower, INK, 5_000 * DAI)
    advance_time(devnet, 30 * 86_400)
    buy_dai(suite, borrower, 10 * DAI)  # more than the fee accrued meanwhile
    debt = suite.vault.debt_of(borrower)
    assert suite.vault.repay(MAX_UINT256, borrower, sender=borrower) == debt > 5_000 * DAI
    assert suite.vault.art(borrower) == 0
    assert suite.dai.balanceOf(borrower) == 5_010 * DAI - debt


def test_repay_leaving_dust_reverts(suite: Suite, borrower: str) -> None:
    open_cdp(suite, borrower, INK, 1_000 * DAI)
    with reverts("cdp: dust"):
        suite.vault.repay(950 * DAI, borrower, sender=borrower)


def test_repay_more_than_debt_reverts(suite: Suite, borrower: str, trader: str) -> None:
    open_cdp(suite, borrower, INK, 1_000 * DAI)
    buy_dai(suite, borrower, 10 * DAI)
    with reverts("cdp: repay exceeds debt"):
        suite.vault.repay(1_005 * DAI, borrower, sender=borrower)


# --------------------------------------------------------------------- stability fee ---


@pytest.mark.parametrize(
    "seconds", [1, 86_400, 30 * 86_400, SECONDS_PER_YEAR], ids=["1s", "1d", "30d", "1y"]
)
def test_rate_accumulator_matches_model_and_closed_form(
    suite: Suite, borrower: str, devnet: Devnet, chain: Chain, seconds: int
) -> None:
    vault = suite.vault
    vault.drip(sender=borrower)
    rate, rho = vault.rate(), vault.rho()
    advance_time(devnet, seconds)
    receipt = vault.drip.transact(sender=borrower)
    elapsed = chain.get_block(receipt.block_number).timestamp - rho
    fee = vault.stability_fee()
    assert vault.duty() == per_second_factor(fee)
    assert vault.rate() == rate_after(rate, fee, elapsed)
    closed_form = math.exp(fee / WAD * elapsed / SECONDS_PER_YEAR)
    assert vault.rate() / rate == pytest.approx(closed_form, rel=1e-9)
    event = next(e for e in receipt.events if e.name == "Drip")
    assert event["rate"] == vault.rate()


def test_total_debt_is_normalised_debt_times_rate(
    suite: Suite,
    borrower: str,
    trader: str,
    devnet: Devnet,
    refresh_prices: Callable[[], None],
) -> None:
    open_cdp(suite, borrower, INK, 5_000 * DAI)
    advance_time(devnet, 86_400)
    refresh_prices()
    open_cdp(suite, trader, 2 * INK, 7_000 * DAI)
    owners = (suite.deployer, borrower, trader)
    arts = [suite.vault.art(owner) for owner in owners]
    assert suite.vault.total_art() == sum(arts)
    rate = suite.vault.current_rate()
    assert suite.vault.total_debt() == cdp_debt(sum(arts), rate)
    assert [suite.vault.debt_of(o) for o in owners] == [cdp_debt(a, rate) for a in arts]


# ----------------------------------------------------------------------- liquidation ---


@pytest.mark.parametrize(
    ("weth_price", "is_bad_debt"), [(1900, False), (1200, True)], ids=["penalty", "bad-debt"]
)
def test_liquidation_pays_the_model_amounts(
    suite: Suite, borrower: str, liquidator: str, keeper: str, weth_price: int, is_bad_debt: bool
) -> None:
    open_cdp(suite, borrower, INK, 13_000 * DAI)
    suite.oracle.set_price(suite.weth.address, weth_price * WAD, sender=keeper)
    buy_dai(suite, liquidator, 13_100 * DAI)
    vault = suite.vault
    art, rate = vault.art(borrower), vault.current_rate()  # as the liquidation will see them
    assert not cdp_is_safe(INK, art, rate, weth_price * WAD, vault.liquidation_ratio(), 18)
    assert not vault.is_safe(borrower)
    expected = cdp_liquidation(INK, art, rate, weth_price * WAD, vault.liquidation_penalty(), 18)
    assert (expected.bad_debt > 0) == is_bad_debt
    weth, supply = suite.weth.balanceOf(liquidator), suite.dai.totalSupply()

    receipt = vault.liquidate.transact(borrower, sender=liquidator)

    assert receipt.return_value == (expected.paid, expected.seized)
    assert suite.weth.balanceOf(liquidator) - weth == expected.seized
    assert suite.dai.totalSupply() == supply - expected.paid
    assert (vault.ink(borrower), vault.art(borrower)) == (INK - expected.seized, 0)
    assert vault.bad_debt() == expected.bad_debt
    event = next(e for e in receipt.events if e.name == "Liquidate")
    assert event.args == {
        "liquidator": liquidator,
        "owner": borrower,
        "debt_paid": expected.paid,
        "seized": expected.seized,
        "bad_debt": expected.bad_debt,
    }


def test_liquidation_of_safe_position_reverts(suite: Suite, borrower: str, liquidator: str) -> None:
    open_cdp(suite, borrower, INK, 13_000 * DAI)
    with reverts("cdp: position safe"):
        suite.vault.liquidate(borrower, sender=liquidator)


# ------------------------------------------------------------------------------ give ---


def test_give_moves_the_position(suite: Suite, borrower: str, trader: str) -> None:
    open_cdp(suite, borrower, INK, 5_000 * DAI)
    art = suite.vault.art(borrower)
    receipt = suite.vault.give.transact(trader, sender=borrower)
    assert (suite.vault.ink(trader), suite.vault.art(trader)) == (INK, art)
    assert (suite.vault.ink(borrower), suite.vault.art(borrower)) == (0, 0)
    event = next(e for e in receipt.events if e.name == "Give")
    assert event.args == {"source": borrower, "destination": trader, "ink": INK, "art": art}


def test_give_without_position_reverts(suite: Suite, borrower: str, trader: str) -> None:
    with reverts("cdp: no position"):
        suite.vault.give(trader, sender=borrower)


def test_give_to_self_reverts(suite: Suite, borrower: str) -> None:
    open_cdp(suite, borrower, INK, 0)
    with reverts("cdp: self give"):
        suite.vault.give(borrower, sender=borrower)


# ------------------------------------------------------------------------ flash mint ---


@pytest.fixture
def flash_minter(deploy: Callable[..., Contract], suite: Suite, trader: str) -> Contract:
    """A flash borrower holding 100 DAI to pay fees."""
    mock = deploy("mocks/flash_borrower_mock", sender=trader)
    buy_dai(suite, trader, 100 * DAI)
    suite.dai.transfer(mock.address, 100 * DAI, sender=trader)
    return mock


def test_flash_mint_burns_amount_and_fee(suite: Suite, flash_minter: Contract, trader: str) -> None:
    amount = 1_000_000 * DAI
    fee = suite.vault.flash_fee(amount)
    assert fee == amount * suite.vault.flash_fee_rate() // WAD > 0
    supply = suite.dai.totalSupply()
    receipt = flash_minter.flash_mint.transact(suite.vault.address, amount, sender=trader)
    assert suite.dai.totalSupply() == supply - fee
    assert suite.dai.balanceOf(flash_minter.address) == 100 * DAI - fee
    assert suite.vault.flash_fees() == fee
    assert (flash_minter.last_token(), flash_minter.last_amount(), flash_minter.last_fee()) == (
        suite.dai.address,
        amount,
        fee,
    )
    assert flash_minter.last_balance() == 100 * DAI + amount
    event = next(e for e in receipt.events if e.name == "FlashMint")
    assert (event["amount"], event["fee"]) == (amount, fee)


def test_flash_mint_above_cap_reverts(suite: Suite, flash_minter: Contract, trader: str) -> None:
    with reverts("cdp: flash cap exceeded"):
        flash_minter.flash_mint(suite.vault.address, suite.vault.max_flash() + 1, sender=trader)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [(1, "erc20: insufficient allowance"), (2, "cdp: flash callback failed")],
    ids=["no-allowance", "bad-return"],
)
def test_flash_mint_not_repaid_reverts(
    suite: Suite, flash_minter: Contract, trader: str, mode: int, reason: str
) -> None:
    flash_minter.set_mode(mode, sender=trader)
    with reverts(reason):
        flash_minter.flash_mint(suite.vault.address, 1_000 * DAI, sender=trader)


# ---------------------------------------------------------------------- roles, params ---


def test_vault_is_the_only_dai_minter(suite: Suite) -> None:
    assert suite.dai.is_minter(suite.vault.address)
    assert not suite.dai.is_minter(suite.deployer)
    assert suite.dai.owner() == ZERO_ADDRESS


def test_dai_mint_by_others_reverts(suite: Suite, attacker: str) -> None:
    with reverts("erc20: access is denied"):
        suite.dai.mint(attacker, DAI, sender=suite.deployer)


def test_owner_sets_parameters(suite: Suite) -> None:
    vault = suite.vault
    receipt = vault.set_dust.transact(50 * DAI, sender=suite.deployer)
    vault.set_max_flash(DAI, sender=suite.deployer)
    vault.set_debt_ceiling(USDC, sender=suite.deployer)
    assert (vault.dust(), vault.max_flash(), vault.debt_ceiling()) == (50 * DAI, DAI, USDC)
    event = next(e for e in receipt.events if e.name == "SetParameter")
    assert event.args == {"name": "dust", "value": 50 * DAI}


@pytest.mark.parametrize("setter", ["set_debt_ceiling", "set_dust", "set_max_flash"])
def test_non_owner_sets_parameters_reverts(suite: Suite, attacker: str, setter: str) -> None:
    with reverts("ownable: caller is not the owner"):
        getattr(suite.vault, setter)(0, sender=attacker)


def test_invalid_liquidation_ratio_reverts_at_deployment(
    suite: Suite, deploy: Callable[..., Contract]
) -> None:
    with reverts("cdp: invalid liquidation ratio"):
        deploy(
            "CdpVault",
            suite.weth.address,
            suite.dai.address,
            suite.oracle.address,
            WAD,
            0,
            0,
            0,
            0,
            0,
            0,
            3600,
        )
