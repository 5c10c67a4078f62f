"""Invariant suite for LendingMarket: shares, solvency, and health under user actions.

Every rule predicts its outcome exactly from the market's own views (which run in the
block the next transaction joins) and the reference math, then asserts it: success, or
the precise revert reason.
"""

from __future__ import annotations

from contract_helpers import MAX_UINT256, USDC, WAD, WETH, Roles, advance_time
from hypothesis import event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from testing_helpers import reverts

from chains import Chain, Devnet
from scenarios import (
    Suite,
    market_liquidation,
    mul_div,
    to_assets_up,
    to_shares_down,
    to_shares_up,
)

# a fraction of what the position allows: clearly inside, or clearly beyond
FRACTIONS = st.one_of(st.integers(100, 990), st.integers(1_010, 1_500), st.integers(1, 99))
# whole amounts mostly, dust sometimes
AMOUNTS_USDC = st.one_of(st.integers(1, 1_000_000).map(lambda n: n * USDC), st.integers(1, 10**6))
AMOUNTS_WETH = st.one_of(
    st.integers(1, 1_000).map(lambda n: n * WETH // 10), st.integers(1, 10**12)
)


class LendingMachine(RuleBasedStateMachine):
    """Suppliers, borrowers, a liquidator and a keeper acting on the suite's market."""

    def __init__(self, suite: Suite, roles: Roles, devnet: Devnet) -> None:
        super().__init__()
        self.suite = suite
        self.chain: Chain = suite.chain
        self.devnet = devnet
        self.market = suite.market
        self.roles = roles
        self.snapshot = devnet.snapshot()
        self.suppliers = (roles.supplier, roles.lp)
        self.borrowers = (roles.borrower, roles.trader)
        # only these ever act for themselves, so they hold every share and all collateral
        self.lenders = (roles.deployer, *self.suppliers)
        # set when prices fall or time passes: a liquidation may be possible
        self.may_be_unhealthy = False

    def teardown(self) -> None:
        self.devnet.revert(self.snapshot)

    # ---------------------------------------------------------------------- helpers ---
    def _prices(self) -> tuple[int, int]:
        weth = self.suite.oracle.latest(self.suite.weth.address)[0]
        usdc = self.suite.oracle.latest(self.suite.usdc.address)[0]
        return weth, usdc

    def _is_within_ltv(self, collateral: int, debt: int) -> bool:
        """``LendingMarket._is_within_ltv``: debt value ≤ collateral value · ltv."""
        if debt == 0:
            return True
        weth, usdc = self._prices()
        value = mul_div(collateral, weth, WETH)
        return mul_div(debt, usdc, USDC, round_up=True) <= mul_div(value, self.market.ltv(), WAD)

    def _capacity(self, user: str) -> int:
        """Roughly how much more ``user`` may borrow (only scales the draws)."""
        weth, usdc = self._prices()
        value = mul_div(self.market.collateral(user), weth, WETH)
        limit = mul_div(mul_div(value, self.market.ltv(), WAD), USDC, usdc)
        return max(limit - self.market.debt_of(user), 1)

    def _health(self, user: str) -> int:
        return int(self.market.health_factor(user))

    def _check_health_kept(self, user: str, before: int) -> None:
        after = self._health(user)
        note(f"HF of {user}: {before / WAD:.6f} -> {after / WAD:.6f}")
        if before >= WAD:
            assert after >= WAD, "a user action took a healthy position below HF 1"

    # ------------------------------------------------------------------------ setup ---
    @initialize(
        collateral=st.tuples(*[st.integers(1, 1_000).map(lambda n: n * WETH // 10)] * 2),
        per_mille=st.tuples(st.integers(500, 990), st.integers(500, 990)),
    )
    def open_positions(self, collateral: tuple[int, int], per_mille: tuple[int, int]) -> None:
        for borrower, amount, share in zip(self.borrowers, collateral, per_mille, strict=True):
            self.market.supply_collateral(amount, borrower, sender=borrower)
            assets = self._capacity(borrower) * share // 1000
            if assets:
                self.market.borrow(assets, borrower, sender=borrower)

    # ------------------------------------------------------------------------ rules ---
    @rule(who=st.integers(0, 1), assets=AMOUNTS_USDC)
    def supply(self, who: int, assets: int) -> None:
        supplier = self.suppliers[who]
        total_assets, total_shares, _, _ = self.market.expected_totals()
        shares = self.market.supply(assets, supplier, sender=supplier)
        assert shares == to_shares_down(assets, total_assets, total_shares)

    @rule(who=st.integers(0, 2), per_mille=st.integers(1, 1000))
    def withdraw(self, who: int, per_mille: int) -> None:
        supplier = (*self.suppliers, self.roles.deployer)[who]
        held = self.market.supplied_of(supplier)
        assets = held * per_mille // 1000
        if assets == 0:
            event("market: zero amount")
            with reverts("market: zero amount"):
                self.market.withdraw(assets, supplier, sender=supplier)
            return
        total_assets, total_shares, total_borrow, _ = self.market.expected_totals()
        shares = to_shares_up(assets, total_assets, total_shares)
        assert shares <= self.market.supply_shares(supplier)
        if total_borrow > total_assets - assets:
            event("market: insufficient liquidity")
            with reverts("market: insufficient liquidity"):
                self.market.withdraw(assets, supplier, sender=supplier)
            return
        event("withdrew")
        assert self.market.withdraw(assets, supplier, sender=supplier) == shares

    @rule(who=st.integers(0, 1), amount=AMOUNTS_WETH)
    def supply_collateral(self, who: int, amount: int) -> None:
        borrower = self.borrowers[who]
        before = self._health(borrower)
        self.market.supply_collateral(amount, borrower, sender=borrower)
        self._check_health_kept(borrower, before)

    @rule(who=st.integers(0, 1), per_mille=FRACTIONS)
    def borrow(self, who: int, per_mille: int) -> None:
        borrower = self.borrowers[who]
        assets = max(1, self._capacity(borrower) * per_mille // 1000)
        supply_assets, _, borrow_assets, borrow_shares = self.market.expected_totals()
        new_shares = to_shares_up(assets, borrow_assets, borrow_shares)
        debt = to_assets_up(
            self.market.borrow_shares(borrower) + new_shares,
            borrow_assets + assets,
            borrow_shares + new_shares,
        )
        note(f"{borrower} borrows {assets} (debt would be {debt})")
        before = self._health(borrower)
        if not self._is_within_ltv(self.market.collateral(borrower), debt):
            event("market: ltv exceeded")
            with reverts("market: ltv exceeded"):
                self.market.borrow(assets, borrower, sender=borrower)
            return
        if borrow_assets + assets > supply_assets:
            event("market: insufficient liquidity")
            with reverts("market: insufficient liquidity"):
                self.market.borrow(assets, borrower, sender=borrower)
            return
        event("borrowed")
        assert self.market.borrow(assets, borrower, sender=borrower) == new_shares
        self._check_health_kept(borrower, before)

    @precondition(lambda self: any(self.market.borrow_shares(b) for b in self.borrowers))
    @rule(who=st.integers(0, 1), per_mille=st.integers(1, 1000))
    def repay(self, who: int, per_mille: int) -> None:
        borrower = self.borrowers[who]
        if self.market.borrow_shares(borrower) == 0:
            borrower = self.borrowers[1 - who]
        debt = self.market.debt_of(borrower)
        assets = debt * per_mille // 1000
        if assets == 0:
            event("market: zero amount")
            with reverts("market: zero amount"):
                self.market.repay(assets, borrower, sender=borrower)
            return
        before = self._health(borrower)
        event("repaid all" if assets == debt else "repaid")
        assert self.market.repay(assets, borrower, sender=borrower) == assets
        if assets == debt:
            assert self.market.borrow_shares(borrower) == 0
        self._check_health_kept(borrower, before)

    @precondition(lambda self: any(self.market.collateral(b) for b in self.borrowers))
    @rule(who=st.integers(0, 1), per_mille=FRACTIONS)
    def withdraw_collateral(self, who: int, per_mille: int) -> None:
        borrower = self.borrowers[who]
        if self.market.collateral(borrower) == 0:
            borrower = self.borrowers[1 - who]
        collateral = self.market.collateral(borrower)
        amount = max(1, collateral * per_mille // 1000)
        before = self._health(borrower)
        if amount > collateral:
            event("market: insufficient collateral")
            with reverts("market: insufficient collateral"):
                self.market.withdraw_collateral(amount, borrower, sender=borrower)
            return
        if not self._is_within_ltv(collateral - amount, self.market.debt_of(borrower)):
            event("market: ltv exceeded")
            with reverts("market: ltv exceeded"):
                self.market.withdraw_collateral(amount, borrower, sender=borrower)
            return
        event("withdrew collateral")
        self.market.withdraw_collateral(amount, borrower, sender=borrower)
        self._check_health_kept(borrower, before)

    @precondition(lambda self: self.may_be_unhealthy)
    @rule()
    def liquidate(self) -> None:
        """A liquidator acts on the weakest position, or fails if all are healthy."""
        self._liquidate_weakest(is_bot=False)

    def _liquidate_weakest(self, *, is_bot: bool) -> None:
        health, borrower = min((self._health(b), b) for b in self.borrowers)
        liquidator = self.roles.liquidator
        if health >= WAD:
            self.may_be_unhealthy = False
            if is_bot:  # a bot only acts on what it can liquidate
                return
            event("market: position healthy")
            with reverts("market: position healthy"):
                self.market.liquidate(borrower, MAX_UINT256, sender=liquidator)
            return
        weth, usdc = self._prices()
        expected = market_liquidation(
            collateral=self.market.collateral(borrower),
            debt=self.market.debt_of(borrower),
            repay_request=MAX_UINT256,
            health=health,
            collateral_price=weth,
            loan_price=usdc,
            collateral_decimals=18,
            loan_decimals=6,
            liquidation_bonus=self.market.liquidation_bonus(),
        )
        note(f"liquidate {borrower} at HF {health / WAD:.4f}: {expected}")
        event("liquidated" if expected.seized < self.market.collateral(borrower) else "bad debt")
        result = self.market.liquidate(borrower, MAX_UINT256, sender=liquidator)
        assert result == (expected.repaid, expected.seized)

    @rule(percent=st.integers(50, 125), liquidate_at_once=st.booleans())
    def move_price(self, percent: int, liquidate_at_once: bool) -> None:
        weth, _ = self._prices()
        price = min(max(weth * percent // 100, 100 * WAD), 10_000 * WAD)
        note(f"WETH price {weth / WAD:.2f} -> {price / WAD:.2f}")
        self.suite.oracle.set_price(self.suite.weth.address, price, sender=self.roles.keeper)
        if percent < 100 and liquidate_at_once:  # a liquidation bot reacts in the next block
            self._liquidate_weakest(is_bot=True)
        else:
            self.may_be_unhealthy |= percent < 100

    @rule(seconds=st.integers(1, 30 * 86_400))
    def advance(self, seconds: int) -> None:
        advance_time(self.devnet, seconds)
        self.may_be_unhealthy = True
        for token in (self.suite.weth, self.suite.usdc):  # the keeper keeps prices fresh
            price = self.suite.oracle.latest(token.address)[0]
            self.suite.oracle.set_price(token.address, price, sender=self.roles.keeper)

    @rule()
    def accrue(self) -> None:
        self.market.accrue_interest(sender=self.roles.keeper)

    # ------------------------------------------------------------------- invariants ---
    @invariant()
    def supply_shares_sum_to_total(self) -> None:
        held = sum(self.market.supply_shares(a) for a in self.lenders)
        assert held == self.market.total_supply_shares()

    @invariant()
    def borrow_shares_sum_to_total(self) -> None:
        held = sum(self.market.borrow_shares(b) for b in self.borrowers)
        assert held == self.market.total_borrow_shares()

    @invariant()
    def borrowed_does_not_exceed_supplied(self) -> None:
        supply_assets, _, borrow_assets, _ = self.market.expected_totals()
        assert borrow_assets <= supply_assets

    @invariant()
    def tokens_cover_the_books(self) -> None:
        market = self.market.address
        idle = self.market.total_supply_assets() - self.market.total_borrow_assets()
        assert self.suite.usdc.balanceOf(market) >= idle
        collateral = sum(self.market.collateral(b) for b in self.borrowers)
        assert self.suite.weth.balanceOf(market) == collateral


def test_lending_invariants(suite: Suite, roles: Roles, devnet: Devnet) -> None:
    run_state_machine_as_test(
        lambda: LendingMachine(suite, roles, devnet), settings=settings(stateful_step_count=20)
    )
