"""viem (from the npm registry) against a live server: its test client's anvil actions.

The script (``js/test_actions.mjs``) runs viem's ``createTestClient({mode: "anvil"})``:
mine, setBalance, setNonce, setCode, setStorageAt, impersonateAccount /
stopImpersonatingAccount, snapshot / revert, increaseTime and setNextBlockTimestamp, each
checked through viem's public client. Skipped only when Node.js or the installed package is
absent (`.ci/run` installs it: ``npm ci --prefix tests/live/js``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from chains import DevnetServer

JS = Path(__file__).parent / "js"
NODE = shutil.which("node")
WHALE = "0x000000000000000000000000000000000000beef"
STRANGER = "0x000000000000000000000000000000000000cafe"

# On a developer's machine without Node.js the JS clients' tests are skipped with the reason;
# under CI (which installs them) a missing client is a failure, never a silent skip.
_OPTIONAL = not os.environ.get("CI")

pytestmark = [
    pytest.mark.skipif(
        _OPTIONAL and NODE is None, reason="Node.js (node) is not installed on this machine"
    ),
    pytest.mark.skipif(
        _OPTIONAL and not (JS / "node_modules" / "viem").is_dir(),
        reason="viem is not installed: run `npm ci --prefix tests/live/js` (.ci/run does)",
    ),
]


def test_viem_test_actions(server: DevnetServer) -> None:
    assert NODE is not None
    endpoint = server.endpoints[1]  # the second chain: viem must use its chain id
    result = subprocess.run(
        [NODE, str(JS / "test_actions.mjs"), endpoint.url, str(endpoint.chain.chain_id)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["mined"] == 3
    assert seen["balance"] == str(1000 * 10**18)
    assert seen["nonce"] == 7
    assert seen["code"] == "0x602a60005260206000f3"
    assert seen["storage"] == "0x" + "11" * 32
    assert seen["impersonatedStatus"] == "success"
    assert seen["impersonatedFrom"] == WHALE.lower()
    assert seen["afterStop"] == "refused"
    assert seen["blocksSinceSnapshot"] >= 2  # the two mined (and, automined, the write's)
    assert seen["backAtSnapshot"] is True and seen["revertedBalance"] == "5"
    # Blocks sealed faster than one a second run ahead of the clock by at most a second
    # each, so the latest block may lead the clock by up to its number of seconds.
    assert seen["increasedBy"] >= 3600 - seen["blocksBeforeIncrease"]
    assert seen["nextTimestampExact"] is True
    with server.lock:
        chain = endpoint.chain
        assert chain.get_balance(STRANGER) == 5 + 1 + 1
        assert chain.get_nonce(WHALE) == 7 + 3
