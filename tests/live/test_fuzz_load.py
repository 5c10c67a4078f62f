"""Hostile and heavy traffic against a live server: fuzzed bodies (hypothesis) and many
concurrent clients. Every answer must be well-formed JSON-RPC; nothing may be a 5xx."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import given
from hypothesis import strategies as st
from live_helpers import post

from chains import Devnet, DevnetServer

CODES = {-32700, -32600, -32601, -32602, -32603, -32000, 3}


@pytest.fixture(scope="module")
def fuzz_port() -> Iterator[int]:
    """One server for every fuzzed example (a fresh one per example would dominate)."""
    with DevnetServer(Devnet(n_chains=1, real_time=True), port=0).run_in_thread() as server:
        yield server.endpoints[0].port


def assert_well_formed(status: int, body: bytes) -> None:
    assert status in (200, 413), status
    if status == 200 and body == b"":
        return  # notifications only
    reply = json.loads(body)
    for item in reply if isinstance(reply, list) else [reply]:
        assert item["jsonrpc"] == "2.0"
        assert "id" in item
        assert ("result" in item) != ("error" in item), item
        if "error" in item:
            assert item["error"]["code"] in CODES, item
            assert isinstance(item["error"]["message"], str)


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
methods = st.sampled_from(
    [
        "eth_chainId",
        "eth_getBalance",
        "eth_call",
        "eth_sendRawTransaction",
        "eth_getLogs",
        "eth_subscribe",
        "evm_mine",
        "eth_getBlockByNumber",
        "nope",
        "",
    ]
)
requests = st.fixed_dictionaries(
    {"jsonrpc": st.sampled_from(["2.0", "1.0", 2]), "method": methods},
    optional={"id": json_scalars, "params": json_values, "extra": json_values},
)
bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    requests.map(lambda r: json.dumps(r).encode()),
    st.lists(requests, max_size=5).map(lambda r: json.dumps(r).encode()),
)


@given(body=bodies)
def test_fuzzed_bodies_get_well_formed_answers(fuzz_port: int, body: bytes) -> None:
    answer = post(fuzz_port, body)
    assert_well_formed(answer.status, answer.body)


# header values travel as latin-1 (RFC 9110); the client cannot send anything else
@given(
    content_type=st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
        max_size=30,
    ).filter(str.isprintable)
)
def test_any_content_type_is_answered(fuzz_port: int, content_type: str) -> None:
    answer = post(
        fuzz_port,
        b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}',
        {"Content-Type": content_type},
    )
    assert answer.status == 200 and answer.json()["result"] == "0x7a69"


# ----------------------------------------------------------------------------------------
# load
# ----------------------------------------------------------------------------------------
CLIENTS = 16
ROUNDS = 25  # each round: blockNumber, getBalance, eth_call, sendRawTransaction


def _client(port: int, key: LocalAccount, errors: list[str], counts: list[int]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = 0

    def rpc(method: str, *params: Any) -> Any:
        nonlocal sent
        body = json.dumps({"jsonrpc": "2.0", "id": sent, "method": method, "params": params})
        conn.request("POST", "/", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        data = response.read()
        sent += 1
        if response.status != 200:
            errors.append(f"{method}: HTTP {response.status}")
            return None
        reply = json.loads(data)
        if "error" in reply:
            errors.append(f"{method}: {reply['error']}")
            return None
        return reply["result"]

    try:
        for nonce in range(ROUNDS):
            rpc("eth_blockNumber")
            rpc("eth_getBalance", key.address, "latest")
            rpc("eth_call", {"to": key.address, "data": "0x"}, "latest")
            tx = {
                "to": key.address,
                "value": 1,
                "gas": 21_000,
                "maxFeePerGas": 10**11,
                "maxPriorityFeePerGas": 10**9,
                "nonce": nonce,
                "chainId": 31337,
            }
            rpc("eth_sendRawTransaction", "0x" + key.sign_transaction(tx).raw_transaction.hex())
    except Exception as exc:  # a dropped connection is an error to count, not a crash
        errors.append(f"client failed: {type(exc).__name__}: {exc}")
    finally:
        conn.close()
        counts.append(sent)


def test_concurrent_clients_all_succeed() -> None:
    devnet = Devnet(n_chains=1, real_time=True, n_accounts=CLIENTS)
    accounts = devnet.chains[0].accounts
    errors: list[str] = []
    counts: list[int] = []
    with DevnetServer(devnet, port=0).run_in_thread() as server:
        port = server.endpoints[0].port
        threads = [
            threading.Thread(target=_client, args=(port, accounts[i], errors, counts))
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        with server.lock:
            block = devnet.chains[0].block_number
    assert errors == []
    assert sum(counts) == CLIENTS * ROUNDS * 4
    assert block == CLIENTS * ROUNDS  # automine: one block per transaction, none lost
