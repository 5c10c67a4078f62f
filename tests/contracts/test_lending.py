"""LendingMarket: shares, LTV, interest against the closed form, liquidations, flash loans."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from contract_helpers import MAX_UINT256, USDC, WAD, WETH, advance_time
from testing_helpers import reverts

from chains import Chain, Contract, Devnet
from scenarios import (
    SECONDS_PER_YEAR,
    RateModel,
    Suite,
    accrue_interest,
    continuous_growth,
    health_factor,
    market_liquidation,
    to_assets_down,
    to_shares_down,
    to_shares_up,
)

COLLATERAL = 10 * WETH  # $20,000 at the seed price
MAX_BORROW = 15_000 * USDC  # 75% LTV of it


def rate_model(suite: Suite) -> RateModel:
    market = suite.market
    return RateModel(market.base_rate(), market.slope1(), market.slope2(), market.kink())


def open_position(suite: Suite, borrower: str, collateral: int, debt: int) -> None:
    suite.market.supply_collateral(collateral, borrower, sender=borrower)
    if debt:
        suite.market.borrow(debt, borrower, sender=borrower)


def fetch_health(suite: Suite, user: str) -> int:
    market = suite.market
    return health_factor(
        market.collateral(user),
        market.debt_of(user),
        collateral_price=suite.oracle.latest(suite.weth.address)[0],
        loan_price=suite.oracle.latest(suite.usdc.address)[0],
        collateral_decimals=18,
        loan_decimals=6,
        liquidation_threshold=market.liquidation_threshold(),
    )


# ---------------------------------------------------------------------------- supply ---


def test_supply_mints_shares_rounded_down(suite: Suite, supplier: str) -> None:
    assets, shares, _, _ = suite.market.expected_totals()
    receipt = suite.market.supply.transact(1_000 * USDC, supplier, sender=supplier)
    expected = to_shares_down(1_000 * USDC, assets, shares)
    assert receipt.return_value == expected
    assert suite.market.supply_shares(supplier) == expected
    assert suite.market.total_supply_assets() == assets + 1_000 * USDC
    event = next(e for e in receipt.events if e.name == "Supply")
    assert event.args == {
        "caller": supplier,
        "on_behalf": supplier,
        "assets": 1_000 * USDC,
        "shares": expected,
    }


def test_supply_zero_reverts(suite: Suite, supplier: str) -> None:
    with reverts("market: zero amount"):
        suite.market.supply(0, supplier, sender=supplier)


def test_withdraw_burns_shares_rounded_up(suite: Suite, supplier: str) -> None:
    suite.market.supply(1_000 * USDC, supplier, sender=supplier)
    held = suite.market.supply_shares(supplier)
    assets, shares, _, _ = suite.market.expected_totals()
    burnt = suite.market.withdraw(400 * USDC, supplier, sender=supplier)
    assert burnt == to_shares_up(400 * USDC, assets, shares)
    assert suite.market.supply_shares(supplier) == held - burnt


def test_withdraw_all(suite: Suite, supplier: str) -> None:
    suite.market.supply(1_000 * USDC, supplier, sender=supplier)
    before = suite.usdc.balanceOf(supplier)
    held = suite.market.supply_shares(supplier)
    assets, shares, _, _ = suite.market.expected_totals()
    suite.market.withdraw(MAX_UINT256, supplier, sender=supplier)
    assert suite.usdc.balanceOf(supplier) - before == to_assets_down(held, assets, shares)
    assert suite.market.supply_shares(supplier) == 0


def test_withdraw_more_than_supplied_reverts(suite: Suite, supplier: str) -> None:
    suite.market.supply(1_000 * USDC, supplier, sender=supplier)
    with reverts("market: insufficient shares"):
        suite.market.withdraw(1_000 * USDC + 1, supplier, sender=supplier)


def test_withdraw_lent_out_liquidity_reverts(suite: Suite, borrower: str) -> None:
    open_position(suite, borrower, 5_000 * WETH, 1_500_000 * USDC)
    with reverts("market: insufficient liquidity"):
        suite.market.withdraw(MAX_UINT256, suite.deployer, sender=suite.deployer)


# ---------------------------------------------------------------------------- borrow ---


def test_borrow_up_to_ltv(suite: Suite, borrower: str) -> None:
    suite.market.supply_collateral(COLLATERAL, borrower, sender=borrower)
    before = suite.usdc.balanceOf(borrower)
    receipt = suite.market.borrow.transact(MAX_BORROW, borrower, sender=borrower)
    assert suite.usdc.balanceOf(borrower) - before == MAX_BORROW
    assert suite.market.debt_of(borrower) == MAX_BORROW
    assert suite.market.health_factor(borrower) == fetch_health(suite, borrower)
    assert suite.market.health_factor(borrower) == 20_000 * WAD * 80 // 100 // 15_000
    event = next(e for e in receipt.events if e.name == "Borrow")
    assert (event["assets"], event["shares"]) == (MAX_BORROW, receipt.return_value)


def test_borrow_beyond_ltv_reverts(suite: Suite, borrower: str) -> None:
    suite.market.supply_collateral(COLLATERAL, borrower, sender=borrower)
    with reverts("market: ltv exceeded"):
        suite.market.borrow(MAX_BORROW + 1, borrower, sender=borrower)


def test_borrow_beyond_liquidity_reverts(suite: Suite, borrower: str) -> None:
    suite.market.supply_collateral(5_000 * WETH, borrower, sender=borrower)
    available = suite.market.total_supply_assets() - suite.market.total_borrow_assets()
    with reverts("market: insufficient liquidity"):
        suite.market.borrow(available + 1, borrower, sender=borrower)


def test_borrow_without_collateral_reverts(suite: Suite, borrower: str) -> None:
    with reverts("market: ltv exceeded"):
        suite.market.borrow(1, borrower, sender=borrower)


def test_withdraw_collateral_within_ltv(suite: Suite, borrower: str) -> None:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW // 2)
    suite.market.withdraw_collateral(COLLATERAL // 2, borrower, sender=borrower)
    assert suite.market.collateral(borrower) == COLLATERAL // 2


def test_withdraw_collateral_beyond_ltv_reverts(suite: Suite, borrower: str) -> None:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW // 2)
    with reverts("market: ltv exceeded"):
        suite.market.withdraw_collateral(COLLATERAL // 2 + 1, borrower, sender=borrower)


def test_withdraw_collateral_more_than_deposited_reverts(suite: Suite, borrower: str) -> None:
    open_position(suite, borrower, COLLATERAL, 0)
    with reverts("market: insufficient collateral"):
        suite.market.withdraw_collateral(COLLATERAL + 1, borrower, sender=borrower)


def test_repay_part_of_the_debt(suite: Suite, borrower: str) -> None:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW)
    receipt = suite.market.repay.transact(5_000 * USDC, borrower, sender=borrower)
    assert receipt.return_value == 5_000 * USDC
    assert suite.market.debt_of(borrower) == MAX_BORROW - 5_000 * USDC
    event = next(e for e in receipt.events if e.name == "Repay")
    assert (event["caller"], event["on_behalf"], event["assets"]) == (
        borrower,
        borrower,
        5_000 * USDC,
    )


def test_repay_all_on_behalf(suite: Suite, borrower: str, supplier: str) -> None:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW)
    paid = suite.market.repay(MAX_UINT256, borrower, sender=supplier)
    assert paid == MAX_BORROW
    assert suite.market.borrow_shares(borrower) == 0
    assert suite.market.total_borrow_shares() == 0


def test_repay_exactly_the_shown_debt_closes_it(
    suite: Suite, borrower: str, devnet: Devnet
) -> None:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW)
    advance_time(devnet, 12_345)  # interest makes the share price uneven
    debt = suite.market.debt_of(borrower)
    assert suite.market.repay(debt, borrower, sender=borrower) == debt
    assert suite.market.borrow_shares(borrower) == 0


def test_repay_more_than_debt_reverts(suite: Suite, borrower: str) -> None:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW)
    with reverts("market: repay exceeds debt"):
        suite.market.repay(MAX_BORROW + 1, borrower, sender=borrower)


# -------------------------------------------------------------------------- interest ---


@pytest.mark.parametrize("utilisation", [0, 25, 50, 80, 90, 99], ids=lambda u: f"u{u}%")
def test_borrow_rate_follows_the_kinked_model(
    suite: Suite, borrower: str, utilisation: int
) -> None:
    supplied = suite.market.total_supply_assets()
    open_position(suite, borrower, 5_000 * WETH, supplied * utilisation // 100)
    model = rate_model(suite)
    expected = model.rate(model.utilisation(supplied, suite.market.total_borrow_assets()))
    assert suite.market.borrow_rate() == expected
    assert suite.market.utilisation() == utilisation * WAD // 100


@pytest.mark.parametrize(
    "seconds", [1, 3600, 86_400, 30 * 86_400, SECONDS_PER_YEAR], ids=["1s", "1h", "1d", "30d", "1y"]
)
def test_interest_accrual_matches_model_and_closed_form(
    suite: Suite, borrower: str, devnet: Devnet, chain: Chain, seconds: int
) -> None:
    open_position(suite, borrower, 5_000 * WETH, 1_000_000 * USDC)
    market = suite.market
    supplied, borrowed = market.total_supply_assets(), market.total_borrow_assets()
    rate = market.borrow_rate()
    last = market.last_update()
    advance_time(devnet, seconds)
    receipt = market.accrue_interest.transact(sender=borrower)
    elapsed = chain.get_block(receipt.block_number).timestamp - last

    expected = accrue_interest(supplied, borrowed, rate_model(suite), elapsed)
    assert (market.total_supply_assets(), market.total_borrow_assets()) == expected[:2]
    event = next(e for e in receipt.events if e.name == "AccrueInterest")
    assert (event["rate"], event["interest"]) == (rate, expected[2])
    closed_form = continuous_growth(rate / WAD, elapsed)
    assert market.total_borrow_assets() / borrowed == pytest.approx(closed_form, rel=1e-9, abs=1e-6)


def test_interest_compounds_across_accruals(suite: Suite, borrower: str, devnet: Devnet) -> None:
    open_position(suite, borrower, 5_000 * WETH, 1_500_000 * USDC)
    market, model = suite.market, rate_model(suite)
    supplied, borrowed = market.total_supply_assets(), market.total_borrow_assets()
    for _ in range(12):
        last = market.last_update()
        advance_time(devnet, 30 * 86_400)
        receipt = market.accrue_interest.transact(sender=borrower)
        elapsed = suite.chain.get_block(receipt.block_number).timestamp - last
        supplied, borrowed, _ = accrue_interest(supplied, borrowed, model, elapsed)
        assert (market.total_supply_assets(), market.total_borrow_assets()) == (supplied, borrowed)


def test_views_include_pending_interest(suite: Suite, borrower: str, devnet: Devnet) -> None:
    open_position(suite, borrower, 5_000 * WETH, 1_000_000 * USDC)
    advance_time(devnet, 86_400)
    pending = suite.market.debt_of(borrower)
    assert pending > 1_000_000 * USDC
    assert suite.market.repay(MAX_UINT256, borrower, sender=borrower) == pending


# ----------------------------------------------------------------------- liquidation ---


def _liquidation_case(
    suite: Suite, borrower: str, keeper: str, weth_price: int
) -> tuple[int, int, int]:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW)
    suite.oracle.set_price(suite.weth.address, weth_price * WAD, sender=keeper)
    return (
        suite.market.collateral(borrower),
        suite.market.debt_of(borrower),
        suite.market.health_factor(borrower),
    )


@pytest.mark.parametrize(
    ("weth_price", "is_full_close"),
    [(1850, False), (1700, True), (1400, True)],
    ids=["hf-0.99-half", "hf-0.91-full", "hf-0.75-bad-debt"],
)
def test_liquidation_pays_the_model_amounts(
    suite: Suite, borrower: str, liquidator: str, keeper: str, weth_price: int, is_full_close: bool
) -> None:
    collateral, debt, health = _liquidation_case(suite, borrower, keeper, weth_price)
    assert health == fetch_health(suite, borrower)
    assert health < WAD and (health <= 95 * 10**16) == is_full_close
    expected = market_liquidation(
        collateral=collateral,
        debt=debt,
        repay_request=MAX_UINT256,
        health=health,
        collateral_price=weth_price * WAD,
        loan_price=WAD,
        collateral_decimals=18,
        loan_decimals=6,
        liquidation_bonus=suite.market.liquidation_bonus(),
    )
    usdc, weth = suite.usdc.balanceOf(liquidator), suite.weth.balanceOf(liquidator)
    supplied = suite.market.total_supply_assets()

    receipt = suite.market.liquidate.transact(borrower, MAX_UINT256, sender=liquidator)

    assert receipt.return_value == (expected.repaid, expected.seized)
    assert usdc - suite.usdc.balanceOf(liquidator) == expected.repaid
    assert suite.weth.balanceOf(liquidator) - weth == expected.seized
    assert suite.market.collateral(borrower) == collateral - expected.seized
    event = next(e for e in receipt.events if e.name == "Liquidate")
    bad_debt = event["bad_debt"]
    if expected.seized == collateral:  # collateral exhausted: the rest is written off
        assert bad_debt == debt - expected.repaid > 0
        assert suite.market.borrow_shares(borrower) == 0
        assert suite.market.total_supply_assets() == supplied - bad_debt
    else:  # repaid shares round down: at most one unit more debt remains
        assert bad_debt == 0
        remaining = suite.market.debt_of(borrower)
        assert debt - expected.repaid <= remaining <= debt - expected.repaid + 1
    if not is_full_close:
        assert expected.repaid == debt // 2


def test_liquidation_of_healthy_position_reverts(
    suite: Suite, borrower: str, liquidator: str
) -> None:
    open_position(suite, borrower, COLLATERAL, MAX_BORROW)
    with reverts("market: position healthy"):
        suite.market.liquidate(borrower, MAX_UINT256, sender=liquidator)


def test_partial_liquidation_request_is_honoured(
    suite: Suite, borrower: str, liquidator: str, keeper: str
) -> None:
    collateral, debt, health = _liquidation_case(suite, borrower, keeper, 1850)
    expected = market_liquidation(
        collateral=collateral,
        debt=debt,
        repay_request=1_000 * USDC,
        health=health,
        collateral_price=1850 * WAD,
        loan_price=WAD,
        collateral_decimals=18,
        loan_decimals=6,
        liquidation_bonus=suite.market.liquidation_bonus(),
    )
    assert expected.repaid == 1_000 * USDC
    assert suite.market.liquidate(borrower, 1_000 * USDC, sender=liquidator) == (
        expected.repaid,
        expected.seized,
    )


# ------------------------------------------------------------------------ flash loans ---


@pytest.fixture
def flash_borrower(deploy: Callable[..., Contract], suite: Suite, attacker: str) -> Contract:
    """A flash borrower holding 1,000 USDC to pay fees."""
    mock = deploy("mocks/flash_borrower_mock", sender=attacker)
    suite.fund(mock.address, usdc=1_000 * USDC)
    return mock


def test_flash_loan_fee_goes_to_suppliers(
    suite: Suite, flash_borrower: Contract, attacker: str
) -> None:
    amount = 1_000_000 * USDC
    fee = suite.market.flash_fee(amount)
    assert fee == amount * suite.market.flash_fee_rate() // WAD  # 5 bp, exact here
    supplied = suite.market.total_supply_assets()
    receipt = flash_borrower.flash_loan.transact(suite.market.address, amount, sender=attacker)
    assert suite.market.total_supply_assets() == supplied + fee
    assert suite.usdc.balanceOf(flash_borrower.address) == 1_000 * USDC - fee
    assert flash_borrower.last_amount() == amount
    assert flash_borrower.last_fee() == fee
    assert flash_borrower.last_initiator() == flash_borrower.address
    assert flash_borrower.last_balance() == 1_000 * USDC + amount
    event = next(e for e in receipt.events if e.name == "FlashLoan")
    assert event.args == {
        "caller": flash_borrower.address,
        "receiver": flash_borrower.address,
        "amount": amount,
        "fee": fee,
    }


@pytest.mark.parametrize(
    ("mode", "reason"),
    [(1, "erc20: insufficient allowance"), (2, "market: flash callback failed")],
    ids=["no-allowance", "bad-return"],
)
def test_flash_loan_not_repaid_reverts(
    suite: Suite, flash_borrower: Contract, attacker: str, mode: int, reason: str
) -> None:
    flash_borrower.set_mode(mode, sender=attacker)
    with reverts(reason):
        flash_borrower.flash_loan(suite.market.address, 1_000 * USDC, sender=attacker)


def test_flash_loan_beyond_liquidity_reverts(
    suite: Suite, flash_borrower: Contract, attacker: str
) -> None:
    with reverts("market: insufficient liquidity"):
        flash_borrower.flash_loan(
            suite.market.address, suite.market.total_supply_assets() + 1, sender=attacker
        )


# ---------------------------------------------------------------------- construction ---


@pytest.mark.parametrize(
    ("ltv", "threshold", "bonus", "kink", "reason"),
    [
        (80, 80, 5, 80, "market: invalid ltv"),
        (75, 100, 5, 80, "market: invalid ltv"),
        (75, 80, 30, 80, "market: invalid liquidation bonus"),
        (75, 80, 5, 100, "market: invalid kink"),
    ],
    ids=["ltv-at-threshold", "threshold-100%", "bonus-too-high", "kink-100%"],
)
def test_invalid_parameters_revert_at_deployment(
    suite: Suite,
    deploy: Callable[..., Contract],
    ltv: int,
    threshold: int,
    bonus: int,
    kink: int,
    reason: str,
) -> None:
    pct = WAD // 100
    with reverts(reason):
        deploy(
            "LendingMarket",
            suite.usdc.address,
            suite.weth.address,
            suite.oracle.address,
            ltv * pct,
            threshold * pct,
            bonus * pct,
            0,
            4 * pct,
            75 * pct,
            kink * pct,
            0,
            3600,
        )
