"""Reads the runner asks once instead of twice: a pool's ``token0`` by its deployed code,
and the views of one state while a run is valued (``RunState.reads_at_one_state``).

Each answer kept must be the chain's answer now: the tests change what a kept answer
would have to reflect (a different pool deployed at the same address, a mint after the
scope) and check the runner reads it afresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chains import Chain, TransactionReverted
from scenarios import MarketConfig, RunSpec, World
from scenarios.runners import RunState
from scenarios.runners._one_chain import one_chain_state
from scenarios.world import CONTRACTS_DIR, fetch_token0


class _CountCalls:
    """Counts the contract reads (``Chain.call``) a chain answers."""

    def __init__(self, chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[tuple[str, bytes]] = []
        original = chain.call

        def call(**kwargs: Any) -> bytes:
            self.asked.append((str(kwargs["to"]), bytes(kwargs["data"])))
            return original(**kwargs)

        monkeypatch.setattr(chain, "call", call)

    @property
    def count(self) -> int:
        return len(self.asked)


@pytest.fixture
def session(scenario_world: World) -> Iterator[World]:
    """The session's world, reverted to its anchor after the test."""
    with scenario_world.session() as world:
        yield world


@pytest.fixture
def state(session: World) -> RunState:
    """A one-chain run state on the session's world (nothing sent yet)."""
    spec = RunSpec(mode="sequential", chains=3, seed=0)
    return one_chain_state(session, spec, MarketConfig(weth_price=session.suite.config.weth_price))


def test_fetch_token0_reads_once_per_pool(session: World, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = session.suite.weth_usdc
    expected = pool.token0()
    fetch_token0(pool)  # the answer may already be kept from the world's runs
    calls = _CountCalls(pool.chain, monkeypatch)
    assert [fetch_token0(pool) for _ in range(3)] == [expected] * 3
    assert calls.count == 0


def test_fetch_token0_reads_a_pool_redeployed_at_the_same_address(session: World) -> None:
    """Revert past a pool's deployment and deploy another pair at the same address: an
    answer kept by address would be stale; the code differs, so it is read again."""
    suite, deployer = session.suite, session.roles.deployer
    tokens = (suite.usdc.address, suite.weth.address, suite.dai.address)
    low, mid, high = sorted(tokens, key=str.lower)  # lower-case hex sorts as the numbers
    pool_path = CONTRACTS_DIR / "ConstantProductPool.vy"
    before = session.devnet.snapshot()
    first = suite.chain.deploy(pool_path, low, mid, sender=deployer)
    assert fetch_token0(first) == first.token0() == low
    session.devnet.revert(before)
    second = suite.chain.deploy(pool_path, mid, high, sender=deployer)
    assert second.address == first.address
    assert fetch_token0(second) == second.token0() == mid
    assert fetch_token0(first) == mid  # the same address: what is deployed there now


def test_view_outside_the_scope_reads_every_time(
    state: RunState, session: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    usdc, deployer = session.suite.usdc, session.roles.deployer
    calls = _CountCalls(usdc.chain, monkeypatch)
    before = state.view(usdc.balanceOf, state.user)
    usdc.mint(state.user, 7, sender=deployer)
    assert state.view(usdc.balanceOf, state.user) == before + 7
    assert calls.count == 2


def test_view_in_the_scope_reads_once_then_fresh_after(
    state: RunState, session: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    usdc, weth, deployer = session.suite.usdc, session.suite.weth, session.roles.deployer
    calls = _CountCalls(usdc.chain, monkeypatch)
    with state.reads_at_one_state():
        held = state.view(usdc.balanceOf, state.user)
        assert state.view(usdc.balanceOf, state.user) == held
        assert calls.count == 1
        state.view(weth.balanceOf, state.user)  # another contract: its own read
        state.view(usdc.balanceOf, deployer)  # other arguments: their own read
        assert calls.count == 3
    usdc.mint(state.user, 11, sender=deployer)
    assert state.view(usdc.balanceOf, state.user) == held + 11
    with state.reads_at_one_state():  # a new scope keeps nothing from the last one
        assert state.view(usdc.balanceOf, state.user) == held + 11
    assert calls.count == 5


def test_view_in_the_scope_repeats_a_revert(
    state: RunState, session: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    router, suite = session.suite.router, session.suite
    path = [suite.usdc.address, suite.weth.address]
    with pytest.raises(TransactionReverted) as direct:
        router.get_amounts_out(0, path)
    calls = _CountCalls(router.chain, monkeypatch)
    with state.reads_at_one_state():
        for _ in range(2):
            with pytest.raises(TransactionReverted) as kept:
                state.view(router.get_amounts_out, 0, path)
            assert kept.value.reason == direct.value.reason
    assert calls.count == 1


def test_the_scope_closes_when_its_body_raises(state: RunState) -> None:
    with pytest.raises(RuntimeError), state.reads_at_one_state():
        raise RuntimeError("stop")
    assert state._one_state is None


def test_finish_values_the_end_state_with_fresh_reads_after(
    state: RunState, session: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``finish`` reads each view once, and keeps nothing once it returns."""
    usdc, deployer = session.suite.usdc, session.roles.deployer
    state.begin()
    calls = _CountCalls(usdc.chain, monkeypatch)
    state.finish()
    # sample_health, fetch_holdings, is_liquidatable and the unwind state each ask for
    # the market's and the vault's debt: each asked once
    market, vault = session.suite.market, session.suite.vault
    debts = [(str(c.address), c.debt_of.encode(state.user)) for c in (market, vault)]
    assert all(calls.asked.count(debt) == 1 for debt in debts)
    assert len(set(calls.asked)) == len(calls.asked)
    assert state._one_state is None
    read = calls.count
    held = state.view(usdc.balanceOf, state.user)
    usdc.mint(state.user, 5, sender=deployer)
    assert state.view(usdc.balanceOf, state.user) == held + 5
    assert calls.count == read + 2
