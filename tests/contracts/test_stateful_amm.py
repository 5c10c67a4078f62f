"""Invariant suite for ConstantProductPool: an exact ghost model, k, reserves, shares."""

from __future__ import annotations

from math import isqrt

from contract_helpers import Roles
from hypothesis import note, settings
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

from chains import Chain, Contract
from scenarios import Suite, get_amount_out
from scenarios.world import CONTRACTS_DIR

DEAD = "0x000000000000000000000000000000000000dEaD"
MINIMUM_LIQUIDITY = 1000
# token amounts stay far below the pool's 112-bit reserve cap
RESERVES = st.integers(min_value=10**6, max_value=10**27)
FRACTIONS = st.integers(min_value=1, max_value=2_000)  # per mille of the reserve


class AmmMachine(RuleBasedStateMachine):
    """Swaps, liquidity moves, donations, ``sync`` and ``skim`` on a fresh pool, against
    a ghost copy of its reserves, surplus balances and LP shares."""

    def __init__(self, suite: Suite, roles: Roles) -> None:
        super().__init__()
        self.chain: Chain = suite.chain
        self.suite = suite
        self.roles = roles
        self.snapshot = self.chain.snapshot()
        self.actors = (roles.lp, roles.trader)
        # ghost state
        self.reserves = [0, 0]
        self.surplus = [0, 0]  # balances above the reserves (donations, failed swaps)
        self.shares: dict[str, int] = {}
        self.pool_shares = 0  # LP shares sent to the pool but not burnt

    def teardown(self) -> None:
        self.chain.revert(self.snapshot)

    # ------------------------------------------------------------------------ setup ---
    @initialize(reserve0=RESERVES, reserve1=RESERVES)
    def deploy_pool(self, reserve0: int, reserve1: int) -> None:
        lp, factory = self.roles.lp, self.suite.factory
        token_path = CONTRACTS_DIR / "Token.vy"
        a = self.chain.deploy(token_path, "Token A", "TKA", 18, sender=lp)
        b = self.chain.deploy(token_path, "Token B", "TKB", 18, sender=lp)
        factory.create_pool(a.address, b.address, sender=lp)
        self.pool: Contract = self.chain.at(
            factory.get_pool(a.address, b.address), abi=self.suite.weth_usdc.abi
        )
        self.tokens: tuple[Contract, Contract] = (
            (a, b) if self.pool.token0() == a.address else (b, a)
        )
        for token in self.tokens:
            for actor in self.actors:
                token.mint(actor, 10**30, sender=lp)
        self._send(lp, 0, reserve0)
        self._send(lp, 1, reserve1)
        minted = self.pool.mint(lp, sender=lp)
        assert minted == isqrt(reserve0 * reserve1) - MINIMUM_LIQUIDITY
        self._settle()
        self.shares = {DEAD: MINIMUM_LIQUIDITY, lp: minted, self.roles.trader: 0}

    # ------------------------------------------------------------------------ rules ---
    @rule(is_zero_for_one=st.booleans(), per_mille=FRACTIONS, probe_k=st.booleans())
    def swap(self, is_zero_for_one: bool, per_mille: int, probe_k: bool) -> None:
        i, o = (0, 1) if is_zero_for_one else (1, 0)
        amount_in = max(1, self.reserves[i] * per_mille // 1000)
        if not self._holds(self.roles.trader, i, amount_in):
            return
        self._send(self.roles.trader, i, amount_in)
        paid_in = self.surplus[i]
        out = get_amount_out(paid_in, self.reserves[i], self.reserves[o])
        note(f"swap {amount_in} of token{i} (+{paid_in - amount_in} surplus) for {out}")
        if out == 0:
            with reverts("amm: insufficient output amount"):
                self.pool.swap(0, 0, self.roles.trader, b"", sender=self.roles.trader)
            return
        outs = [0, 0]
        if probe_k and self.surplus[o] == 0:  # a surplus on the output side would pay for it
            outs[o] = out + 1
            # asking for the whole output reserve fails the liquidity check before k
            reason = "amm: insufficient liquidity" if out + 1 >= self.reserves[o] else "amm: k"
            with reverts(reason):
                self.pool.swap(*outs, self.roles.trader, b"", sender=self.roles.trader)
        outs[o] = out
        k_before = self.reserves[0] * self.reserves[1]
        self.pool.swap(*outs, self.roles.trader, b"", sender=self.roles.trader)
        self.surplus[o] -= out
        self._settle()
        assert self.reserves[0] * self.reserves[1] >= k_before, "k decreased across a swap"

    @rule(actor_index=st.integers(0, 1), per_mille=FRACTIONS)
    def add_liquidity(self, actor_index: int, per_mille: int) -> None:
        actor = self.actors[actor_index]
        supply = self.pool.totalSupply()
        amounts = [self.reserves[side] * per_mille // 1000 for side in (0, 1)]
        if not all(self._holds(actor, side, amounts[side]) for side in (0, 1)):
            return
        for side in (0, 1):
            self._send(actor, side, amounts[side])
        expected = min(
            self.surplus[0] * supply // self.reserves[0],
            self.surplus[1] * supply // self.reserves[1],
        )
        note(f"{actor} adds {self.surplus}, expects {expected} shares")
        if expected == 0:
            with reverts("amm: insufficient liquidity minted"):
                self.pool.mint(actor, sender=actor)
            return
        assert self.pool.mint(actor, sender=actor) == expected
        self.shares[actor] += expected
        self._settle()

    @precondition(lambda self: any(self.shares.get(a, 0) for a in self.actors))
    @rule(actor_index=st.integers(0, 1), per_mille=st.integers(1, 1000))
    def remove_liquidity(self, actor_index: int, per_mille: int) -> None:
        actor = self.actors[actor_index]
        if self.shares[actor] == 0:
            actor = self.actors[1 - actor_index]
        shares = max(1, self.shares[actor] * per_mille // 1000)
        self.pool.transfer(self.pool.address, shares, sender=actor)
        self.shares[actor] -= shares
        self.pool_shares += shares
        supply = self.pool.totalSupply()
        balances = [r + s for r, s in zip(self.reserves, self.surplus, strict=True)]
        expected = tuple(self.pool_shares * b // supply for b in balances)
        note(f"{actor} burns {self.pool_shares} shares for {expected}")
        if 0 in expected:
            with reverts("amm: insufficient liquidity burned"):
                self.pool.burn(actor, sender=actor)
            return
        assert self.pool.burn(actor, sender=actor) == expected
        self.pool_shares = 0
        self.surplus = [
            b - e - r for b, e, r in zip(balances, expected, self.reserves, strict=True)
        ]
        self._settle()

    @rule(side=st.integers(0, 1), amount=st.integers(1, 10**24))
    def donate(self, side: int, amount: int) -> None:
        if self._holds(self.roles.trader, side, amount):
            self._send(self.roles.trader, side, amount)

    @rule()
    def sync(self) -> None:
        self.pool.sync(sender=self.roles.trader)
        self._settle()

    @rule()
    def skim(self) -> None:
        before = [t.balanceOf(self.roles.lp) for t in self.tokens]
        self.pool.skim(self.roles.lp, sender=self.roles.trader)
        after = [t.balanceOf(self.roles.lp) for t in self.tokens]
        assert [a - b for a, b in zip(after, before, strict=True)] == self.surplus
        self.surplus = [0, 0]

    # ------------------------------------------------------------------- invariants ---
    @invariant()
    def reserves_match_the_model(self) -> None:
        assert list(self.pool.get_reserves()[:2]) == self.reserves

    @invariant()
    def balances_are_reserves_plus_surplus(self) -> None:
        balances = [t.balanceOf(self.pool.address) for t in self.tokens]
        assert balances == [r + s for r, s in zip(self.reserves, self.surplus, strict=True)]

    @invariant()
    def shares_sum_to_supply(self) -> None:
        held = {a: self.pool.balanceOf(a) for a in self.shares}
        assert held == self.shares
        assert self.pool.balanceOf(self.pool.address) == self.pool_shares
        assert sum(held.values()) + self.pool_shares == self.pool.totalSupply()

    # ---------------------------------------------------------------------- helpers ---
    def _holds(self, actor: str, side: int, amount: int) -> bool:
        """Whether ``actor`` still has ``amount`` of a token: repeated deposits of up to
        twice the reserves outgrow any fixed endowment, and a step it cannot pay for is
        skipped rather than tested (the token's own balance check is not the pool's)."""
        held = self.tokens[side].balanceOf(actor)
        if held < amount:
            note(f"{actor} holds {held} of token{side}, not {amount}: step skipped")
        return held >= amount

    def _send(self, sender: str, side: int, amount: int) -> None:
        if amount:
            self.tokens[side].transfer(self.pool.address, amount, sender=sender)
            self.surplus[side] += amount

    def _settle(self) -> None:
        """The pool adopted its balances as reserves (mint, burn, swap and sync do)."""
        self.reserves = [r + s for r, s in zip(self.reserves, self.surplus, strict=True)]
        self.surplus = [0, 0]


def test_amm_invariants(suite: Suite, roles: Roles) -> None:
    run_state_machine_as_test(
        lambda: AmmMachine(suite, roles), settings=settings(stateful_step_count=20)
    )
