"""Composer: the whole scenario in one transaction, and all-or-nothing when a step fails."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from contract_helpers import (
    DAI,
    MAX_UINT256,
    USDC,
    WAD,
    Roles,
    advance_time,
    fetch_suite_state,
)
from testing_helpers import reverts

from chains import Contract, Devnet
from scenarios import Suite, mul_div

logger = logging.getLogger(__name__)

NOTIONAL = 10_000 * USDC
TARGET_LTV = WAD // 2
# a generous bound on one composer run, to catch gas regressions (measured: ~620k)
GAS_BUDGET = 800_000


@dataclass(frozen=True)
class RunParams:
    """The composer's ``RunParams`` struct."""

    notional: int = NOTIONAL
    min_collateral_out: int = 0
    target_ltv: int = TARGET_LTV
    max_dai_in: int = MAX_UINT256
    min_collateral_ratio: int = 3 * WAD // 2
    deadline: int = MAX_UINT256

    def to_abi(self) -> tuple[int, ...]:
        return (
            self.notional,
            self.min_collateral_out,
            self.target_ltv,
            self.max_dai_in,
            self.min_collateral_ratio,
            self.deadline,
        )


def quote_collateral(suite: Suite, notional: int = NOTIONAL) -> int:
    return suite.router.get_amounts_out(notional, [suite.usdc.address, suite.weth.address])[1]


def test_run_swaps_borrows_and_refinances(suite: Suite, trader: str) -> None:
    collateral = quote_collateral(suite)
    borrowed = mul_div(suite.market.collateral_to_loan(collateral), TARGET_LTV, WAD)
    # the refinance swaps DAI for exactly the USDC debt on the DAI/USDC pool
    dai_in = suite.router.get_amounts_in(borrowed, [suite.dai.address, suite.usdc.address])[0]
    usdc_before = suite.usdc.balanceOf(trader)
    params = RunParams(min_collateral_out=collateral, deadline=suite.chain.timestamp + 60)

    receipt = suite.composer.run.transact(params.to_abi(), sender=trader)
    logger.info("composer run: %d gas", receipt.gas_used)

    collateral_out, borrowed_out, dai_debt = receipt.return_value
    assert (collateral_out, borrowed_out) == (collateral, borrowed)
    # the user ends with the borrowed USDC and a CDP position holding all the WETH
    assert suite.usdc.balanceOf(trader) == usdc_before - NOTIONAL + borrowed
    assert suite.vault.ink(trader) == collateral
    assert suite.vault.debt_of(trader) >= dai_debt
    assert suite.vault.collateral_ratio(trader) >= params.min_collateral_ratio
    # DAI drawn = DAI swapped for the USDC debt + the flash-mint fee
    assert dai_debt == dai_in + suite.vault.flash_fee(dai_in)
    # the composer keeps nothing
    composer = suite.composer.address
    assert [t.balanceOf(composer) for t in suite.tokens.values()] == [0, 0, 0]
    assert suite.market.borrow_shares(composer) == suite.market.collateral(composer) == 0
    assert suite.vault.ink(composer) == suite.vault.art(composer) == 0
    # every step, in order, in one transaction
    steps = [
        e.name
        for e in receipt.events
        if e.name
        in {"Swap", "SupplyCollateral", "Borrow", "Repay", "WithdrawCollateral", "Lock", "Draw"}
        | {"FlashMint", "Give", "Run"}
    ]
    assert steps == [
        "Swap",
        "SupplyCollateral",
        "Borrow",
        "Swap",
        "Repay",
        "WithdrawCollateral",
        "Lock",
        "Draw",
        "FlashMint",
        "Give",
        "Run",
    ]
    run = next(e for e in receipt.events if e.name == "Run")
    assert run.args == {
        "user": trader,
        "notional": NOTIONAL,
        "collateral": collateral,
        "borrowed": borrowed,
        "dai_debt": dai_debt,
    }
    assert receipt.gas_used < GAS_BUDGET


def test_run_merges_into_an_existing_position(suite: Suite, trader: str) -> None:
    suite.vault.lock(10**18, trader, sender=trader)
    suite.composer.run(RunParams().to_abi(), sender=trader)
    assert suite.vault.ink(trader) > 10**18


# ------------------------------------------------------------------------- atomicity ---


@dataclass(frozen=True)
class FailingStep:
    """How to make one inner step fail: a setup, the run's params, the exact reason."""

    reason: str
    setup: Callable[[Suite, Roles, Devnet], None] = lambda suite, roles, devnet: None
    params: Callable[[Suite], RunParams] = lambda suite: RunParams()
    user: str = "trader"


def _drain_market(suite: Suite, roles: Roles, devnet: Devnet) -> None:
    suite.market.supply_collateral(5_000 * 10**18, roles.borrower, sender=roles.borrower)
    available = suite.market.total_supply_assets() - suite.market.total_borrow_assets()
    suite.market.borrow(available - 100 * USDC, roles.borrower, sender=roles.borrower)


FAILING_STEPS = {
    "pull-without-allowance": FailingStep("erc20: insufficient allowance", user="attacker"),
    "deadline-passed": FailingStep(
        "composer: expired", params=lambda s: RunParams(deadline=s.chain.timestamp)
    ),
    "swap-slippage": FailingStep(
        "router: insufficient output amount",
        params=lambda s: RunParams(min_collateral_out=quote_collateral(s) + 1),
    ),
    "borrow-above-ltv": FailingStep(
        "market: ltv exceeded", params=lambda s: RunParams(target_ltv=76 * WAD // 100)
    ),
    "borrow-without-liquidity": FailingStep("market: insufficient liquidity", setup=_drain_market),
    "stale-oracle": FailingStep(
        "oracle: stale price",
        setup=lambda s, r, devnet: advance_time(devnet, s.market.max_price_age() + 1),
    ),
    "refinance-slippage": FailingStep(
        "composer: excessive dai in", params=lambda s: RunParams(max_dai_in=NOTIONAL * 10**12 // 4)
    ),
    "flash-mint-cap": FailingStep(
        "cdp: flash cap exceeded",
        setup=lambda s, r, d: s.vault.set_max_flash(1_000 * DAI, sender=s.deployer),
    ),
    "draw-above-ceiling": FailingStep(
        "cdp: debt ceiling",
        setup=lambda s, r, d: s.vault.set_debt_ceiling(
            s.vault.total_debt() + DAI, sender=s.deployer
        ),
    ),
    "draw-below-dust": FailingStep(
        "cdp: dust", setup=lambda s, r, d: s.vault.set_dust(1_000_000 * DAI, sender=s.deployer)
    ),
    "cdp-unsafe": FailingStep(
        "cdp: unsafe position", params=lambda s: RunParams(target_ltv=70 * WAD // 100)
    ),
    "health-guard": FailingStep(
        "composer: unhealthy position", params=lambda s: RunParams(min_collateral_ratio=3 * WAD)
    ),
}


@pytest.mark.parametrize("case", FAILING_STEPS.values(), ids=FAILING_STEPS)
def test_failing_step_reverts_everything(
    suite: Suite, roles: Roles, devnet: Devnet, case: FailingStep
) -> None:
    case.setup(suite, roles, devnet)
    user = getattr(roles, case.user)
    holders = {name: getattr(roles, name) for name in Roles.__dataclass_fields__}
    before = fetch_suite_state(suite, holders)

    with reverts(case.reason):
        suite.composer.run(case.params(suite).to_abi(), sender=user)

    after = fetch_suite_state(suite, holders)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert not changed


def test_failing_step_cases_succeed_without_the_fault(suite: Suite, roles: Roles) -> None:
    """The atomicity cases start from this run, which succeeds, and add one fault each."""
    collateral, borrowed, _ = suite.composer.run(RunParams().to_abi(), sender=roles.trader)
    assert collateral > 0 and borrowed > 0


# ------------------------------------------------------------------ callback guards ---


def test_direct_callback_reverts(suite: Suite, attacker: str) -> None:
    with reverts("composer: untrusted lender"):
        suite.composer.on_flash_loan(
            suite.composer.address, suite.dai.address, DAI, 0, b"", sender=attacker
        )


def test_callback_from_a_foreign_flash_mint_reverts(suite: Suite, attacker: str) -> None:
    with reverts("composer: untrusted initiator"):
        suite.vault.flash_mint(suite.composer.address, 1_000 * DAI, b"", sender=attacker)


def test_mismatched_venues_revert_at_deployment(
    suite: Suite, deploy: Callable[..., Contract]
) -> None:
    with reverts("composer: market mismatch"):
        deploy(
            "Composer",
            suite.weth.address,
            suite.usdc.address,
            suite.dai.address,
            suite.router.address,
            suite.market.address,
            suite.vault.address,
        )
