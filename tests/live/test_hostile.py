"""A hostile client against a live server: endless calls, invalid transactions, slow or
greedy connections, fuzzed bodies. Nothing may freeze another chain, answer -32603,
leak a Python repr or log a traceback.

No assertion is about speed: "the other chain answers while the endless call still
runs" is checked by holding the state (the call's chain lock is still taken after the
other chain answered), and every wait is bounded so a hang fails instead of blocking.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st
from live_helpers import post
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chains import Devnet, DevnetServer

#: JUMPDEST PUSH1 0 JUMP: init code that loops until it runs out of gas or time.
ENDLESS = "0x5b600056"
#: The same loop with a STATICCALL to the identity precompile in each turn: ~146 gas a
#: turn but a call frame each, so 30M gas lasts seconds where ``ENDLESS`` spends it in
#: well under one. For tests that need the call still running while they probe.
SLOW_ENDLESS = "0x5b" + "6000" * 4 + "6004" + "5afa50" + "600056"
GAS_LIMITS = [None, hex(30_000_000), hex(2**63 - 1)]
#: A Python bytes repr leaking into a message: ``b'\x17\x88...'``.
BYTES_REPR = re.compile(r"""b['"]\\x""")


def rpc_body(method: str, *params: Any, request_id: int = 1) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def reply(port: int, method: str, *params: Any) -> dict[str, Any]:
    answer = post(port, rpc_body(method, *params))
    assert answer.status == 200, answer
    out: dict[str, Any] = answer.json()
    return out


def wait_until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until true; a bound against hangs, not a speed requirement."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class Tracebacks(logging.Handler):
    """Collects every log record that carries a traceback or is an error."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.levelno >= logging.ERROR:
            self.records.append(record)

    def text(self) -> str:
        """The records with their tracebacks, for an assertion's message."""
        formatter = logging.Formatter("%(threadName)s %(name)s: %(message)s")
        return "\n".join(formatter.format(r) for r in self.records)


@pytest.fixture
def tracebacks() -> Iterator[Tracebacks]:
    """Every traceback or error logged during the test (chains and uvicorn loggers)."""
    handler = Tracebacks()
    loggers = [logging.getLogger(n) for n in ("chains", "uvicorn", "uvicorn.error")]
    for log in loggers:
        log.addHandler(handler)
    yield handler
    for log in loggers:
        log.removeHandler(handler)


def is_held(lock: Any) -> bool:
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True


# ----------------------------------------------------------------------------------------
# endless calls
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("gas", GAS_LIMITS, ids=["no-gas", "30M", "2^63-1"])
def test_endless_call_leaves_the_other_chain_free(gas: str | None) -> None:
    # A call timeout far beyond the test: only the shutdown ends the endless call. The
    # plain loop spends 30M gas in ~0.5 s on a fast machine, less than the probes below
    # may take, so the loop here makes a call frame each turn.
    devnet = Devnet(n_chains=2, real_time=True, call_timeout=600)
    server = DevnetServer(devnet, port=0)
    answers: list[dict[str, Any]] = []
    with server.run_in_thread():
        a, b = (e.port for e in server.endpoints)
        tx: dict[str, Any] = {"data": SLOW_ENDLESS}
        if gas is not None:
            tx["gas"] = gas
        looping = threading.Thread(target=lambda: answers.append(reply(a, "eth_call", tx)))
        looping.start()
        wait_until(lambda: is_held(server.chain_locks[0]), "the endless call to start")
        for i in range(5):
            assert reply(b, "eth_blockNumber")["result"] == "0x0"
            assert reply(b, "eth_chainId")["result"] == hex(31338), i
        assert looping.is_alive() and is_held(server.chain_locks[0])  # still running
        # Cross-chain work waits for the busy chain without holding the free one.
        assert not server.lock.acquire(timeout=0.05)
        assert not is_held(server.chain_locks[1])
        assert reply(b, "eth_blockNumber")["result"] == "0x0"
    looping.join(30)
    assert not looping.is_alive()
    # The shutdown aborted it: a clear error for the caller, not a hang.
    assert answers[0]["error"] == {
        "code": -32000,
        "message": "execution aborted: the server is shutting down",
    }


@pytest.mark.parametrize("gas", GAS_LIMITS, ids=["no-gas", "30M", "2^63-1"])
def test_endless_call_hits_the_call_timeout(gas: str | None) -> None:
    # A call frame per turn: the estimate's 2^24 gas cap and eth_call's 30M last seconds,
    # so the timeout, far below them, is what ends both.
    devnet = Devnet(n_chains=1, real_time=True, call_timeout=0.05)
    with DevnetServer(devnet, port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        tx: dict[str, Any] = {"data": SLOW_ENDLESS}
        if gas is not None:
            tx["gas"] = gas
        for method in ("eth_call", "eth_estimateGas"):
            answer = reply(port, method, tx)
            assert answer["error"] == {
                "code": -32000,
                "message": "execution aborted (timeout = 0.05s)",
            }, method
        # the chain goes on
        assert reply(port, "eth_call", {"data": "0x600160005260206000f3"})["result"].endswith("1")


def test_batch_of_endless_calls_times_out_each() -> None:
    devnet = Devnet(n_chains=1, real_time=True, call_timeout=0.2, rpc_gas_cap=2**40)
    with DevnetServer(devnet, port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        batch = [
            {"jsonrpc": "2.0", "id": i, "method": "eth_call", "params": [{"data": ENDLESS}]}
            for i in range(3)
        ]
        answer = post(port, json.dumps(batch))
        assert [r["error"]["message"] for r in answer.json()] == [
            "execution aborted (timeout = 0.2s)"
        ] * 3


def test_gas_cap_lowers_the_call_gas() -> None:
    devnet = Devnet(n_chains=1, real_time=True, rpc_gas_cap=100_000)
    with DevnetServer(devnet, port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        # GAS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN: returns the gas left at the start
        code = "0x5a60005260206000f3"
        left = int(reply(port, "eth_call", {"data": code, "gas": hex(10**9)})["result"], 16)
        assert 0 < left < 100_000


# ----------------------------------------------------------------------------------------
# invalid transactions: geth's words, no reprs
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tx_server() -> Iterator[DevnetServer]:
    """One single-chain server for the transaction checks."""
    with DevnetServer(Devnet(n_chains=1, real_time=True), port=0).run_in_thread() as server:
        yield server


def signed(account: LocalAccount | Any, **fields: Any) -> str:
    tx = {
        "chainId": 31337,
        "nonce": 0,
        "to": "0x" + "11" * 20,
        "value": 1,
        "gas": 21_000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9,
        "type": 2,
        **fields,
    }
    return "0x" + account.sign_transaction(tx).raw_transaction.hex()


@pytest.mark.parametrize(
    ("fields", "is_poor", "words"),
    [
        pytest.param(
            {"maxPriorityFeePerGas": 2 * 10**10},
            False,
            "max priority fee per gas higher than max fee per gas",
            id="tip-above-fee-cap",
        ),
        pytest.param({"gas": 20_000}, False, "intrinsic gas too low", id="intrinsic-gas"),
        pytest.param({}, True, "insufficient funds for gas * price + value", id="no-funds"),
        pytest.param(
            {"value": 10**30}, False, "insufficient funds for gas * price + value", id="value"
        ),
    ],
)
def test_invalid_transactions_get_geths_words(
    tx_server: DevnetServer, fields: dict[str, Any], is_poor: bool, words: str
) -> None:
    chain = tx_server.devnet.chains[0]
    account = Account.create() if is_poor else Account.from_key(bytes(chain.accounts[3].key))
    port = tx_server.endpoints[0].port
    error = reply(port, "eth_sendRawTransaction", signed(account, **fields))["error"]
    assert error["code"] == -32000
    assert error["message"].startswith(words), error
    assert not BYTES_REPR.search(error["message"]), error
    if "address" in error["message"]:
        assert account.address in error["message"]  # checksummed hex


@pytest.mark.parametrize("type_byte", [0x05, 0x10, 0x7F])
def test_unknown_transaction_type_is_a_clear_error(
    tx_server: DevnetServer, tracebacks: Tracebacks, type_byte: int
) -> None:
    raw = "0x" + bytes([type_byte]).hex() + "c0"
    error = reply(tx_server.endpoints[0].port, "eth_sendRawTransaction", raw)["error"]
    assert error["code"] == -32000
    assert error["message"].startswith(f"transaction type not supported: 0x{type_byte:02x}")
    assert tracebacks.records == []


def test_unknown_method_name_is_not_echoed_in_full(tx_server: DevnetServer) -> None:
    name = "x" * 1_000_000
    error = reply(tx_server.endpoints[0].port, name)["error"]
    assert error["code"] == -32601
    assert len(error["message"]) < 200 and "1000000 characters" in error["message"]


# ----------------------------------------------------------------------------------------
# connections
# ----------------------------------------------------------------------------------------
def test_slow_headers_get_408_and_the_connection_closed() -> None:
    server = DevnetServer(Devnet(n_chains=1, real_time=True), port=0, header_timeout=0.3)
    with server.run_in_thread():
        with socket.create_connection(("127.0.0.1", server.endpoints[0].port), 30) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-")  # and nothing more
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
        assert data.startswith(b"HTTP/1.1 408")
        # the server still answers others
        assert reply(server.endpoints[0].port, "eth_chainId")["result"] == "0x7a69"


def test_slow_body_gets_408() -> None:
    server = DevnetServer(Devnet(n_chains=1, real_time=True), port=0, body_timeout=0.3)
    with server.run_in_thread():
        with socket.create_connection(("127.0.0.1", server.endpoints[0].port), 30) as sock:
            sock.sendall(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{"
            )
            data = b""
            while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        assert data.startswith(b"HTTP/1.1 408")
        assert b"-32600" in data


def test_client_disconnect_mid_body_is_one_quiet_line(
    tracebacks: Tracebacks, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chains.rpc._server")
    with DevnetServer(Devnet(n_chains=1, real_time=True), port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        with socket.create_connection(("127.0.0.1", port), 30) as sock:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b'{"js')
        wait_until(
            lambda: any("disconnected before" in r.getMessage() for r in caplog.records),
            "the disconnect to be logged",
        )
        assert reply(port, "eth_chainId")["result"] == "0x7a69"
    assert tracebacks.records == []


def test_bad_utf8_over_websocket_is_one_quiet_line(tracebacks: Tracebacks) -> None:
    with DevnetServer(Devnet(n_chains=1, real_time=True), port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        with socket.create_connection(("127.0.0.1", port), 30) as sock:
            sock.sendall(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(4096)
            assert data.startswith(b"HTTP/1.1 101")
            payload, mask = b"\xff\xfe{}", b"\x01\x02\x03\x04"
            masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
            sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)  # a text frame
            close = sock.recv(4096)
        assert close[:1] == b"\x88" and close[2:4] == (1007).to_bytes(2, "big")
        assert reply(port, "eth_chainId")["result"] == "0x7a69"
    assert tracebacks.records == []


def test_http_connections_beyond_the_limit_get_503() -> None:
    server = DevnetServer(Devnet(n_chains=1, real_time=True), port=0, max_connections=2)
    with server.run_in_thread():
        port = server.endpoints[0].port
        idle = [socket.create_connection(("127.0.0.1", port), 30) for _ in range(2)]
        try:  # once the server has registered both idle connections, a third gets 503
            wait_until(lambda: post(port, rpc_body("eth_chainId")).status == 503, "a 503")
        finally:
            for sock in idle:
                sock.close()
        wait_until(lambda: post(port, rpc_body("eth_chainId")).status == 200, "room again")


def test_websocket_connections_beyond_the_limit_are_closed_with_1013() -> None:
    server = DevnetServer(Devnet(n_chains=1, real_time=True), port=0, max_ws_connections=2)
    with server.run_in_thread():
        url = server.endpoints[0].ws_url
        with connect(url) as first, connect(url) as second:
            with connect(url) as third:
                with pytest.raises(Exception) as closed:
                    third.recv(timeout=30)
                assert third.close_code == 1013, closed.value
            for ws in (first, second):
                ws.send(rpc_body("eth_chainId"))
                assert json.loads(ws.recv(timeout=30))["result"] == "0x7a69"
        # The slots come back once the server has finished with the closed sockets, which
        # may be a moment after the clients saw their close handshakes complete.
        for _attempt in range(100):
            with connect(url) as again:
                try:
                    again.send(rpc_body("eth_chainId"))
                    answer = json.loads(again.recv(timeout=30))
                except ConnectionClosed:
                    assert again.close_code == 1013
                    time.sleep(0.1)
                    continue
                assert answer["result"] == "0x7a69"
                break
        else:
            raise AssertionError("the WebSocket slots never came back")


def test_websocket_client_that_never_reads_is_dropped_with_1008(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import chains.rpc._server as server_module

    monkeypatch.setattr(server_module, "MAX_QUEUED", 8)
    with DevnetServer(Devnet(n_chains=1, real_time=True), port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # small kernel buffers
        sock.connect(("127.0.0.1", port))
        with connect(server.endpoints[0].ws_url, sock=sock, max_queue=1) as ws:
            ws.send(rpc_body("eth_subscribe", "newHeads"))
            assert "result" in json.loads(ws.recv(timeout=30))
            # ~1 MB of notifications while the client reads nothing
            assert reply(port, "anvil_mine", hex(1500))["result"] is None
            received = 0
            quiet = 0  # reads that timed out: a loaded machine is slow, not a closed socket
            with pytest.raises(ConnectionClosed):
                while quiet < 10:
                    try:
                        ws.recv(timeout=30)
                    except TimeoutError:
                        quiet += 1
                        continue
                    received += 1
            assert ws.close_code == 1008
            assert ws.close_reason == "too many undelivered notifications"
            assert received < 1500
        assert reply(port, "eth_blockNumber")["result"] == hex(1500)


# ----------------------------------------------------------------------------------------
# fuzzed bodies: never -32603, never a traceback
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_server() -> Iterator[tuple[int, Tracebacks]]:
    """One server for every example, with a short call timeout, and its traceback log."""
    handler = Tracebacks()
    loggers = [logging.getLogger(n) for n in ("chains", "uvicorn", "uvicorn.error")]
    for log in loggers:
        log.addHandler(handler)
    devnet = Devnet(n_chains=1, real_time=True, call_timeout=0.2)
    try:
        with DevnetServer(devnet, port=0).run_in_thread() as server:
            yield server.endpoints[0].port, handler
    finally:
        for log in loggers:
            log.removeHandler(handler)


scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
hexes = st.binary(max_size=40).map(lambda b: "0x" + b.hex())
quantities = st.integers(min_value=-1, max_value=2**70).map(hex) | scalars
tx_objects = st.fixed_dictionaries(
    {},
    optional={
        "from": hexes | scalars,
        "to": hexes | scalars,
        "gas": quantities,
        "gasPrice": quantities,
        "maxFeePerGas": quantities,
        "maxPriorityFeePerGas": quantities,
        "value": quantities,
        "data": st.sampled_from([ENDLESS, "0x", "0xfe", "0x6000ff"]) | hexes,
        "input": hexes,
        "nonce": quantities,
        "type": st.sampled_from(["0x0", "0x1", "0x2", "0x3", "0x4", "0x7f"]) | scalars,
        "chainId": quantities,
        "accessList": st.lists(scalars, max_size=2),
    },
)
raw_txs = st.binary(max_size=120).map(lambda b: "0x" + b.hex()) | st.builds(
    lambda t, body: "0x" + bytes([t]).hex() + body.hex(),
    st.integers(0, 0x7F),
    st.binary(max_size=60),
)
calls = st.one_of(
    st.tuples(st.sampled_from(["eth_call", "eth_estimateGas", "eth_sendTransaction"]), tx_objects),
    st.tuples(st.just("eth_sendRawTransaction"), raw_txs),
    st.tuples(
        st.sampled_from(["eth_getBalance", "eth_getCode", "eth_getBlockByNumber", "evm_mine"]),
        scalars | hexes,
    ),
    st.tuples(st.text(max_size=30), scalars),
)
requests = calls.map(
    lambda c: json.dumps({"jsonrpc": "2.0", "id": 1, "method": c[0], "params": [c[1]]}).encode()
)
bodies = st.one_of(
    requests,
    st.lists(requests, min_size=1, max_size=4).map(
        lambda rs: b"[" + b",".join(rs) + b"]"  # a batch
    ),
    st.binary(max_size=200),
)


@settings(max_examples=150, deadline=None)
@given(body=bodies)
def test_fuzzed_requests_never_answer_internal_error(
    fuzz_server: tuple[int, Tracebacks], body: bytes
) -> None:
    port, handler = fuzz_server
    answer = post(port, body)
    assert answer.status in (200, 413), answer
    if answer.body:
        out = answer.json()
        for item in out if isinstance(out, list) else [out]:
            if "error" in item:
                assert item["error"]["code"] != -32603, f"{item}\n{handler.text()}"
                assert not BYTES_REPR.search(item["error"]["message"]), item
    assert handler.records == [], handler.text()


@pytest.mark.parametrize("tracer", [{}, {"tracer": "callTracer"}], ids=["struct", "call"])
def test_endless_traced_call_hits_the_call_timeout(tracer: dict[str, Any]) -> None:
    # The struct logger would record an endless loop's steps until memory ran out; a traced
    # call is bounded like eth_call: the gas cap and the wall-clock timeout.
    devnet = Devnet(n_chains=1, real_time=True, call_timeout=0.3, rpc_gas_cap=2**40)
    with DevnetServer(devnet, port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        tx = {"data": ENDLESS, "gas": hex(2**63 - 1)}
        answer = reply(port, "debug_traceCall", tx, "latest", tracer)
        assert answer["error"]["code"] == -32000
        assert answer["error"]["message"] == "execution aborted (timeout = 0.3s)"
        assert reply(port, "eth_call", {"data": "0x600160005260206000f3"})["result"].endswith("1")
