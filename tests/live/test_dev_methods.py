"""The anvil / Hardhat dev methods through both transports: the in-process web3
provider and a real HTTP server. Each test gets a fresh virtual-time devnet."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eth_account import Account
from live_helpers import post

from chains import Devnet, DevnetServer, contracts_dir

ETHER = 10**18
GWEI = 10**9
OUTSIDER = Account.from_key(b"\x42" * 32).address


class Failure(Exception):
    """A JSON-RPC error answer."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


Call = Callable[..., Any]


@pytest.fixture
def dev_devnet() -> Devnet:
    """A fresh two-chain devnet on a virtual clock (automine)."""
    return Devnet(n_chains=2, seed=5)


def _provider_call(devnet: Devnet, index: int) -> Call:
    provider = devnet.chains[index].w3.provider

    def call(method: str, *params: Any) -> Any:
        answer = provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in answer:
            raise Failure(answer["error"]["code"], answer["error"]["message"])
        return answer["result"]

    return call


def _http_call(port: int) -> Call:
    ids = iter(range(1, 10**6))

    def call(method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": next(ids), "method": method, "params": list(params)}
        answer = post(port, json.dumps(body)).json()
        if "error" in answer:
            raise Failure(answer["error"]["code"], answer["error"]["message"])
        return answer["result"]

    return call


@pytest.fixture(params=["provider", "http"])
def calls(request: pytest.FixtureRequest, dev_devnet: Devnet) -> Iterator[list[Call]]:
    """``[call on chain 0, call on chain 1]`` through the transport under test."""
    if request.param == "provider":
        yield [_provider_call(dev_devnet, 0), _provider_call(dev_devnet, 1)]
        return
    with DevnetServer(dev_devnet, port=0).run_in_thread() as server:
        yield [_http_call(server.endpoints[i].port) for i in range(2)]


@pytest.fixture
def call(calls: list[Call]) -> Call:
    """A JSON-RPC call on the first chain through the transport under test."""
    return calls[0]


def _transfer(call: Call, sender: str, to: str, value: int = 1) -> str:
    return str(call("eth_sendTransaction", {"from": sender, "to": to, "value": hex(value)}))


def _block(call: Call, which: str = "latest") -> dict[str, Any]:
    block: dict[str, Any] = call("eth_getBlockByNumber", which, False)
    return block


# ----------------------------------------------------------------------------------------
# mining
# ----------------------------------------------------------------------------------------
def test_automine_off_and_on(call: Call, dev_devnet: Devnet) -> None:
    a, b = (acct.address for acct in dev_devnet.chains[0].accounts[1:3])
    assert call("anvil_getAutomine") is True
    assert call("evm_setAutomine", False) is None
    assert call("anvil_getAutomine") is False
    head = int(call("eth_blockNumber"), 16)
    tx_hash = _transfer(call, a, b)
    assert call("eth_getTransactionReceipt", tx_hash) is None
    assert call("txpool_status") == {"pending": "0x1", "queued": "0x0"}
    call("evm_mine")
    assert int(call("eth_blockNumber"), 16) == head + 1
    assert call("eth_getTransactionReceipt", tx_hash)["status"] == "0x1"
    call("anvil_setAutomine", True)
    _transfer(call, a, b)
    assert int(call("eth_blockNumber"), 16) == head + 2


def test_interval_mining(call: Call, dev_devnet: Devnet) -> None:
    chain = dev_devnet.chains[0]
    assert call("evm_setIntervalMining", 5) is None  # seconds, as anvil
    assert (chain.mining, chain.config.block_time) == ("interval", 5)
    assert call("anvil_getIntervalMining") == 5
    a, b = (acct.address for acct in chain.accounts[1:3])
    _transfer(call, a, b)
    assert call("txpool_status")["pending"] == "0x1"
    call("evm_increaseTime", 5)  # the shared clock reaches the boundary: the block seals
    assert call("txpool_status")["pending"] == "0x0"
    call("anvil_setIntervalMining", 0)
    assert chain.mining == "manual"
    assert call("anvil_getIntervalMining") is None


def test_block_gas_limit(call: Call) -> None:
    assert call("anvil_setBlockGasLimit", hex(40_000_000)) is True
    call("evm_mine")
    assert _block(call)["gasLimit"] == hex(40_000_000)
    with pytest.raises(Failure, match="at least 5,000,000") as info:
        call("evm_setBlockGasLimit", hex(1000))
    assert info.value.code == -32602


def test_coinbase(call: Call) -> None:
    miner = "0x" + "ab" * 20
    assert call("anvil_setCoinbase", miner) is None
    call("evm_mine")
    assert _block(call)["miner"] == miner
    assert call("hardhat_setCoinbase", "0x" + "cd" * 20) is True


def test_min_gas_price_is_refused_on_an_eip1559_chain(call: Call) -> None:
    with pytest.raises(Failure, match="not supported when EIP-1559 is active"):
        call("anvil_setMinGasPrice", hex(GWEI))


def test_next_block_base_fee_and_prevrandao(call: Call) -> None:
    randao = "0x" + "77" * 32
    call("anvil_setNextBlockBaseFeePerGas", hex(7 * GWEI))
    call("anvil_setNextBlockPrevRandao", randao)
    call("evm_mine")
    block = _block(call)
    assert (block["baseFeePerGas"], block["mixHash"]) == (hex(7 * GWEI), randao)
    call("evm_mine")
    assert _block(call)["mixHash"] != randao  # one block only
    assert int(_block(call)["baseFeePerGas"], 16) < 7 * GWEI  # an empty block lowers it


# ----------------------------------------------------------------------------------------
# time: one clock for every chain
# ----------------------------------------------------------------------------------------
def test_set_time_moves_every_chain(calls: list[Call], dev_devnet: Devnet) -> None:
    target = int(dev_devnet.clock.now) + 3600
    assert calls[0]("evm_setTime", target) == 3600
    calls[1]("evm_mine")  # the other chain's next block is timed by the same clock
    assert int(_block(calls[1])["timestamp"], 16) == target
    with pytest.raises(Failure, match="never goes back") as info:
        calls[0]("anvil_setTime", target - 10)
    assert info.value.code == -32602


def test_increase_time_on_one_port_moves_all(calls: list[Call], dev_devnet: Devnet) -> None:
    start = int(dev_devnet.clock.now)
    calls[1]("anvil_increaseTime", 100)
    calls[0]("evm_mine")
    assert int(_block(calls[0])["timestamp"], 16) == start + 100


def test_block_timestamp_interval(call: Call) -> None:
    call("anvil_setBlockTimestampInterval", 100)
    call("evm_mine")
    first = int(_block(call)["timestamp"], 16)
    call("evm_mine")
    assert int(_block(call)["timestamp"], 16) == first + 100
    assert call("anvil_removeBlockTimestampInterval") is True
    assert call("anvil_removeBlockTimestampInterval") is False


def test_next_block_timestamp_alias(call: Call) -> None:
    target = int(_block(call)["timestamp"], 16) + 50
    call("anvil_setNextBlockTimestamp", target)
    call("evm_mine")
    assert int(_block(call)["timestamp"], 16) == target


def test_timestamp_error_names_the_word_once(call: Call) -> None:
    with pytest.raises(Failure) as info:
        call("evm_setNextBlockTimestamp", 5)
    assert info.value.message == (
        "invalid params: timestamp 5 is not after the latest block's "
        f"({int(_block(call)['timestamp'], 16)})"
    )


# ----------------------------------------------------------------------------------------
# the mining bugs
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["anvil_mine", "hardhat_mine"])
def test_mine_with_interval_zero_keeps_a_pending_time_change(call: Call, method: str) -> None:
    latest = int(_block(call)["timestamp"], 16)
    call("evm_increaseTime", 1000)
    call(method, "0x1", "0x0")
    assert int(_block(call)["timestamp"], 16) == latest + 1000
    target = latest + 5000
    call("evm_setNextBlockTimestamp", target)
    call(method, "0x2", "0x0")
    blocks = [int(_block(call, hex(n))["timestamp"], 16) for n in (2, 3)]
    assert blocks[0] == target and blocks[1] > target


def test_mine_with_an_interval_spaces_blocks(call: Call) -> None:
    latest = int(_block(call)["timestamp"], 16)
    call("anvil_mine", "0x3", "0xa")
    stamps = [int(_block(call, hex(n))["timestamp"], 16) for n in (1, 2, 3)]
    assert stamps == [latest + 10, latest + 20, latest + 30]


@pytest.mark.parametrize("count", [1, 3])
def test_evm_mine_with_a_small_number_mines_that_many_blocks(call: Call, count: int) -> None:
    head = int(call("eth_blockNumber"), 16)
    call("evm_mine", count)  # web3.py's w3.testing.mine(count)
    assert int(call("eth_blockNumber"), 16) == head + count


def test_evm_mine_with_a_timestamp_mines_at_it(call: Call) -> None:
    target = int(_block(call)["timestamp"], 16) + 77
    call("evm_mine", target)
    assert int(_block(call)["timestamp"], 16) == target


# ----------------------------------------------------------------------------------------
# snapshots
# ----------------------------------------------------------------------------------------
def test_revert_consumes_the_id_and_later_ones(call: Call, dev_devnet: Devnet) -> None:
    first = call("anvil_snapshot")
    call("evm_mine")
    second = call("evm_snapshot")
    call("evm_mine")
    assert call("anvil_revert", first) is True
    assert int(call("eth_blockNumber"), 16) == 0
    assert call("evm_revert", first) is False
    assert call("evm_revert", second) is False


# ----------------------------------------------------------------------------------------
# accounts and state
# ----------------------------------------------------------------------------------------
def test_reset_returns_to_genesis(call: Call, dev_devnet: Devnet) -> None:
    chain = dev_devnet.chains[0]
    genesis = _block(call, "0x0")
    a, b = (acct.address for acct in chain.accounts[1:3])
    _transfer(call, a, b, ETHER)
    call("anvil_setCoinbase", "0x" + "ab" * 20)
    assert call("anvil_reset") is None
    assert int(call("eth_blockNumber"), 16) == 0
    assert _block(call) == genesis
    assert int(call("eth_getBalance", b, "latest"), 16) == chain.config.balance
    call("evm_mine")
    assert _block(call)["miner"] == "0x" + "00" * 20
    with pytest.raises(Failure, match="does not fork"):
        call("anvil_reset", {"forking": {"jsonRpcUrl": "http://example.invalid"}})


def test_add_balance(call: Call) -> None:
    call("anvil_addBalance", OUTSIDER, hex(5))
    call("anvil_addBalance", OUTSIDER, hex(7))
    assert call("eth_getBalance", OUTSIDER, "latest") == hex(12)


@pytest.mark.parametrize(
    "method", ["anvil_setERC20Balance", "anvil_dealERC20", "hardhat_dealERC20"]
)
def test_set_erc20_balance(call: Call, dev_devnet: Devnet, method: str) -> None:
    chain = dev_devnet.chains[0]
    token = chain.deploy(contracts_dir() / "Token.vy", "Wrapped Ether", "WETH", 18)
    assert call(method, OUTSIDER, token.address, hex(123 * ETHER)) is None  # account first
    assert token.balanceOf(OUTSIDER) == 123 * ETHER


def test_set_erc20_allowance(call: Call, dev_devnet: Devnet) -> None:
    chain = dev_devnet.chains[0]
    token = chain.deploy(contracts_dir() / "Token.vy", "Wrapped Ether", "WETH", 18)
    spender = chain.accounts[3].address
    assert call("anvil_setERC20Allowance", OUTSIDER, spender, token.address, hex(77)) is None
    assert token.allowance(OUTSIDER, spender) == 77
    assert token.allowance(spender, OUTSIDER) == 0


def test_set_erc20_balance_of_a_non_token_is_an_error(call: Call) -> None:
    with pytest.raises(Failure, match="no balanceOf storage slot") as info:
        call("anvil_setERC20Balance", OUTSIDER, "0x" + "11" * 20, hex(1))
    assert info.value.code == -32000


def test_auto_impersonation(call: Call, dev_devnet: Devnet) -> None:
    recipient = dev_devnet.chains[0].accounts[2].address
    call("anvil_setBalance", OUTSIDER, hex(ETHER))
    with pytest.raises(Failure, match="unknown account"):
        _transfer(call, OUTSIDER, recipient)
    call("anvil_autoImpersonateAccount", True)
    receipt = call("eth_getTransactionReceipt", _transfer(call, OUTSIDER, recipient))
    assert receipt["from"] == OUTSIDER.lower()
    call("anvil_autoImpersonateAccount", False)
    with pytest.raises(Failure, match="unknown account"):
        _transfer(call, OUTSIDER, recipient)


def test_node_info_and_metadata(call: Call, dev_devnet: Devnet) -> None:
    info = call("anvil_nodeInfo")
    latest = _block(call)
    assert info["currentBlockHash"] == latest["hash"]
    assert info["environment"]["chainId"] == hex(31337)
    assert info["hardFork"] == "prague"
    meta = call("anvil_metadata")
    assert (meta["chainId"], meta["latestBlockHash"], meta["forkedNetwork"]) == (
        hex(31337),
        latest["hash"],
        None,
    )
    assert (
        meta["instanceId"]
        == Devnet(n_chains=1, seed=5).chains[0].rpc.call("anvil_metadata")["instanceId"]
    )


def test_dump_and_load_state_round_trip(call: Call, dev_devnet: Devnet) -> None:
    chain = dev_devnet.chains[0]
    a, b = (acct.address for acct in chain.accounts[1:3])
    for value in (1, 2, 3):
        _transfer(call, a, b, value)
    call("evm_setAutomine", False)
    _transfer(call, a, b, 4)  # pending
    call("eth_sendTransaction", {"from": a, "to": b, "nonce": hex(9)})  # queued
    dump = call("anvil_dumpState")
    fresh = Devnet(n_chains=1, seed=5, mining="manual").chains[0]
    assert fresh.rpc.call("anvil_loadState", [dump]) is True
    assert [blk.hash for blk in fresh.blocks] == [blk.hash for blk in chain.blocks]
    assert (
        fresh.get_block("latest").header.state_root == chain.get_block("latest").header.state_root
    )
    for account in chain.accounts:
        assert fresh.get_nonce(account.address) == chain.get_nonce(account.address)
        assert fresh.get_nonce(account.address, "latest") == chain.get_nonce(
            account.address, "latest"
        )
    assert fresh.txpool.status() == chain.txpool.status() == (1, 1)
    assert fresh.mine()[0].hash == chain.mine()[0].hash  # and they go on identically


def test_load_state_refuses_garbage_and_another_chain(call: Call, dev_devnet: Devnet) -> None:
    with pytest.raises(Failure, match="not an anvil_dumpState result") as info:
        call("anvil_loadState", "0x1234")
    assert info.value.code == -32602
    other = dev_devnet.chains[1].rpc.call("anvil_dumpState")
    with pytest.raises(Failure, match="is chain 31338's"):
        call("anvil_loadState", other)


def test_remove_pool_transactions(call: Call, dev_devnet: Devnet) -> None:
    a, b, c = (acct.address for acct in dev_devnet.chains[0].accounts[1:4])
    call("evm_setAutomine", False)
    _transfer(call, a, c)
    _transfer(call, b, c)
    call("eth_sendTransaction", {"from": a, "to": c, "nonce": hex(5)})
    assert call("anvil_removePoolTransactions", a) is None
    content = call("txpool_content")
    assert (list(content["pending"]), content["queued"]) == ([b.lower()], {})


def test_mine_detailed_and_genesis_time(call: Call, dev_devnet: Devnet) -> None:
    a, b = (acct.address for acct in dev_devnet.chains[0].accounts[1:3])
    call("evm_setAutomine", False)
    tx_hash = _transfer(call, a, b)
    (block,) = call("anvil_mine_detailed")
    assert block["transactions"][0]["hash"] == tx_hash
    assert len(call("evm_mine_detailed", {"blocks": 2})) == 2
    assert call("anvil_getGenesisTime") == int(_block(call, "0x0")["timestamp"], 16)


def test_set_account_nonce_alias(call: Call) -> None:
    call("evm_setAccountNonce", OUTSIDER, hex(9))
    assert call("eth_getTransactionCount", OUTSIDER, "latest") == hex(9)
