"""web3.py's sync conformance classes through the in-process provider (``chain.w3``)."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3
from web3._utils.module_testing import EthModuleTest, NetModuleTest, Web3ModuleTest

from chains.rpc import InProcessProvider

SERVED = False  # the provider calls the method table directly


@pytest.fixture
def w3(suite: Any) -> Web3:
    """A web3.py Web3 on the in-process provider; dev account 0 is the default sender."""
    w3 = Web3(InProcessProvider(suite.chain.rpc))
    w3.eth.default_account = suite.chain.default_sender
    return w3


class TestInProcessEth(EthModuleTest):
    pass


class TestInProcessWeb3(Web3ModuleTest):
    def _check_web3_client_version(self, client_version: str) -> None:  # type: ignore[override]
        assert client_version.startswith("composability-testbed/")


class TestInProcessNet(NetModuleTest):
    pass
