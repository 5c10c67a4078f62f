"""Fixtures for the bridge tests: one bridge deployment per session on a devnet of its own.

The bridge tests get a separate 3-chain devnet (seed 4) so the shared session devnet of
the other suites is left as it was; ``world`` runs every test inside ``anchor()`` on it,
so whatever a test does on any chain, and to the clock, is reverted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bridge_helpers import MAX_UINT256, USDC, Roles, World

from bridge import deploy_bridge
from bridge._deploy import CONTRACTS_DIR
from chains import Devnet

#: What the user starts with, per token.
USER_FUNDS = 1_000_000 * USDC


@pytest.fixture(scope="session")
def bridge_devnet() -> Devnet:
    """A 3-chain devnet (seed 4) used only by the bridge tests."""
    return Devnet(n_chains=3, seed=4)


@pytest.fixture(scope="session")
def session_world(bridge_devnet: Devnet) -> World:
    """Bridge deployed on all chains, USDC and a fee token native to A, target mocks."""
    a, b, c = bridge_devnet.chains
    roles = Roles(*(a.accounts[i].address for i in (0, 1, 2, 3, 6)))
    deployment = deploy_bridge(bridge_devnet)
    usdc = a.deploy(CONTRACTS_DIR / "Token.vy", "USD Coin", "USDC", 6, sender=roles.owner)
    wusdc = deployment.add_token(a, usdc)
    fee_token = a.deploy(CONTRACTS_DIR / "mocks" / "fee_on_transfer_token_mock.vy", 1_000)
    deployment.bridge(a).register_home_token(fee_token.address, sender=roles.owner)
    usdc.mint(roles.user, USER_FUNDS, sender=roles.owner)
    fee_token.mint(roles.user, USER_FUNDS)
    for token in (usdc, fee_token):
        token.approve(deployment.bridge(a).address, MAX_UINT256, sender=roles.user)
    targets = {
        chain.chain_id: chain.deploy(
            CONTRACTS_DIR / "mocks" / "message_target_mock.vy",
            deployment.messenger(chain).address,
        )
        for chain in (a, b, c)
    }
    return World(bridge_devnet, deployment, a, b, c, usdc, wusdc, fee_token, targets, roles)


@pytest.fixture
def world(session_world: World, bridge_devnet: Devnet) -> Iterator[World]:
    """The session's bridge world; every chain and the clock revert after the test."""
    with bridge_devnet.anchor():
        yield session_world
