"""``testbed up`` as users run it: a subprocess, its manifest, real clients, SIGTERM, resume;
and a message crossing chains through the live relayer."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from live_helpers import call
from web3 import Web3

from bridge import deploy_bridge
from chains import Devnet
from scenarios.live import LiveDevnet, UpOptions

TARGET_MOCK = Path(__file__).parents[2] / "contracts" / "mocks" / "message_target_mock.vy"
SEND_ABI = [
    {
        "type": "function",
        "name": "send_message",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": "dest_chain_id", "type": "uint256"},
            {"name": "target", "type": "address"},
            {"name": "payload", "type": "bytes"},
            {"name": "deadline", "type": "uint256"},
        ],
        "outputs": [{"name": "", "type": "bytes32"}],
    }
]


def wait_for(predicate: Any, timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class UpProcess:
    """A ``testbed up`` subprocess with its own state directory, its servers on port 0."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.tmp = tmp
        self.manifest_path = tmp / ".testbed" / "manifest.json"
        self.manifest_path.unlink(missing_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scenarios.cli", "up", "--port", "0", *args],
            cwd=tmp,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def manifest(self) -> dict[str, Any]:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"testbed up exited: {self.proc.communicate()}")
            return self.manifest_path.exists()

        wait_for(ready, 120, "the manifest")
        manifest: dict[str, Any] = json.loads(self.manifest_path.read_text())
        return manifest

    def terminate(self) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, err


@pytest.fixture
def up_dir(tmp_path: Path) -> Iterator[Path]:
    """A working directory for ``testbed up`` (manifest, relayer store, state file)."""
    yield tmp_path


def test_testbed_up_serves_three_chains_and_resumes_from_state(up_dir: Path) -> None:
    state = up_dir / "devnet-state.json"
    first = UpProcess(up_dir, "--chains", "3", "--state", str(state))
    try:
        manifest = first.manifest()
        assert [c["chain_id"] for c in manifest["chains"]] == [31337, 31338, 31339]
        # port 0: each chain's server binds a port the OS picks (no probe, no race)
        urls = [c["rpc_url"] for c in manifest["chains"]]
        assert all(u.startswith("http://127.0.0.1:") and int(u.rsplit(":", 1)[1]) for u in urls)
        assert len(set(urls)) == 3
        assert len(manifest["accounts"]) == 10
        assert set(manifest["bridge"]["messengers"]) == {"31337", "31338", "31339"}
        assert manifest["relayer"]["store"].endswith("relayer.sqlite")
        for i, chain in enumerate(manifest["chains"]):
            w3 = Web3(Web3.HTTPProvider(chain["rpc_url"]))
            assert w3.eth.chain_id == 31337 + i
        sender = manifest["accounts"][0]["address"]
        b = Web3(Web3.HTTPProvider(manifest["chains"][1]["rpc_url"]))
        tx = b.eth.send_transaction(
            {"from": sender, "to": manifest["accounts"][5]["address"], "value": 777}
        )
        assert b.eth.wait_for_transaction_receipt(tx)["status"] == 1
        head = b.eth.get_block("latest")
    finally:
        code, out, err = first.terminate()
    assert code == 0, err
    assert "listening" in out and "state saved to" in out
    assert state.exists() and (up_dir / ".testbed" / "relayer.sqlite").exists()

    second = UpProcess(up_dir, "--state", str(state))
    try:
        manifest = second.manifest()
        b = Web3(Web3.HTTPProvider(manifest["chains"][1]["rpc_url"]))
        resumed = b.eth.get_block(head["number"])
        assert resumed["hash"] == head["hash"]
        assert resumed["stateRoot"] == head["stateRoot"]
        assert b.eth.get_balance(manifest["accounts"][5]["address"]) == 10_000 * 10**18 + 777
        assert b.eth.get_block("latest")["timestamp"] >= head["timestamp"]
        assert manifest["bridge"] == json.loads(json.dumps(manifest["bridge"]))
    finally:
        code, out, err = second.terminate()
    assert code == 0, err
    assert "resumed" in err


def test_bad_state_file_is_a_clear_error(up_dir: Path) -> None:
    state = up_dir / "bad.json"
    state.write_text('{"format": "something-else"}')
    result = subprocess.run(
        [sys.executable, "-m", "scenarios.cli", "up", "--port", "0", "--state", str(state)],
        cwd=up_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "not a devnet state file" in result.stderr


# ----------------------------------------------------------------------------------------
# a message crossing through the live relayer
# ----------------------------------------------------------------------------------------
@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveDevnet]:
    """A 2-chain live devnet with the bridge and the relayer (same-block latency), served
    from a background thread that builds it (the relayer's SQLite lives in that thread)."""
    options = UpOptions(chains=2, port=0, latency="same-block", state_dir=tmp_path)
    box: queue.Queue[LiveDevnet | BaseException] = queue.Queue()

    def main() -> None:
        try:
            built = LiveDevnet.build(options)
            box.put(built)
            asyncio.run(built.serve())
        except BaseException as exc:  # handed to the test thread
            box.put(exc)

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    built = box.get(timeout=300)
    if isinstance(built, BaseException):
        raise built
    assert built.server.started.wait(60), "the live devnet did not start"
    try:
        yield built
    finally:
        built.server.stop()
        thread.join(60)
    assert box.empty(), box.get()


def test_message_crosses_through_the_live_relayer(live: LiveDevnet, tmp_path: Path) -> None:
    a_end, b_end = live.server.endpoints
    b_chain = b_end.chain
    assert live.deployment is not None
    with live.server.lock:
        target = b_chain.deploy(TARGET_MOCK, live.deployment.messengers[b_chain.chain_id].address)
    a = Web3(Web3.HTTPProvider(a_end.url))
    manifest = live.manifest()
    sender = manifest["accounts"][0]["address"]
    messenger = a.eth.contract(address=manifest["bridge"]["messengers"]["31337"], abi=SEND_ABI)
    payload = keccak(text="handle(uint256)")[:4] + (42).to_bytes(32, "big")
    tx = messenger.functions.send_message(31338, target.address, payload, 2**40).transact(
        {"from": sender}
    )
    assert a.eth.wait_for_transaction_receipt(tx)["status"] == 1

    def executed() -> list[dict[str, Any]]:
        messages = call(a_end.port, "bridge_messages", ["executed"])
        return list(messages)

    (record,) = wait_for(executed, 60, "the message to execute")
    assert (record["source_chain_id"], record["dest_chain_id"]) == (31337, 31338)
    assert record["payload"] == "0x" + payload.hex()
    with live.server.lock:
        assert target.last_value() == 42
        assert target.last_sender() == sender
    detail = call(b_end.port, "bridge_message", record["id"])
    assert [e["status"] for e in detail["events"]][-1] == "executed"
    receipt = Web3(Web3.HTTPProvider(b_end.url)).eth.get_transaction_receipt(record["relay_tx"])
    assert receipt["status"] == 1


def test_bridge_admin_pause_resume_and_relay_now(live: LiveDevnet) -> None:
    a_end, _ = live.server.endpoints
    status = call(a_end.port, "bridge_pause")
    assert status["paused"] is True
    manifest = live.manifest()
    a = Web3(Web3.HTTPProvider(a_end.url))
    messenger = a.eth.contract(address=manifest["bridge"]["messengers"]["31337"], abi=SEND_ABI)
    to = manifest["accounts"][4]["address"]  # an account without code: the call succeeds
    tx = messenger.functions.send_message(31338, to, b"", 2**40).transact(
        {"from": manifest["accounts"][0]["address"]}
    )
    a.eth.wait_for_transaction_receipt(tx)
    (record,) = wait_for(lambda: call(a_end.port, "bridge_messages"), 30, "the scan")
    # its relay came due and the pause held it: still undelivered
    relayer = live.relayer
    assert relayer is not None
    wait_for(lambda: record["id"] in relayer.deferred_ids, 30, "the held relay")
    assert call(a_end.port, "bridge_message", record["id"])["status"] in ("sent", "eligible")
    relayed = call(a_end.port, "bridge_relayNow", record["id"])
    assert relayed["status"] in ("relayed", "executed")
    wait_for(lambda: call(a_end.port, "bridge_messages", ["executed"]), 30, "execution")
    assert call(a_end.port, "bridge_resume")["paused"] is False
    unknown = "0x" + "00" * 32
    assert call(a_end.port, "bridge_message", unknown) is None


def test_deploy_bridge_is_the_one_up_uses() -> None:
    # the addresses `testbed up` prints are the deterministic ones of deploy_bridge
    devnet = Devnet(n_chains=2, seed=0)
    deployment = deploy_bridge(devnet)
    assert deployment.messengers[31337].address == "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_account_keys_in_manifest_sign_for_the_chain(live: LiveDevnet) -> None:
    manifest = live.manifest()
    first: LocalAccount = live.devnet.chains[0].accounts[0]
    assert manifest["accounts"][0] == {
        "address": first.address,
        "private_key": "0x" + bytes(first.key).hex(),
    }
