"""web3.py's sync conformance classes over HTTP (``HTTPProvider`` to a served devnet)."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3._utils.module_testing import EthModuleTest, NetModuleTest, Web3ModuleTest


@pytest.fixture
def w3(http_w3: Web3) -> Web3:
    """web3.py over HTTP to the module's served chain."""
    return http_w3


class TestHttpEth(EthModuleTest):
    pass


class TestHttpWeb3(Web3ModuleTest):
    def _check_web3_client_version(self, client_version: str) -> None:  # type: ignore[override]
        assert client_version.startswith("composability-testbed/")


class TestHttpNet(NetModuleTest):
    pass
