"""Devnet state files: a dump loaded into a fresh devnet is the same devnet (chains
module ``chains._state``); bad files are clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chains import Devnet, StateError, load_state, save_state
from chains._state import STATE_FORMAT, STATE_VERSION

TOKEN = Path(__file__).parents[2] / "scenarios" / "bench" / "benchdata" / "BenchToken.vy"
STRANGER = "0x00000000000000000000000000000000000000aa"


def busy_devnet() -> tuple[Devnet, str]:
    """Two chains with history: a token, transfers, an impersonated sender, a pending block."""
    devnet = Devnet(n_chains=2, seed=5, chains=[{}, {"mining": "interval", "block_time": 2}])
    a, b = devnet.chains
    token = a.deploy(TOKEN, "Token", "TKN", 10**24)
    token.transfer(a.accounts[1].address, 10**18)
    a.set_balance(STRANGER, 10**18)
    a.impersonate(STRANGER)
    a.transact(sender=STRANGER, to=a.accounts[2].address, value=7)
    b.transact(to=b.accounts[1].address, value=5)
    devnet.advance(10)
    b.transact(to=b.accounts[1].address, value=6)  # still pending when saved
    return devnet, token.address


def test_round_trip_is_the_same_devnet(tmp_path: Path) -> None:
    devnet, token_address = busy_devnet()
    path = tmp_path / "state.json"
    save_state(devnet, path, extra={"note": "kept"})
    loaded, extra = load_state(path)
    assert extra == {"note": "kept"}
    assert loaded.seed == devnet.seed and loaded.clock.now == devnet.clock.now
    for before, after in zip(devnet.chains, loaded.chains, strict=True):
        assert after.config == before.config
        assert after.block_number == before.block_number
        assert [blk.hash for blk in after.blocks] == [blk.hash for blk in before.blocks]
        head = after.get_block("latest").header
        assert head.state_root == before.get_block("latest").header.state_root
        for account in before.accounts[:3]:
            assert after.get_balance(account.address) == before.get_balance(account.address)
    a, b = loaded.chains
    token = a.at(token_address, TOKEN)
    assert token.balanceOf(a.accounts[1].address) == 10**18
    assert a.get_balance(a.accounts[1].address, block=1) == 10_000 * 10**18  # history kept
    assert a.is_impersonated(STRANGER)
    assert len(b.pending_transactions) == 1
    receipt = a.get_receipt(devnet.chains[0].blocks[2].tx_hashes[0])
    assert receipt.status and receipt.logs
    # both devnets go on identically: the pending block seals at the same boundary
    devnet.advance(5)
    loaded.advance(5)
    for before, after in zip(devnet.chains, loaded.chains, strict=True):
        assert after.get_block("latest").hash == before.get_block("latest").hash
    token.transfer(a.accounts[3].address, 5)
    assert token.balanceOf(a.accounts[3].address) == 5


def test_rpc_reads_a_loaded_chain(tmp_path: Path) -> None:
    devnet, _ = busy_devnet()
    path = tmp_path / "state.json"
    save_state(devnet, path)
    loaded, _ = load_state(path)
    before, after = devnet.chains[0].rpc, loaded.chains[0].rpc
    for method, params in [
        ("eth_getBlockByNumber", ["latest", True]),
        ("eth_getTransactionByHash", ["0x" + devnet.chains[0].blocks[-1].tx_hashes[0].hex()]),
        ("eth_getLogs", [{"fromBlock": "0x0"}]),
    ]:
        assert after.call(method, params) == before.call(method, params)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read state file"),
        ("{not json", "not a devnet state file (not JSON"),
        ('{"format": "anvil"}', "not a devnet state file (no format"),
        (json.dumps({"format": STATE_FORMAT, "version": 99}), "state version 99 is not supported"),
        (
            json.dumps({"format": STATE_FORMAT, "version": STATE_VERSION, "chains": []}),
            "damaged devnet state: KeyError",
        ),
    ],
    ids=["missing", "not-json", "other-format", "future-version", "damaged"],
)
def test_bad_state_files_are_clear_errors(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "state.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StateError, match=message.replace("(", r"\(")):
        load_state(path)
