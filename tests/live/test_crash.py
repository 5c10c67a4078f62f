"""``testbed up --state`` under signals: SIGTERM mid-call exits cleanly with a loadable
state; SIGKILL at random moments under a transaction load never leaves a file that does
not load, and never loses a transaction acknowledged before the last completed save.

Each test runs real ``testbed up`` subprocesses on free loopback ports. The crash test
runs ``CRASH_ROUNDS`` kills by default and ``SLOW_CRASH_ROUNDS`` under ``-m slow``.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from live_helpers import post

from chains import dev_accounts, load_state

logger = logging.getLogger(__name__)

CRASH_ROUNDS = 3
SLOW_CRASH_ROUNDS = 25
#: A loop with a STATICCALL to the identity precompile in each turn: a call frame per
#: ~146 gas, so the default 30M gas lasts seconds. (A bare JUMPDEST-PUSH-JUMP loop spends
#: it in about half a second on a fast machine, and could end before the SIGTERM below.)
ENDLESS = "0x5b" + "6000" * 4 + "6004" + "5afa50" + "600056"


class Up:
    """A ``testbed up --chains 1`` subprocess in ``directory`` (its port picked by the OS)."""

    def __init__(self, directory: Path, *args: str) -> None:
        self.manifest_path = directory / ".testbed" / "manifest.json"
        self.manifest_path.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scenarios.cli", "up", "--chains", "1", "--port", "0", *args],
            cwd=directory,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def port(self) -> int:
        end = time.monotonic() + 120
        while not self.manifest_path.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"testbed up exited: {self.proc.communicate()}")
            if time.monotonic() > end:
                raise AssertionError("testbed up did not write its manifest")
            time.sleep(0.05)
        manifest = json.loads(self.manifest_path.read_text())
        return int(manifest["chains"][0]["rpc_url"].rsplit(":", 1)[1])

    def kill(self) -> None:
        self.proc.kill()
        self.proc.communicate(timeout=60)


def rpc(port: int, method: str, *params: Any) -> Any:
    answer = post(port, json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    reply = answer.json()
    assert "error" not in reply, reply
    return reply["result"]


@dataclass
class Load:
    """Sequential signed transfers from one dev account; each ack with its wall-clock time."""

    port: int
    sender: Any
    nonce: int
    acks: list[tuple[str, float]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            tx = {
                "chainId": 31337,
                "nonce": self.nonce,
                "to": "0x" + "22" * 20,
                "value": 1,
                "gas": 21_000,
                "maxFeePerGas": 10**11,
                "maxPriorityFeePerGas": 10**9,
                "type": 2,
            }
            raw = "0x" + self.sender.sign_transaction(tx).raw_transaction.hex()
            try:
                tx_hash = rpc(self.port, "eth_sendRawTransaction", raw)
            except (OSError, ValueError, http.client.HTTPException):
                # the server was killed: before the answer, or between its headers and its
                # body (IncompleteRead) — either way the transaction is not acknowledged
                return
            self.acks.append((tx_hash, time.time()))
            self.nonce += 1


def test_sigterm_during_an_endless_call_exits_with_a_loadable_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    up = Up(tmp_path, "--state", str(state), "--call-timeout", "600")
    try:
        port = up.port()
        sender = Account.from_key(bytes(dev_accounts(2)[1].key))
        tx_hash = rpc(
            port,
            "eth_sendTransaction",
            {"from": sender.address, "to": "0x" + "33" * 20, "value": hex(5)},
        )
        answers: list[Any] = []

        def endless() -> None:
            try:
                body = {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "eth_call",
                    "params": [{"data": ENDLESS}],
                }
                answers.append(post(port, json.dumps(body)).json())
            except OSError as exc:  # the connection closed: also an end
                answers.append(exc)

        caller = threading.Thread(target=endless)
        caller.start()
        time.sleep(0.5)  # let the call start (not an assertion on speed)
        up.proc.send_signal(signal.SIGTERM)
        _out, err = up.proc.communicate(timeout=60)  # a hang fails here
        caller.join(60)
    finally:
        if up.proc.poll() is None:
            up.kill()
    assert up.proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert not caller.is_alive()
    if isinstance(answers[0], dict):
        assert answers[0]["error"]["message"].startswith("execution aborted"), answers
    devnet, _extra = load_state(state)
    receipt = devnet.chains[0].get_receipt(bytes.fromhex(tx_hash[2:]))
    assert receipt.status == 1


def crash_rounds(directory: Path, rounds: int, seed: int) -> dict[str, int]:
    """Kill ``testbed up`` ``rounds`` times under load; check the file after each kill."""
    rng = random.Random(seed)
    state = directory / "state.json"
    sender = Account.from_key(bytes(dev_accounts(2)[1].key))
    counts = {"kills": 0, "loads": 0, "no_file_yet": 0, "acked": 0, "acked_before_save": 0}
    for _ in range(rounds):
        up = Up(directory, "--state", str(state), "--state-interval", "0.2")
        try:
            port = up.port()
            nonce = int(rpc(port, "eth_getTransactionCount", sender.address, "latest"), 16)
            load = Load(port, sender, nonce)
            loader = threading.Thread(target=load.run)
            loader.start()
            time.sleep(rng.uniform(0.2, 1.5))  # a random moment, during saves or between
            up.kill()
            counts["kills"] += 1
            load.stop.set()
            loader.join(60)
        finally:
            if up.proc.poll() is None:
                up.kill()
        counts["acked"] += len(load.acks)
        if not state.exists():
            counts["no_file_yet"] += 1
            continue
        devnet, extra = load_state(state)  # never a torn or unloadable file
        counts["loads"] += 1
        chain = devnet.chains[0]
        assert chain.get_nonce(sender.address) >= nonce  # saves never go back
        before = [h for h, at in load.acks if at < extra["saved_at"]]
        for tx_hash in before:
            assert chain.get_receipt(bytes.fromhex(tx_hash[2:])).status == 1
        counts["acked_before_save"] += len(before)
    return counts


def test_sigkill_under_load_never_loses_a_saved_transaction(tmp_path: Path) -> None:
    counts = crash_rounds(tmp_path, CRASH_ROUNDS, seed=1)
    logger.info("crash rounds: %s", counts)
    assert counts["kills"] == CRASH_ROUNDS
    assert counts["loads"] + counts["no_file_yet"] == CRASH_ROUNDS
    assert counts["loads"] >= 1


@pytest.mark.slow
def test_sigkill_under_load_many_times(tmp_path: Path) -> None:
    counts = crash_rounds(tmp_path, SLOW_CRASH_ROUNDS, seed=2)
    logger.info("crash rounds: %s", counts)
    assert counts["loads"] + counts["no_file_yet"] == SLOW_CRASH_ROUNDS
    assert counts["acked_before_save"] > 0
