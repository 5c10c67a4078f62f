"""web3.py's async conformance classes over HTTP (``AsyncHTTPProvider``)."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import AsyncWeb3, Web3
from web3._utils.module_testing import AsyncEthModuleTest, AsyncNetModuleTest
from web3._utils.module_testing.web3_module import AsyncWeb3ModuleTest

#: web3.py's batch tests add coroutines to a batch and then clear or cancel it: those are
#: never awaited, by the tests' design, and Python warns when they are collected.
pytestmark = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")


@pytest.fixture
def async_w3(async_http_w3: AsyncWeb3[Any]) -> AsyncWeb3[Any]:
    """web3.py's AsyncHTTPProvider to the module's served chain."""
    return async_http_w3


@pytest.fixture
def w3(http_w3: Web3) -> Web3:
    """The sync tests AsyncWeb3ModuleTest inherits run on sync HTTP, as in web3.py's own
    async integration modules."""
    return http_w3


class TestAsyncHttpEth(AsyncEthModuleTest):
    pass


class TestAsyncHttpWeb3(AsyncWeb3ModuleTest):
    def _check_web3_client_version(self, client_version: str) -> None:  # type: ignore[override]
        assert client_version.startswith("composability-testbed/")


class TestAsyncHttpNet(AsyncNetModuleTest):
    pass
