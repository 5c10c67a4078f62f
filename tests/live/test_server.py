"""The server's transport rules over raw HTTP and raw WebSocket frames: every error code,
body limits, batches, notifications, CORS, health, extra methods."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from live_helpers import call, post
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from chains import ConfigError, Devnet, DevnetServer, RpcError
from chains.rpc import MAX_BODY


def rpc_body(method: str, *params: Any, id: Any = 1) -> str:
    return json.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": list(params)})


def error_of(port: int, body: bytes | str) -> dict[str, Any]:
    answer = post(port, body)
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    reply = answer.json()
    assert reply["jsonrpc"] == "2.0" and "result" not in reply, reply
    return dict(reply["error"])


def test_health_text(port: int) -> None:
    answer = post(port, b"", method="GET")
    assert answer.status == 200
    assert answer.body == b"composability-testbed JSON-RPC: chain A (id 31337)\n"


def test_each_chain_on_its_own_port(server: DevnetServer) -> None:
    ids = [call(e.port, "eth_chainId") for e in server.endpoints]
    assert ids == ["0x7a69", "0x7a6a"]
    assert all(e.host == "127.0.0.1" for e in server.endpoints)


def test_parse_error(port: int) -> None:
    error = error_of(port, b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert error["code"] == -32700
    assert error["message"].startswith("parse error")


def test_invalid_request(port: int) -> None:
    error = error_of(port, json.dumps({"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}))
    assert error == {"code": -32600, "message": 'invalid request: "jsonrpc" must be "2.0"'}


def test_unknown_method(port: int) -> None:
    error = error_of(port, rpc_body("eth_nope"))
    assert error["code"] == -32601
    assert "eth_nope" in error["message"]


def test_invalid_params(port: int) -> None:
    error = error_of(port, rpc_body("eth_getBalance", "0x1234"))
    assert error["code"] == -32602
    assert "address" in error["message"]


def test_execution_reverted_carries_the_revert_data(port: int, live_devnet: Devnet) -> None:
    chain = live_devnet.chains[0]
    # runtime code: REVERT with the 4 bytes 0xdeadbeef as data
    # PUSH4 deadbeef PUSH1 0 MSTORE PUSH1 4 PUSH1 28 REVERT
    runtime = bytes.fromhex("63deadbeef6000526004601cfd")
    call(port, "anvil_setCode", "0x" + "ab" * 20, "0x" + runtime.hex())
    assert chain.get_code("0x" + "ab" * 20) == runtime
    error = error_of(port, rpc_body("eth_call", {"to": "0x" + "ab" * 20, "data": "0x"}))
    assert error == {"code": 3, "message": "execution reverted", "data": "0xdeadbeef"}


def test_subscribe_needs_a_websocket(port: int) -> None:
    error = error_of(port, rpc_body("eth_subscribe", "newHeads"))
    assert error["code"] == -32601
    assert "WebSocket" in error["message"]


def test_oversized_body_is_refused_with_413(port: int) -> None:
    body = b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["' + b"a" * MAX_BODY + b'"]}'
    answer = post(port, body)
    assert answer.status == 413
    error = answer.json()["error"]
    assert error["code"] == -32600
    assert str(MAX_BODY) in error["message"]
    assert call(port, "eth_chainId") == "0x7a69"  # the server carries on


def test_batch_mixes_results_errors_and_notifications(port: int) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "eth_chainId"},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_nope"},
        {"jsonrpc": "2.0", "method": "eth_chainId"},  # a notification: no answer
        42,
        {"jsonrpc": "2.0", "id": 3, "method": "eth_getBalance", "params": ["0x12"]},
    ]
    reply = post(port, json.dumps(batch)).json()
    assert [r["id"] for r in reply] == ["a", 2, None, 3]
    assert reply[0]["result"] == "0x7a69"
    assert [r.get("error", {}).get("code") for r in reply] == [None, -32601, -32600, -32602]


def test_empty_and_oversized_batches(port: int) -> None:
    assert error_of(port, "[]")["code"] == -32600
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(1001)]
    error = error_of(port, json.dumps(batch))
    assert error["code"] == -32600 and "1001" in error["message"]


def test_notification_gets_an_empty_body(port: int) -> None:
    answer = post(port, json.dumps({"jsonrpc": "2.0", "method": "eth_chainId"}))
    assert (answer.status, answer.body) == (200, b"")


def test_other_http_methods_are_not_allowed(port: int) -> None:
    assert post(port, b"{}", method="PUT").status == 405


def test_cors_preflight_and_response_headers(port: int) -> None:
    preflight = post(
        port,
        b"",
        method="OPTIONS",
        headers={
            "Origin": "https://wallet.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status == 200
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://wallet.example")
    assert "POST" in preflight.headers["access-control-allow-methods"]
    answer = post(port, rpc_body("eth_chainId"), headers={"Origin": "https://wallet.example"})
    assert answer.headers["access-control-allow-origin"] == "*"


def test_extra_methods_are_served_on_every_chain(live_devnet: Devnet) -> None:
    calls: list[Any] = []

    def admin_echo(value: Any) -> Any:
        calls.append(value)
        if value == "bad":
            raise RpcError(-32602, "invalid params: value is bad")
        return {"echo": value}

    with DevnetServer(live_devnet, port=0, methods={"admin_echo": admin_echo}).run_in_thread() as s:
        assert [call(e.port, "admin_echo", i) for i, e in enumerate(s.endpoints)] == [
            {"echo": 0},
            {"echo": 1},
        ]
        assert error_of(s.endpoints[0].port, rpc_body("admin_echo", "bad"))["code"] == -32602
        assert error_of(s.endpoints[0].port, rpc_body("admin_echo"))["code"] == -32602
    assert calls == [0, 1, "bad"]


def test_taken_port_is_a_clear_error(server: DevnetServer, live_devnet: Devnet) -> None:
    taken = server.endpoints[0].port
    with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{taken} for chain A"):
        DevnetServer(live_devnet, port=taken).bind()


# ----------------------------------------------------------------------------------------
# raw WebSocket
# ----------------------------------------------------------------------------------------
@pytest.fixture
def ws(server: DevnetServer) -> Iterator[Any]:
    """A raw WebSocket connection to the first chain."""
    with connect(server.endpoints[0].ws_url, max_size=None) as conn:
        yield conn


def ws_call(ws: Any, payload: str | bytes) -> Any:
    ws.send(payload)
    return json.loads(ws.recv(timeout=30))


def test_websocket_errors_keep_the_connection(ws: Any) -> None:
    assert ws_call(ws, b"{oops")["error"]["code"] == -32700
    assert ws_call(ws, rpc_body("eth_nope"))["error"]["code"] == -32601
    assert ws_call(ws, rpc_body("eth_subscribe", "pendingTransactions"))["error"]["code"] == -32602
    bad_filter = rpc_body("eth_subscribe", "logs", {"fromBlock": "0x0"})
    assert ws_call(ws, bad_filter)["error"]["code"] == -32602
    assert ws_call(ws, rpc_body("eth_chainId"))["result"] == "0x7a69"


def test_websocket_oversized_message_closes_with_1009(ws: Any, server: DevnetServer) -> None:
    ws.send(rpc_body("eth_chainId", "x" * MAX_BODY))
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    with connect(server.endpoints[0].ws_url) as fresh:
        assert ws_call(fresh, rpc_body("eth_chainId"))["result"] == "0x7a69"


def test_websocket_new_heads_in_order(ws: Any, port: int) -> None:
    sub = ws_call(ws, rpc_body("eth_subscribe", "newHeads"))["result"]
    for _ in range(3):
        call(port, "evm_mine")
    numbers = []
    for _ in range(3):
        note = json.loads(ws.recv(timeout=30))
        assert note["method"] == "eth_subscription"
        assert note["params"]["subscription"] == sub
        assert "transactions" not in note["params"]["result"]
        numbers.append(int(note["params"]["result"]["number"], 16))
    assert numbers == [1, 2, 3]
    assert ws_call(ws, rpc_body("eth_unsubscribe", sub))["result"] is True
