"""web3.py's own provider conformance suite (``web3._utils.module_testing``) on a devnet.

Wired like web3.py's ``tests/integration`` for eth-tester and geth: the same fixtures
(``math_contract``, ``emitter_contract``, ``keyfile_account_address``,
``block_with_txn``, ...) built on one devnet chain per test module, from web3.py's own
compiled contracts, through the chain's own JSON-RPC methods. The test classes run
unchanged through four transports: the in-process provider and HTTP (the sync classes),
async HTTP and WebSocket (the async classes). Every test runs inside a devnet snapshot
and is reverted after, so no test sees another's transactions.

Tests that do not pass are listed in :mod:`web3_gaps` (one table, one reason each) and
marked ``xfail(strict=True)``: a gap that closes turns the run red until its line goes.

The async classes mark their tests ``@pytest.mark.asyncio``; rather than depend on
pytest-asyncio, this conftest runs them itself: each test gets a fresh event loop
(:func:`event_loop`), the async providers connect on it, and :func:`pytest_pyfunc_call`
runs the coroutine to completion on it.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils import to_bytes
from eth_utils.toolz import identity
from web3 import AsyncWeb3, Web3
from web3._utils.contract_sources.contract_data._custom_contract_data import EMITTER_ENUM
from web3._utils.contract_sources.contract_data.emitter_contract import EMITTER_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.math_contract import MATH_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.offchain_lookup import OFFCHAIN_LOOKUP_DATA
from web3._utils.contract_sources.contract_data.panic_errors_contract import (
    PANIC_ERRORS_CONTRACT_DATA,
)
from web3._utils.contract_sources.contract_data.revert_contract import REVERT_CONTRACT_DATA
from web3._utils.contract_sources.contract_data.storage_contract import STORAGE_CONTRACT_DATA
from web3.types import BlockData
from web3_gaps import DESELECTED, GAPS, MANUAL_MINING, transport_of

from chains import Chain, Devnet, DevnetServer, RpcError

#: The keyfile account of web3.py's geth fixture (its tests sign with this key).
KEYFILE_ACCOUNT_PKEY = "0x58d23b55bc9cdce1f18c2500f40ff4ab7245df9a89505e9b1fa4851f623d241d"
KEYFILE_ACCOUNT_ADDRESS = "0xdC544d1AA88Ff8bbd2F2AeC754B1F1e99e1812fd"
#: The chain id of web3.py's geth fixture, which its tests assert and sign with.
GETH_FIXTURE_CHAIN_ID = 131277322940537

_CONTRACTS = {
    "math": MATH_CONTRACT_DATA,
    "emitter": EMITTER_CONTRACT_DATA,
    "revert": REVERT_CONTRACT_DATA,
    "offchain_lookup": OFFCHAIN_LOOKUP_DATA,
    "panic_errors": PANIC_ERRORS_CONTRACT_DATA,
    "storage": STORAGE_CONTRACT_DATA,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "asyncio: a coroutine test of web3.py's async classes (run by this conftest)"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test on the test's :func:`event_loop`."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    loop = pyfuncitem.funcargs.get("event_loop")
    if loop is None:
        loop = pyfuncitem._request.getfixturevalue("event_loop")
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    loop.run_until_complete(pyfuncitem.obj(**kwargs))
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests of :data:`web3_gaps.GAPS` ``xfail(strict=True)`` with their reason."""
    here = __file__.rsplit("/", 1)[0]
    kept, dropped = [], []
    for item in items:
        if not str(item.path).startswith(here):
            kept.append(item)
            continue
        transport = transport_of(item.path.stem)
        name = getattr(item, "originalname", item.name)
        keys = (f"{transport}:{item.name}", item.name, f"{transport}:{name}", name)
        if any(key in DESELECTED for key in keys):
            dropped.append(item)
            continue
        kept.append(item)
        for key in keys:
            reason = GAPS.get(key)
            if reason is not None:
                item.add_marker(pytest.mark.xfail(strict=True, reason=reason))
                break
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@dataclass
class Suite:
    """The module's devnet after the fixtures' set-up: contracts, blocks and hashes."""

    devnet: Devnet
    chain: Chain
    lock: Any
    server: DevnetServer | None
    addresses: dict[str, str]
    math_deploy_hash: bytes
    empty_block: BlockData
    block_with_txn: BlockData
    block_with_txn_with_log: BlockData


@pytest.fixture(scope="module")
def suite(request: pytest.FixtureRequest) -> Iterator[Suite]:
    """The module's devnet after set-up, served over HTTP/WebSocket unless the test
    module says ``SERVED = False``."""
    served = getattr(request.module, "SERVED", True)
    devnet = Devnet(n_chains=1, seed=15, chain_ids=[GETH_FIXTURE_CHAIN_ID])
    chain = devnet.chains[0]
    chain.add_account(KEYFILE_ACCOUNT_PKEY)
    w3 = chain.w3
    sender = w3.eth.default_account
    w3.eth.send_transaction({"from": sender, "to": KEYFILE_ACCOUNT_ADDRESS, "value": 10**18})
    addresses: dict[str, str] = {}
    math_hash = b""
    for name, data in _CONTRACTS.items():
        factory = w3.eth.contract(abi=data["abi"], bytecode=data["bytecode"])
        tx_hash = factory.constructor().transact({"from": sender})
        receipt = w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, name
        addresses[name] = receipt["contractAddress"]
        if name == "math":
            math_hash = bytes(tx_hash)
    txn_hash = w3.eth.send_transaction(
        {"from": sender, "to": sender, "value": 10**9, "gas": 21000, "gasPrice": 10**10}
    )
    with_txn = w3.eth.get_block(w3.eth.get_transaction(txn_hash)["blockNumber"])
    emitter = w3.eth.contract(address=addresses["emitter"], abi=EMITTER_CONTRACT_DATA["abi"])
    log_hash = emitter.functions.logDouble(
        which=EMITTER_ENUM["LogDoubleWithIndex"], arg0=12345, arg1=54321
    ).transact({"from": sender})
    with_log = w3.eth.get_block(w3.eth.get_transaction(log_hash)["blockNumber"])
    chain.mine()  # last, as web3.py's fixture: the latest block holds no logs
    empty = w3.eth.get_block("latest")
    if not served:
        yield Suite(
            devnet, chain, threading.RLock(), None, addresses, math_hash, empty, with_txn, with_log
        )
        return
    with DevnetServer(devnet, port=0).run_in_thread() as server:
        yield Suite(
            devnet, chain, server.lock, server, addresses, math_hash, empty, with_txn, with_log
        )


@pytest.fixture(autouse=True)
def _isolated(suite: Suite, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test runs in a devnet snapshot, reverted after it; the tests that need a
    transaction to stay pending run with automine off (``evm_setAutomine``), as
    web3.py's eth-tester wiring runs them."""
    rpc = suite.chain.rpc
    with suite.lock:
        snapshot = suite.devnet.snapshot()
        manual = getattr(request.node, "originalname", "") in MANUAL_MINING
        if manual:
            try:
                rpc.call("evm_setAutomine", [False])
            except RpcError:
                manual = False  # not served yet: the test runs automined (see web3_gaps.py)
    yield
    with suite.lock:
        if manual:
            rpc.call("evm_setAutomine", [True])
        suite.devnet.revert(snapshot)


# ----------------------------------------------------------------------------------------
# fixtures shared by the sync and async classes
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=[lambda x: to_bytes(hexstr=x), identity])
def address_conversion_func(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Addresses as hex strings and as bytes (web3.py's own parametrisation)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def request_mocker() -> Any:
    """web3.py's mock of outgoing HTTP requests (offchain lookups)."""
    # Imported here, not at the top: importing web3._utils.module_testing applies
    # @pytest.mark.asyncio, which exists only once pytest_configure below has run.
    from web3._utils.module_testing.utils import RequestMocker

    return RequestMocker


@pytest.fixture
def keyfile_account_pkey() -> str:
    """The key of the keyfile account (funded, and known to the chain)."""
    return KEYFILE_ACCOUNT_PKEY


@pytest.fixture
def keyfile_account_address() -> str:
    """The keyfile account: the chain holds its key, so eth_sendTransaction signs for it."""
    return KEYFILE_ACCOUNT_ADDRESS


@pytest.fixture
def keyfile_account_address_dual_type(keyfile_account_address: str) -> str:
    """The keyfile account (web3.py's fixture of that name)."""
    return keyfile_account_address


@pytest.fixture
def async_keyfile_account_address() -> str:
    """The keyfile account, for the async classes."""
    return KEYFILE_ACCOUNT_ADDRESS


@pytest.fixture
def async_keyfile_account_address_dual_type() -> str:
    """The keyfile account, for the async classes."""
    return KEYFILE_ACCOUNT_ADDRESS


@pytest.fixture
def skip_if_testrpc() -> Callable[[Any], None]:
    """web3.py skips some tests on its long-gone TestRPC backend; never here."""
    return lambda w3: None


@pytest.fixture
def async_skip_if_testrpc() -> Callable[[Any], None]:
    """As :func:`skip_if_testrpc`, for the async classes."""
    return lambda w3: None


@pytest.fixture
def empty_block(suite: Suite) -> BlockData:
    """A block without transactions."""
    return suite.empty_block


@pytest.fixture
def block_with_txn(suite: Suite) -> BlockData:
    """A block holding one self-transfer of 1 gwei."""
    return suite.block_with_txn


@pytest.fixture
def mined_txn_hash(block_with_txn: BlockData) -> Any:
    """The hash of the transaction in :func:`block_with_txn`."""
    return block_with_txn["transactions"][0]


@pytest.fixture
def block_with_txn_with_log(suite: Suite) -> BlockData:
    """A block holding one emitter call that logged LogDoubleWithIndex(12345, 54321)."""
    return suite.block_with_txn_with_log


@pytest.fixture
def txn_hash_with_log(block_with_txn_with_log: BlockData) -> Any:
    """The hash of the transaction in :func:`block_with_txn_with_log`."""
    return block_with_txn_with_log["transactions"][0]


@pytest.fixture
def async_empty_block(empty_block: BlockData) -> BlockData:
    """A block without transactions, for the async classes."""
    return empty_block


@pytest.fixture
def async_block_with_txn(block_with_txn: BlockData) -> BlockData:
    """:func:`block_with_txn`, for the async classes."""
    return block_with_txn


@pytest.fixture
def async_block_with_txn_with_log(block_with_txn_with_log: BlockData) -> BlockData:
    """:func:`block_with_txn_with_log`, for the async classes."""
    return block_with_txn_with_log


def _contract(w3: Any, suite: Suite, name: str) -> Any:
    data = _CONTRACTS[name]
    return w3.eth.contract(address=suite.addresses[name], abi=data["abi"])


@pytest.fixture
def math_contract_deploy_txn_hash(suite: Suite) -> bytes:
    """The hash of the math contract's deployment."""
    return suite.math_deploy_hash


@pytest.fixture
def math_contract(w3: Web3, suite: Suite) -> Any:
    """web3.py's math contract (counter, add, multiply7...)."""
    return _contract(w3, suite, "math")


@pytest.fixture
def math_contract_address(math_contract: Any, address_conversion_func: Any) -> Any:
    """The math contract's address, as a string and as bytes."""
    return address_conversion_func(math_contract.address)


@pytest.fixture
def emitter_contract(w3: Web3, suite: Suite) -> Any:
    """web3.py's emitter contract (every kind of event)."""
    return _contract(w3, suite, "emitter")


@pytest.fixture
def emitter_contract_address(emitter_contract: Any, address_conversion_func: Any) -> Any:
    """The emitter contract's address, as a string and as bytes."""
    return address_conversion_func(emitter_contract.address)


@pytest.fixture
def revert_contract(w3: Web3, suite: Suite) -> Any:
    """web3.py's revert contract (reverts with and without reasons, custom errors)."""
    return _contract(w3, suite, "revert")


@pytest.fixture
def offchain_lookup_contract(w3: Web3, suite: Suite) -> Any:
    """web3.py's EIP-3668 offchain lookup contract."""
    return _contract(w3, suite, "offchain_lookup")


@pytest.fixture
def panic_errors_contract(w3: Web3, suite: Suite) -> Any:
    """web3.py's contract that raises every Panic code."""
    return _contract(w3, suite, "panic_errors")


@pytest.fixture
def storage_contract(w3: Web3, suite: Suite) -> Any:
    """web3.py's storage-layout contract."""
    return _contract(w3, suite, "storage")


@pytest.fixture
def async_math_contract(async_w3: AsyncWeb3[Any], suite: Suite) -> Any:
    """The math contract, for the async classes."""
    return _contract(async_w3, suite, "math")


@pytest.fixture
def async_math_contract_address(async_math_contract: Any, address_conversion_func: Any) -> Any:
    """The math contract's address, for the async classes."""
    return address_conversion_func(async_math_contract.address)


@pytest.fixture
def async_emitter_contract(async_w3: AsyncWeb3[Any], suite: Suite) -> Any:
    """The emitter contract, for the async classes."""
    return _contract(async_w3, suite, "emitter")


@pytest.fixture
def async_emitter_contract_address(
    async_emitter_contract: Any, address_conversion_func: Any
) -> Any:
    """The emitter contract's address, for the async classes."""
    return address_conversion_func(async_emitter_contract.address)


@pytest.fixture
def async_revert_contract(async_w3: AsyncWeb3[Any], suite: Suite) -> Any:
    """The revert contract, for the async classes."""
    return _contract(async_w3, suite, "revert")


@pytest.fixture
def async_offchain_lookup_contract(async_w3: AsyncWeb3[Any], suite: Suite) -> Any:
    """The offchain lookup contract, for the async classes."""
    return _contract(async_w3, suite, "offchain_lookup")


@pytest.fixture
def async_panic_errors_contract(async_w3: AsyncWeb3[Any], suite: Suite) -> Any:
    """The panic errors contract, for the async classes."""
    return _contract(async_w3, suite, "panic_errors")


@pytest.fixture
def async_storage_contract(async_w3: AsyncWeb3[Any], suite: Suite) -> Any:
    """The storage contract, for the async classes."""
    return _contract(async_w3, suite, "storage")


# ----------------------------------------------------------------------------------------
# transports
# ----------------------------------------------------------------------------------------
@pytest.fixture
def http_w3(suite: Suite) -> Web3:
    """web3.py over HTTP to the served chain; dev account 0 is the default sender."""
    assert suite.server is not None
    w3 = Web3(Web3.HTTPProvider(suite.server.endpoints[0].url, request_kwargs={"timeout": 30}))
    w3.eth.default_account = suite.chain.default_sender  # type: ignore[assignment]
    return w3


@pytest.fixture
def event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A fresh event loop for one async test, closed after it."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


@pytest.fixture
def async_http_w3(suite: Suite, event_loop: asyncio.AbstractEventLoop) -> Iterator[AsyncWeb3[Any]]:
    """web3.py's AsyncHTTPProvider to the served chain."""
    assert suite.server is not None
    w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(suite.server.endpoints[0].url))
    w3.eth.default_account = suite.chain.default_sender  # type: ignore[assignment]
    yield w3
    event_loop.run_until_complete(w3.provider.disconnect())


@pytest.fixture
def websocket_w3(suite: Suite, event_loop: asyncio.AbstractEventLoop) -> Iterator[AsyncWeb3[Any]]:
    """web3.py's WebSocketProvider (a persistent connection) to the served chain."""
    assert suite.server is not None

    async def connect() -> AsyncWeb3[Any]:
        return await AsyncWeb3(AsyncWeb3.WebSocketProvider(suite.server.endpoints[0].ws_url))

    w3 = event_loop.run_until_complete(connect())
    w3.eth.default_account = suite.chain.default_sender  # type: ignore[assignment]
    yield w3
    event_loop.run_until_complete(w3.provider.disconnect())
