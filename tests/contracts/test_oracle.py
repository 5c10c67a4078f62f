"""Oracle: keeper-fed prices, staleness bound set by the consumer, OSM-like delay."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from contract_helpers import USDC, WAD, WETH, advance_time
from testing_helpers import reverts

from chains import Chain, Contract, Devnet
from scenarios import Suite

HOP = 3600


@pytest.fixture
def delayed_oracle(deploy: Callable[..., Contract], suite: Suite, keeper: str) -> Contract:
    """A fresh oracle with a one-hour delay; ``keeper`` appointed."""
    oracle = deploy("Oracle", HOP, sender=suite.deployer)
    oracle.set_keeper(keeper, True, sender=suite.deployer)
    return oracle


def test_keeper_sets_price(suite: Suite, keeper: str, chain: Chain) -> None:
    receipt = suite.oracle.set_price.transact(suite.weth.address, 2100 * WAD, sender=keeper)
    assert suite.oracle.latest(suite.weth.address) == (2100 * WAD, chain.timestamp)
    assert suite.oracle.price(suite.weth.address, 60) == 2100 * WAD
    event = next(e for e in receipt.events if e.name == "PriceReported")
    assert event.args == {
        "asset": suite.weth.address,
        "price": 2100 * WAD,
        "effective_at": chain.timestamp,
    }


def test_non_keeper_set_price_reverts(suite: Suite, attacker: str) -> None:
    with reverts("oracle: not a keeper"):
        suite.oracle.set_price(suite.weth.address, 1, sender=attacker)


def test_zero_price_reverts(suite: Suite, keeper: str) -> None:
    with reverts("oracle: zero price"):
        suite.oracle.set_price(suite.weth.address, 0, sender=keeper)


def test_owner_appoints_keeper(suite: Suite, attacker: str) -> None:
    suite.oracle.set_keeper(attacker, True, sender=suite.deployer)
    suite.oracle.set_price(suite.weth.address, 1500 * WAD, sender=attacker)
    assert suite.oracle.latest(suite.weth.address)[0] == 1500 * WAD


def test_non_owner_appoints_keeper_reverts(suite: Suite, attacker: str) -> None:
    with reverts("ownable: caller is not the owner"):
        suite.oracle.set_keeper(attacker, True, sender=attacker)


def test_price_within_max_age(suite: Suite, devnet: Devnet) -> None:
    _, updated_at = suite.oracle.latest(suite.weth.address)
    advance_time(devnet, 100)
    suite.chain.mine()
    age = suite.chain.timestamp - updated_at
    assert suite.oracle.price(suite.weth.address, age + 1) == 2000 * WAD


def test_price_older_than_max_age_reverts(suite: Suite, devnet: Devnet) -> None:
    _, updated_at = suite.oracle.latest(suite.weth.address)
    advance_time(devnet, 100)
    suite.chain.mine()
    age = suite.chain.timestamp - updated_at
    with reverts("oracle: stale price"):
        suite.oracle.price(suite.weth.address, age - 2)  # the pending block is a second later


def test_unknown_asset_reverts(suite: Suite, attacker: str) -> None:
    with reverts("oracle: no price"):
        suite.oracle.price(attacker, 10**9)


def test_consumer_rejects_stale_price(
    suite: Suite, borrower: str, devnet: Devnet, refresh_prices: Callable[[], None]
) -> None:
    suite.market.supply_collateral(WETH, borrower, sender=borrower)
    advance_time(devnet, suite.market.max_price_age() + 1)
    with reverts("oracle: stale price"):
        suite.market.borrow(100 * USDC, borrower, sender=borrower)
    refresh_prices()
    suite.market.borrow(100 * USDC, borrower, sender=borrower)


def test_delayed_price_takes_effect_after_the_hop(
    delayed_oracle: Contract, suite: Suite, keeper: str, devnet: Devnet, chain: Chain
) -> None:
    asset = suite.weth.address
    receipt = delayed_oracle.set_price.transact(asset, 2000 * WAD, sender=keeper)
    reported_at = chain.timestamp
    assert (
        next(e for e in receipt.events if e.name == "PriceReported")["effective_at"]
        == reported_at + HOP
    )
    assert delayed_oracle.latest(asset) == (0, 0)
    assert delayed_oracle.pending(asset) == (2000 * WAD, reported_at + HOP)
    with reverts("oracle: no price"):
        delayed_oracle.price(asset, 10**9)

    advance_time(devnet, HOP + 10)
    assert delayed_oracle.latest(asset) == (2000 * WAD, reported_at + HOP)
    assert delayed_oracle.pending(asset) == (0, 0)
    delayed_oracle.set_price(asset, 1800 * WAD, sender=keeper)
    second_at = chain.timestamp
    assert delayed_oracle.price(asset, 10**9) == 2000 * WAD  # the new one waits a hop
    advance_time(devnet, HOP + 10)
    assert delayed_oracle.latest(asset) == (1800 * WAD, second_at + HOP)


def test_delayed_second_report_within_the_hop_reverts(
    delayed_oracle: Contract, suite: Suite, keeper: str
) -> None:
    delayed_oracle.set_price(suite.weth.address, 2000 * WAD, sender=keeper)
    with reverts("oracle: hop not passed"):
        delayed_oracle.set_price(suite.weth.address, 2100 * WAD, sender=keeper)


def test_owner_sets_delay(suite: Suite, keeper: str, chain: Chain) -> None:
    suite.oracle.set_delay(60, sender=suite.deployer)
    suite.oracle.set_price(suite.weth.address, 1000 * WAD, sender=keeper)
    assert suite.oracle.pending(suite.weth.address) == (1000 * WAD, chain.timestamp + 60)
    assert suite.oracle.latest(suite.weth.address)[0] == 2000 * WAD


def test_non_owner_sets_delay_reverts(suite: Suite, attacker: str) -> None:
    with reverts("ownable: caller is not the owner"):
        suite.oracle.set_delay(60, sender=attacker)
