"""Reads the runner asks once instead of twice: a pool's ``token0`` by its deployed code.

Each answer kept must be the chain's answer now: the tests change what a kept answer
would have to reflect (a different pool deployed at the same address) and check the
runner reads it afresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chains import Chain
from scenarios import World
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
