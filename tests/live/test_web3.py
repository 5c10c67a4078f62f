"""web3.py against a live server: HTTPProvider and WebSocketProvider, as a user runs them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from live_helpers import BENCH_TOKEN
from web3 import AsyncWeb3, Web3
from web3.exceptions import ContractLogicError

from chains import Devnet, DevnetServer


@pytest.fixture
def w3(server: DevnetServer, deployer: LocalAccount) -> Web3:
    """web3.py over HTTP to the first chain; dev account 0 is the default sender."""
    web3 = Web3(Web3.HTTPProvider(server.endpoints[0].url, request_kwargs={"timeout": 30}))
    web3.eth.default_account = deployer.address
    return web3


def _token(live_devnet: Devnet) -> tuple[list[dict[str, Any]], bytes]:
    compiled = live_devnet.chains[0].compile(BENCH_TOKEN)
    return compiled.abi_list, compiled.bytecode


def _deploy_token(w3: Web3, live_devnet: Devnet, supply: int = 10**24) -> Any:
    abi, bytecode = _token(live_devnet)
    tx_hash = (
        w3.eth.contract(abi=abi, bytecode=bytecode).constructor("Token", "TKN", supply).transact()
    )
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    return w3.eth.contract(address=receipt["contractAddress"], abi=abi)


def test_http_identity_and_accounts(w3: Web3, server: DevnetServer) -> None:
    assert w3.is_connected()
    assert w3.eth.chain_id == 31337
    assert w3.eth.accounts[0] == server.devnet.chains[0].accounts[0].address
    second = Web3(Web3.HTTPProvider(server.endpoints[1].url))
    assert second.eth.chain_id == 31338


def test_http_deploy_transact_receipts_and_logs(
    w3: Web3, live_devnet: Devnet, trader: LocalAccount
) -> None:
    token = _deploy_token(w3, live_devnet)
    tx_hash = token.functions.transfer(trader.address, 5 * 10**18).transact()
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    assert receipt["blockNumber"] == w3.eth.block_number
    (transfer,) = token.events.Transfer().process_receipt(receipt)
    assert transfer["args"]["receiver"] == trader.address
    assert transfer["args"]["value"] == 5 * 10**18
    assert token.functions.balanceOf(trader.address).call() == 5 * 10**18
    logs = token.events.Transfer().get_logs(from_block=0)
    assert [lg["args"]["value"] for lg in logs] == [10**24, 5 * 10**18]
    block = w3.eth.get_block(receipt["blockNumber"], full_transactions=True)
    assert block["transactions"][0]["hash"] == tx_hash


def test_http_signed_raw_transaction(w3: Web3, trader: LocalAccount) -> None:
    recipient = w3.eth.accounts[2]
    before = w3.eth.get_balance(recipient)
    tx = {
        "to": recipient,
        "value": 12345,
        "gas": 21_000,
        "maxFeePerGas": 2 * 10**10,
        "maxPriorityFeePerGas": 10**9,
        "nonce": w3.eth.get_transaction_count(trader.address),
        "chainId": w3.eth.chain_id,
    }
    signed = trader.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1
    assert w3.eth.get_balance(recipient) == before + 12345


def test_http_revert_reaches_web3(w3: Web3, live_devnet: Devnet, trader: LocalAccount) -> None:
    token = _deploy_token(w3, live_devnet, supply=10)
    with pytest.raises(ContractLogicError):
        token.functions.transfer(trader.address, 11).call()


def test_http_snapshot_and_revert(w3: Web3, trader: LocalAccount) -> None:
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    start = w3.eth.block_number
    w3.eth.send_transaction({"to": trader.address, "value": 1})
    assert w3.eth.block_number == start + 1
    assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True
    assert w3.eth.block_number == start
    assert w3.provider.make_request("evm_revert", ["0x999"])["result"] is False


def test_http_batch_requests(w3: Web3, deployer: LocalAccount) -> None:
    with w3.batch_requests() as batch:
        batch.add(w3.eth.get_block(0))
        batch.add(w3.eth.get_balance(deployer.address))
        genesis, balance = batch.execute()
    assert genesis["number"] == 0
    assert balance == 10_000 * 10**18


async def _ws_session(url: str, trader: str, abi: list[dict[str, Any]], bytecode: bytes) -> None:
    async with AsyncWeb3(AsyncWeb3.WebSocketProvider(url)) as w3:
        assert await w3.eth.chain_id == 31337
        sender = (await w3.eth.accounts)[0]
        heads = await w3.eth.subscribe("newHeads")
        tx_hash = (
            await w3.eth.contract(abi=abi, bytecode=bytecode)
            .constructor("Token", "TKN", 10**24)
            .transact({"from": sender})
        )
        receipt = await w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
        token = w3.eth.contract(address=receipt["contractAddress"], abi=abi)
        logs = await w3.eth.subscribe("logs", {"address": token.address})
        await token.functions.transfer(trader, 7).transact({"from": sender})
        seen_heads: list[int] = []
        seen_logs: list[Any] = []
        async for message in w3.socket.process_subscriptions():
            if message["subscription"] == heads:
                seen_heads.append(message["result"]["number"])
            elif message["subscription"] == logs:
                seen_logs.append(message["result"])
            if len(seen_heads) >= 2 and seen_logs:
                break
        assert seen_heads == [receipt["blockNumber"], receipt["blockNumber"] + 1]
        (log,) = seen_logs
        assert log["address"] == token.address
        assert token.events.Transfer().process_log(log)["args"]["value"] == 7
        assert await w3.eth.unsubscribe(heads) is True
        assert await w3.eth.unsubscribe(logs) is True
        again = await w3.provider.make_request("eth_unsubscribe", [heads])
        assert again["result"] is False  # the server forgot it (web3 would refuse to ask)
        assert await w3.eth.get_balance(trader) == 10_000 * 10**18


def test_websocket_provider_subscribes_and_transacts(
    server: DevnetServer, live_devnet: Devnet, trader: LocalAccount
) -> None:
    abi, bytecode = _token(live_devnet)
    asyncio.run(
        asyncio.wait_for(_ws_session(server.endpoints[0].ws_url, trader.address, abi, bytecode), 60)
    )
    # the connection closed: its subscriptions are gone from the chain's feeds
    assert len(live_devnet.chains[0].rpc.subscriptions) == 0
