"""Fixtures for the live devnet tests: real servers on free loopback ports, real clients.

Every server fixture starts a real :class:`chains.DevnetServer` (uvicorn in a background
thread, one event loop) on ports the OS picks, and shuts it down cleanly after the test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount

from chains import Devnet, DevnetServer


@pytest.fixture
def live_devnet() -> Devnet:
    """A 2-chain devnet on a real-time clock (automine), as ``testbed up`` builds it."""
    return Devnet(n_chains=2, seed=11, real_time=True)


@pytest.fixture
def server(live_devnet: Devnet) -> Iterator[DevnetServer]:
    """The devnet served on free loopback ports for the test, shut down after it."""
    with DevnetServer(live_devnet, port=0).run_in_thread() as running:
        yield running


@pytest.fixture
def port(server: DevnetServer) -> int:
    """The first chain's HTTP/WebSocket port."""
    return server.endpoints[0].port


@pytest.fixture
def deployer(live_devnet: Devnet) -> LocalAccount:
    """Role: dev account 0, which deploys contracts."""
    return live_devnet.chains[0].accounts[0]


@pytest.fixture
def trader(live_devnet: Devnet) -> LocalAccount:
    """Role: dev account 1, which transacts with deployed contracts."""
    return live_devnet.chains[0].accounts[1]
