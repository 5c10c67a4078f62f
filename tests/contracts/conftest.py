"""Fixtures for the contract tests: one suite per session, actors as roles.

The suite is deployed once on the session devnet's first chain (the chain the ``chain``
fixture hands out); every test that takes ``suite`` also takes ``chain``, so whatever it
does is reverted afterwards by the plugin's ``devnet.anchor()``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from contract_helpers import MAX_UINT256, USDC, WETH, Roles

from chains import Chain, Contract, Devnet
from scenarios import Suite, deploy_suite
from scenarios.world import CONTRACTS_DIR

# what every role starts with
ROLE_USDC = 10_000_000 * USDC
ROLE_WETH = 10_000 * WETH

ROLE_INDEX = {
    "trader": 1,
    "lp": 2,
    "borrower": 3,
    "liquidator": 4,
    "keeper": 5,
    "attacker": 6,
    "supplier": 7,
}


def contract_path(name: str) -> Path:
    """Path of a Vyper source under ``contracts/`` (``"mocks/flash_borrower_mock"``)."""
    return CONTRACTS_DIR / f"{name}.vy"


@pytest.fixture(scope="session")
def session_suite(testbed_session_devnet: Devnet) -> Suite:
    """The suite deployed once on the session devnet's first chain, roles funded."""
    chain = testbed_session_devnet.chains[0]
    suite = deploy_suite(chain)
    roles = _roles(chain)
    suite.oracle.set_keeper(roles.keeper, True, sender=suite.deployer)
    spenders = (suite.router, suite.market, suite.vault, suite.composer)
    for role in ROLE_INDEX:
        address = getattr(roles, role)
        suite.fund(address, usdc=ROLE_USDC, weth=ROLE_WETH)
        if role == "attacker":
            continue  # the attacker grants nothing
        for token in (suite.usdc, suite.weth, suite.dai):
            for spender in spenders:
                token.approve(spender.address, MAX_UINT256, sender=address)
    return suite


@pytest.fixture
def suite(session_suite: Suite, chain: Chain) -> Suite:
    """The session's suite; everything a test does to it is reverted afterwards."""
    assert session_suite.chain is chain
    return session_suite


@pytest.fixture(scope="session")
def roles(testbed_session_devnet: Devnet) -> Roles:
    """The actors' addresses by role (deployer is the suite's owner)."""
    return _roles(testbed_session_devnet.chains[0])


@pytest.fixture
def trader(roles: Roles) -> str:
    """Swaps on the AMM (funded, approvals granted)."""
    return roles.trader


@pytest.fixture
def lp(roles: Roles) -> str:
    """Provides AMM liquidity (funded, approvals granted)."""
    return roles.lp


@pytest.fixture
def borrower(roles: Roles) -> str:
    """Borrows on the market and the vault (funded, approvals granted)."""
    return roles.borrower


@pytest.fixture
def liquidator(roles: Roles) -> str:
    """Liquidates unhealthy positions (funded, approvals granted)."""
    return roles.liquidator


@pytest.fixture
def keeper(roles: Roles) -> str:
    """Reports oracle prices (an appointed keeper)."""
    return roles.keeper


@pytest.fixture
def attacker(roles: Roles) -> str:
    """Tries what should fail (funded, no approvals)."""
    return roles.attacker


@pytest.fixture
def supplier(roles: Roles) -> str:
    """Lends USDC on the market (funded, approvals granted)."""
    return roles.supplier


@pytest.fixture
def deploy(chain: Chain) -> Callable[..., Contract]:
    """Deploy a contract from ``contracts/`` by name: ``deploy("mocks/flash_borrower_mock")``."""

    def _deploy(name: str, *args: Any, sender: str | None = None) -> Contract:
        return chain.deploy(contract_path(name), *args, sender=sender)

    return _deploy


@pytest.fixture
def refresh_prices(suite: Suite, keeper: str) -> Callable[[], None]:
    """Report the current prices again (after moving time past the staleness bound)."""

    def _refresh() -> None:
        for token in (suite.usdc, suite.weth, suite.dai):
            price, _ = suite.oracle.latest(token.address)
            suite.oracle.set_price(token.address, price, sender=keeper)

    return _refresh


def _roles(chain: Chain) -> Roles:
    accounts = chain.accounts
    return Roles(
        deployer=chain.default_sender,
        **{role: accounts[index].address for role, index in ROLE_INDEX.items()},
    )
