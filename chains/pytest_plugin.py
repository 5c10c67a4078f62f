"""pytest plugin: ``devnet`` and ``chain`` fixtures, each test isolated by reverting.

Loaded automatically through the ``pytest11`` entry point once the package is installed.
One devnet is built per session (genesis and compilation are paid once); every test
runs inside ``devnet.anchor()``, so whatever it does to any chain or to the clock is
reverted afterwards — all chains at once, not only the first.

Options: ``--testbed-chains N`` (default 3) and ``--testbed-seed K`` (default 0).

A test that fails with an uncaught :class:`~chains.TransactionReverted` gets a "call
trace" section in its report: the failed execution's call tree with decoded names
(:mod:`chains.trace`), computed only then.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import pytest

from chains._chain import Chain
from chains._devnet import Devnet
from chains._errors import ChainError, TransactionReverted


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("testbed", "composability-testbed devnet")
    group.addoption(
        "--testbed-chains", type=int, default=3, help="chains in the session devnet (default 3)"
    )
    group.addoption(
        "--testbed-seed", type=int, default=0, help="seed of the session devnet (default 0)"
    )


@pytest.fixture(scope="session")
def testbed_session_devnet(request: pytest.FixtureRequest) -> Devnet:
    """The session's Devnet, built once; use ``devnet`` in tests, which isolates each one."""
    n_chains = request.config.getoption("--testbed-chains")
    seed = request.config.getoption("--testbed-seed")
    return Devnet(n_chains=n_chains, seed=seed)


@pytest.fixture
def devnet(testbed_session_devnet: Devnet) -> Iterator[Devnet]:
    """A multi-chain Devnet (3 chains, seed 0); every chain and the clock revert after the test."""
    with testbed_session_devnet.anchor():
        yield testbed_session_devnet


@pytest.fixture
def chain(devnet: Devnet) -> Chain:
    """The devnet's first chain (id 31337), reverted with the rest after the test."""
    return devnet.chains[0]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Add the call trace of an uncaught revert to the failing test's report."""
    outcome = yield
    report = outcome.get_result()
    error = call.excinfo.value if call.excinfo is not None else None
    if report.failed and isinstance(error, TransactionReverted) and error.explain is not None:
        try:
            text = error.format_trace()
        except ChainError as exc:  # the chain moved on (reverted, reset) since the failure
            text = f"(call trace unavailable: {exc})"
        report.sections.append(("call trace", text))
