"""ethers.js (v6, from the npm registry) against a live server: deploy raw bytecode and send
a transaction; trace a reverted transaction with debug_traceTransaction. Skipped only when
Node.js or the installed package is absent (`.ci/run` installs it:
``npm ci --prefix tests/live/js``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from chains import DevnetServer

JS = Path(__file__).parent / "js"
PROBE = Path(__file__).parents[1] / "chains" / "contracts" / "Probe.vy"
NODE = shutil.which("node")

# Runtime: PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN (returns the word 42).
RUNTIME = bytes.fromhex("602a60005260206000f3")
# Init code: copy the runtime (10 bytes at offset 12) to memory and return it.
INIT = bytes.fromhex("600a600c600039600a6000f3") + RUNTIME

# On a developer's machine without Node.js the JS clients' tests are skipped with the reason;
# under CI (which installs them) a missing client is a failure, never a silent skip.
_OPTIONAL = not os.environ.get("CI")

pytestmark = [
    pytest.mark.skipif(
        _OPTIONAL and NODE is None, reason="Node.js (node) is not installed on this machine"
    ),
    pytest.mark.skipif(
        _OPTIONAL and not (JS / "node_modules" / "ethers").is_dir(),
        reason="ethers.js is not installed: run `npm ci --prefix tests/live/js` (.ci/run does)",
    ),
]


def test_ethers_deploys_raw_bytecode_and_sends(
    server: DevnetServer, deployer: LocalAccount
) -> None:
    assert NODE is not None
    endpoint = server.endpoints[1]  # the second chain: ethers must pick up its chain id
    result = subprocess.run(
        [
            NODE,
            str(JS / "deploy_and_send.js"),
            endpoint.url,
            "0x" + bytes(deployer.key).hex(),
            "0x" + INIT.hex(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["chainId"] == "31338"
    assert seen["deployStatus"] == 1 and seen["sendStatus"] == 1
    assert seen["code"] == "0x" + RUNTIME.hex()
    assert int(seen["output"], 16) == 42
    assert seen["sendType"] == 2
    assert seen["balance"] == "123456789"
    assert seen["sender"] == deployer.address
    with server.lock:
        chain = endpoint.chain
        assert (
            chain.get_balance(chain.get_block(seen["sendBlock"]).receipts[0].to or "") == 123456789
        )
        assert chain.get_code(seen["contract"]) == RUNTIME


def test_ethers_traces_a_reverted_transaction(server: DevnetServer, deployer: LocalAccount) -> None:
    assert NODE is not None
    endpoint = server.endpoints[0]
    with server.lock:
        probe = endpoint.chain.deploy(PROBE, 7)
    calldata = probe.store._pick((13,)).encode_args((13,))
    result = subprocess.run(
        [
            NODE,
            str(JS / "traced_revert.js"),
            endpoint.url,
            "0x" + bytes(deployer.key).hex(),
            probe.address,
            "0x" + calldata.hex(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["status"] == 0
    assert (seen["callType"], seen["callTo"]) == ("CALL", probe.address.lower())
    assert seen["callError"] == "execution reverted"
    assert seen["revertReason"] == "probe: unlucky number"
    assert (seen["structFailed"], seen["lastOp"], seen["hasStack"]) == (True, "REVERT", False)
    with server.lock:
        receipt = endpoint.chain.get_receipt(bytes.fromhex(seen["hash"][2:]))
    assert int(seen["gasUsed"], 16) == seen["structGas"] == receipt.gas_used
