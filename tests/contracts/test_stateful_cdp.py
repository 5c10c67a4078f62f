"""Invariant suite for CdpVault: total debt, collateral, the rate accumulator, safety.

Every rule predicts its outcome exactly (the vault's views run in the block the next
transaction joins) with the reference math, then asserts success or the precise reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from contract_helpers import DAI, MAX_UINT256, RAY, WAD, WETH, Roles, advance_time
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
from scenarios import Suite, cdp_debt, cdp_is_safe, cdp_liquidation, mul_div, rate_after

FRACTIONS = st.one_of(st.integers(100, 990), st.integers(1_010, 1_500), st.integers(1, 99))
AMOUNTS_WETH = st.one_of(
    st.integers(1, 1_000).map(lambda n: n * WETH // 10), st.integers(1, 10**12)
)
MIN_PRICE, MAX_PRICE = 500 * WAD, 10_000 * WAD


class CdpMachine(RuleBasedStateMachine):
    """Three position owners, a liquidator (with its own well-collateralised position
    as its DAI source) and a keeper, acting on the suite's vault."""

    def __init__(self, suite: Suite, roles: Roles, devnet: Devnet) -> None:
        super().__init__()
        self.suite = suite
        self.vault = suite.vault
        self.chain: Chain = suite.chain
        self.devnet = devnet
        self.roles = roles
        self.snapshot = devnet.snapshot()
        self.owners = (roles.borrower, roles.trader, roles.lp)
        self.holders = (roles.deployer, roles.liquidator, *self.owners)
        self.fee = self.vault.stability_fee()
        self.ratio = self.vault.liquidation_ratio()
        self.dust = self.vault.dust()
        self.may_be_unsafe = False

    def teardown(self) -> None:
        self.devnet.revert(self.snapshot)

    # ---------------------------------------------------------------------- helpers ---
    def _price(self) -> int:
        return int(self.suite.oracle.latest(self.suite.weth.address)[0])

    def _capacity(self, owner: str) -> int:
        """Roughly how much more DAI ``owner`` may draw (only scales the draws)."""
        value = mul_div(self.vault.ink(owner), self._price(), WETH)
        return max(mul_div(value, WAD, self.ratio) - self.vault.debt_of(owner), 1)

    def _is_safe(self, ink: int, art: int, rate: int) -> bool:
        return cdp_is_safe(ink, art, rate, self._price(), self.ratio, 18)

    def _transact_and_check_drip(self, call: Callable[..., Any], *args: Any, sender: str) -> Any:
        """Send a dripping vault call; check the accumulator moved as the model says (and
        so never decreased)."""
        rate, rho = self.vault.rate(), self.vault.rho()
        result = call(*args, sender=sender)
        elapsed = self.chain.timestamp - rho
        assert self.vault.rate() == rate_after(rate, self.fee, elapsed) >= rate
        assert self.vault.rho() == self.chain.timestamp
        return result

    # ------------------------------------------------------------------------ setup ---
    @initialize(
        ink=st.tuples(*[st.integers(1, 1_000).map(lambda n: n * WETH // 10)] * 3),
        per_mille=st.tuples(*[st.integers(0, 990)] * 3),
    )
    def open_positions(self, ink: tuple[int, ...], per_mille: tuple[int, ...]) -> None:
        liquidator = self.roles.liquidator
        self.vault.lock(5_000 * WETH, liquidator, sender=liquidator)
        self.vault.draw(1_000_000 * DAI, liquidator, sender=liquidator)
        for owner, amount, share in zip(self.owners, ink, per_mille, strict=True):
            self.suite.dai.transfer(owner, 10_000 * DAI, sender=liquidator)  # fee buffer
            self.vault.lock(amount, owner, sender=owner)
            dai = self._capacity(owner) * share // 1000
            if dai >= self.dust:
                self.vault.draw(dai, owner, sender=owner)

    # ------------------------------------------------------------------------ rules ---
    @rule(who=st.integers(0, 2), amount=AMOUNTS_WETH)
    def lock(self, who: int, amount: int) -> None:
        owner = self.owners[who]
        ink = self.vault.ink(owner)
        self.vault.lock(amount, owner, sender=owner)
        assert self.vault.ink(owner) == ink + amount

    @rule(who=st.integers(0, 2), per_mille=FRACTIONS)
    def draw(self, who: int, per_mille: int) -> None:
        owner = self.owners[who]
        amount = max(1, self._capacity(owner) * per_mille // 1000)
        rate = self.vault.current_rate()
        dart = mul_div(amount, RAY, rate, round_up=True)
        art = self.vault.art(owner) + dart
        note(f"{owner} draws {amount} DAI (art {art})")
        if cdp_debt(self.vault.total_art() + dart, rate) > self.vault.debt_ceiling():
            reason: str | None = "cdp: debt ceiling"
        elif cdp_debt(art, rate) < self.dust:
            reason = "cdp: dust"
        elif not self._is_safe(self.vault.ink(owner), art, rate):
            reason = "cdp: unsafe position"
        else:
            reason = None
        if reason is not None:
            event(reason)
            with reverts(reason):
                self.vault.draw(amount, owner, sender=owner)
            return
        event("drew")
        assert self._transact_and_check_drip(self.vault.draw, amount, owner, sender=owner) == dart
        assert self.vault.art(owner) == art

    @precondition(lambda self: any(self.vault.art(o) for o in self.owners))
    @rule(who=st.integers(0, 2), per_mille=st.integers(1, 1000), is_full=st.booleans())
    def repay(self, who: int, per_mille: int, is_full: bool) -> None:
        owner = next(o for o in (*self.owners[who:], *self.owners[:who]) if self.vault.art(o))
        debt, balance = self.vault.debt_of(owner), self.suite.dai.balanceOf(owner)
        art, rate = self.vault.art(owner), self.vault.current_rate()
        if is_full:
            reason = "erc20: burn amount exceeds balance" if balance < debt else None
            amount = MAX_UINT256
        else:
            amount = min(debt, balance) * per_mille // 1000
            remaining = cdp_debt(art - mul_div(amount, RAY, rate), rate)
            if amount == 0:
                reason = "cdp: zero amount"
            elif 0 < remaining < self.dust:
                reason = "cdp: dust"
            else:
                reason = None
        if reason is not None:
            event(reason)
            with reverts(reason):
                self.vault.repay(amount, owner, sender=owner)
            return
        event("repaid all" if is_full else "repaid")
        paid = self._transact_and_check_drip(self.vault.repay, amount, owner, sender=owner)
        assert paid == (debt if is_full else amount)
        assert self.suite.dai.balanceOf(owner) == balance - paid

    @rule(who=st.integers(0, 2), per_mille=FRACTIONS)
    def free(self, who: int, per_mille: int) -> None:
        owner = self.owners[who]
        ink = self.vault.ink(owner)
        amount = max(1, ink * per_mille // 1000)
        if amount > ink:
            reason: str | None = "cdp: insufficient collateral"
        elif not self._is_safe(ink - amount, self.vault.art(owner), self.vault.current_rate()):
            reason = "cdp: unsafe position"
        else:
            reason = None
        if reason is not None:
            event(reason)
            with reverts(reason):
                self.vault.free(amount, owner, sender=owner)
            return
        event("freed")
        self._transact_and_check_drip(self.vault.free, amount, owner, sender=owner)
        assert self.vault.ink(owner) == ink - amount

    @rule(source=st.integers(0, 2), offset=st.integers(1, 2))
    def give(self, source: int, offset: int) -> None:
        owner, receiver = self.owners[source], self.owners[(source + offset) % 3]
        ink = self.vault.ink(owner) + self.vault.ink(receiver)
        art = self.vault.art(owner) + self.vault.art(receiver)
        if self.vault.ink(owner) == self.vault.art(owner) == 0:
            reason: str | None = "cdp: no position"
        elif not self._is_safe(ink, art, self.vault.current_rate()):
            reason = "cdp: unsafe position"
        else:
            reason = None
        if reason is not None:
            event(reason)
            with reverts(reason):
                self.vault.give(receiver, sender=owner)
            return
        event("gave")
        self._transact_and_check_drip(self.vault.give, receiver, sender=owner)
        assert (self.vault.ink(receiver), self.vault.art(receiver)) == (ink, art)

    @precondition(lambda self: self.may_be_unsafe)
    @rule()
    def liquidate(self) -> None:
        """The liquidator closes an unsafe position, or fails if all are safe."""
        self._liquidate_unsafe(is_bot=False)

    def _liquidate_unsafe(self, *, is_bot: bool) -> None:
        rate = self.vault.current_rate()
        unsafe = [
            o
            for o in self.owners
            if self.vault.art(o) and not self._is_safe(self.vault.ink(o), self.vault.art(o), rate)
        ]
        if not unsafe:
            self.may_be_unsafe = False
            if is_bot:  # a bot only acts on what it can liquidate
                return
            event("cdp: position safe")
            with reverts("cdp: position safe"):
                self.vault.liquidate(self.owners[0], sender=self.roles.liquidator)
            return
        owner = unsafe[0]
        ink, art = self.vault.ink(owner), self.vault.art(owner)
        expected = cdp_liquidation(
            ink, art, rate, self._price(), self.vault.liquidation_penalty(), 18
        )
        bad_debt = self.vault.bad_debt()
        note(f"liquidate {owner}: {expected}")
        event("liquidated with bad debt" if expected.bad_debt else "liquidated")
        result = self._transact_and_check_drip(
            self.vault.liquidate, owner, sender=self.roles.liquidator
        )
        assert result == (expected.paid, expected.seized)
        assert (self.vault.ink(owner), self.vault.art(owner)) == (ink - expected.seized, 0)
        assert self.vault.bad_debt() == bad_debt + expected.bad_debt

    @rule(percent=st.integers(50, 125), liquidate_at_once=st.booleans())
    def move_price(self, percent: int, liquidate_at_once: bool) -> None:
        price = min(max(self._price() * percent // 100, MIN_PRICE), MAX_PRICE)
        note(f"WETH price -> {price / WAD:.2f}")
        self.suite.oracle.set_price(self.suite.weth.address, price, sender=self.roles.keeper)
        if percent < 100 and liquidate_at_once:  # a liquidation bot reacts in the next block
            self._liquidate_unsafe(is_bot=True)
        else:
            self.may_be_unsafe |= percent < 100

    @rule(seconds=st.integers(1, 90 * 86_400))
    def advance(self, seconds: int) -> None:
        advance_time(self.devnet, seconds)
        price = self._price()  # the keeper keeps the price fresh
        self.suite.oracle.set_price(self.suite.weth.address, price, sender=self.roles.keeper)
        self.may_be_unsafe = True

    @rule()
    def drip(self) -> None:
        self._transact_and_check_drip(self.vault.drip, sender=self.roles.keeper)

    # ------------------------------------------------------------------- invariants ---
    @invariant()
    def total_debt_is_normalised_debt_times_rate(self) -> None:
        arts = [self.vault.art(h) for h in self.holders]
        assert self.vault.total_art() == sum(arts)
        assert self.vault.total_debt() == cdp_debt(sum(arts), self.vault.current_rate())

    @invariant()
    def collateral_is_accounted(self) -> None:
        inks = sum(self.vault.ink(h) for h in self.holders)
        assert self.vault.total_collateral() == inks
        assert self.suite.weth.balanceOf(self.vault.address) == inks

    @invariant()
    def debts_are_zero_or_above_dust(self) -> None:
        for owner in self.owners:
            debt = self.vault.debt_of(owner)
            assert debt == 0 or debt >= self.dust


def test_cdp_invariants(suite: Suite, roles: Roles, devnet: Devnet) -> None:
    run_state_machine_as_test(
        lambda: CdpMachine(suite, roles, devnet), settings=settings(stateful_step_count=20)
    )
