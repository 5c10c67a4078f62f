"""Fixtures shared by the JSON-RPC and conformance tests: roles and the Probe contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from chains import Chain, Contract, RpcMethods

PROBE = Path(__file__).parent / "contracts" / "Probe.vy"


@pytest.fixture
def rpc(chain: Chain) -> RpcMethods:
    """The JSON-RPC method table of the first chain."""
    return chain.rpc


@pytest.fixture
def deployer(chain: Chain) -> LocalAccount:
    """Role: dev account 0, the chain's default sender, which deploys contracts."""
    return chain.accounts[0]


@pytest.fixture
def trader(chain: Chain) -> LocalAccount:
    """Role: dev account 1, which transacts with deployed contracts."""
    return chain.accounts[1]


@pytest.fixture
def recipient(chain: Chain) -> LocalAccount:
    """Role: dev account 2, which receives value transfers."""
    return chain.accounts[2]


@pytest.fixture
def outsider() -> LocalAccount:
    """Role: a fixed account the chain has no key for (impersonation, unfunded sender)."""
    return Account.from_key(b"\x42" * 32)


@pytest.fixture
def probe(chain: Chain) -> Contract:
    """A Probe contract with ``stored == 7``, deployed natively by the deployer."""
    return chain.deploy(PROBE, 7)
