"""RPC load benchmark: requests/s and errors of N concurrent clients against a live server.

The server runs as ``testbed up`` runs it — its own process, every chain in one event
loop — here one automine chain with a ``BenchToken`` deployed. Each client is a thread
with its own keep-alive HTTP connection (``http.client``) doing rounds of four requests:
``eth_blockNumber``, ``eth_getBalance``, ``eth_call`` (``balanceOf`` on the token) and
``eth_sendRawTransaction`` (a transfer signed before the clock starts, so client-side
signing is not measured). A response counts as an error when it is not HTTP 200 with a
JSON-RPC ``result``. Runs repeat on the same server; the figure is the median.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

from eth_utils import keccak

__all__ = ["run_rpc_bench"]

_ROUND = ("eth_blockNumber", "eth_getBalance", "eth_call", "eth_sendRawTransaction")


def _serve(n_accounts: int, conn: Any) -> None:
    """Server process: one chain, a token, served until the parent closes the pipe."""
    from chains import Devnet, DevnetServer
    from scenarios.bench._engine import bench_source

    # one more account than clients: the deployer's nonce is not any client's business
    devnet = Devnet(n_chains=1, real_time=True, n_accounts=n_accounts + 1)
    chain = devnet.chains[0]
    deployer = chain.accounts[n_accounts].address
    token = chain.deploy(bench_source("BenchToken.vy"), "Bench", "B", 10**30, sender=deployer)
    server = DevnetServer(devnet, port=0)
    with server.run_in_thread():
        conn.send((server.endpoints[0].port, token.address))
        conn.recv()  # any message (or EOF) means stop


def _client(
    port: int, calls: list[tuple[str, list[Any]]], errors: list[str], barrier: threading.Barrier
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    bodies = [
        json.dumps({"jsonrpc": "2.0", "id": i, "method": m, "params": p}).encode()
        for i, (m, p) in enumerate(calls)
    ]
    headers = {"Content-Type": "application/json"}
    barrier.wait()
    try:
        for body in bodies:
            conn.request("POST", "/", body, headers)
            response = conn.getresponse()
            data = response.read()
            if response.status != 200 or b'"result"' not in data:
                errors.append(f"HTTP {response.status}: {data[:200]!r}")
    except Exception as exc:  # counted, the run goes on
        errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()


def run_rpc_bench(
    *,
    clients: int = 16,
    rounds: int = 50,
    repeats: int = 3,
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, Any]:
    """Measure; return ``{"runs": [{"requests", "seconds", "rps", "errors"}], "median_rps",
    "errors", ...}``."""
    from chains import dev_accounts

    accounts = dev_accounts(clients)
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve, args=(clients, child), daemon=True)
    process.start()
    try:
        if not parent.poll(300):
            raise RuntimeError("the benchmark server did not start")
        port, token = parent.recv()
        selector = keccak(text="balanceOf(address)")[:4].hex()
        runs: list[dict[str, Any]] = []
        for run in range(repeats):
            plans: list[list[tuple[str, list[Any]]]] = []
            for account in accounts:
                word = account.address[2:].lower().rjust(64, "0")
                calls: list[tuple[str, list[Any]]] = []
                for i in range(rounds):
                    tx: dict[str, Any] = {
                        "to": accounts[0].address,
                        "value": 1,
                        "gas": 21_000,
                        "maxFeePerGas": 10**11,
                        "maxPriorityFeePerGas": 10**9,
                        "nonce": run * rounds + i,
                        "chainId": 31337,
                    }
                    raw = "0x" + account.sign_transaction(tx).raw_transaction.hex()
                    calls += [
                        ("eth_blockNumber", []),
                        ("eth_getBalance", [account.address, "latest"]),
                        ("eth_call", [{"to": token, "data": f"0x{selector}{word}"}, "latest"]),
                        ("eth_sendRawTransaction", [raw]),
                    ]
                plans.append(calls)
            errors: list[str] = []
            barrier = threading.Barrier(clients + 1)
            threads = [
                threading.Thread(target=_client, args=(port, plan, errors, barrier))
                for plan in plans
            ]
            for thread in threads:
                thread.start()
            barrier.wait()
            start = time.perf_counter()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - start
            requests = clients * rounds * len(_ROUND)
            runs.append(
                {
                    "requests": requests,
                    "seconds": round(seconds, 3),
                    "rps": round(requests / seconds, 1),
                    "errors": len(errors),
                    "first_errors": errors[:3],
                }
            )
            progress(
                f"run {run + 1}/{repeats}: {requests / seconds:.0f} req/s, {len(errors)} errors"
            )
    finally:
        parent.send("stop")
        process.join(60)
        if process.is_alive():
            process.terminate()
    return {
        "clients": clients,
        "rounds_per_client": rounds,
        "mix": list(_ROUND),
        "runs": runs,
        "median_rps": statistics.median(float(r["rps"]) for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }
