"""Helpers of the live tests: raw HTTP exchanges through ``http.client``, which lets a
test control every byte and header a client sends."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_TOKEN = Path(__file__).parents[2] / "scenarios" / "bench" / "benchdata" / "BenchToken.vy"


@dataclass
class Answer:
    """One raw HTTP exchange: status, headers (lower-case names) and the body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def post(
    port: int, body: bytes | str, headers: dict[str, str] | None = None, method: str = "POST"
) -> Answer:
    """Send ``body`` to ``127.0.0.1:port`` on a fresh connection; return the raw answer."""
    data = body.encode() if isinstance(body, str) else body
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, "/", data, {"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        conn.close()


def call(port: int, method: str, *params: Any) -> Any:
    """A JSON-RPC call over raw HTTP; the ``result`` (asserts there is no error)."""
    answer = post(port, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    assert answer.status == 200, answer
    reply = answer.json()
    assert "error" not in reply, reply
    return reply["result"]
