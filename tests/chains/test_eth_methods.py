"""The eth methods anvil serves beyond the basics: signing, raw transactions, access
lists, proofs, state overrides, eth_simulateV1, EIP-7702 sends, bare block hashes."""

from __future__ import annotations

import json

import pytest
import rlp
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from trie import HexaryTrie

from chains import Chain, Contract, RpcError, RpcMethods
from chains._predeploys import MULTICALL3

STORED = "0x" + keccak(b"stored()")[:4].hex()
#: Probe's storage: owner at slot 0, stored at slot 1
STORED_SLOT = 1


def _store(value: int) -> str:
    return "0x" + (keccak(b"store(uint256)")[:4] + value.to_bytes(32, "big")).hex()


TYPED = {
    "types": {
        "EIP712Domain": [
            {"name": "name", "type": "string"},
            {"name": "chainId", "type": "uint256"},
        ],
        "Mail": [{"name": "contents", "type": "string"}],
    },
    "primaryType": "Mail",
    "domain": {"name": "testbed", "chainId": 31337},
    "message": {"contents": "hello"},
}


# ----------------------------------------------------------------------------------------
# signing
# ----------------------------------------------------------------------------------------
def test_eth_sign_and_personal_sign(rpc: RpcMethods, trader: LocalAccount) -> None:
    message = b"testbed"
    expected = trader.sign_message(encode_defunct(message)).signature.hex()
    assert rpc.call("eth_sign", [trader.address, "0x" + message.hex()]) == "0x" + expected
    assert rpc.call("personal_sign", ["0x" + message.hex(), trader.address]) == "0x" + expected


@pytest.mark.parametrize("as_text", [False, True], ids=["object", "json-text"])
def test_sign_typed_data_v4(rpc: RpcMethods, trader: LocalAccount, as_text: bool) -> None:
    payload = json.dumps(TYPED) if as_text else TYPED
    signature = rpc.call("eth_signTypedData_v4", [trader.address, payload])
    signer = Account.recover_message(encode_typed_data(full_message=TYPED), signature=signature)
    assert signer == trader.address


def test_signing_needs_a_key(rpc: RpcMethods, outsider: LocalAccount) -> None:
    rpc.call("anvil_impersonateAccount", [outsider.address])
    with pytest.raises(RpcError, match="only dev accounts") as info:
        rpc.call("eth_sign", [outsider.address, "0x00"])
    assert info.value.code == -32000


def test_sign_transaction_then_send_it(
    rpc: RpcMethods, chain: Chain, trader: LocalAccount, recipient: LocalAccount
) -> None:
    raw = rpc.call(
        "eth_signTransaction", [{"from": trader.address, "to": recipient.address, "value": "0x5"}]
    )
    assert Account.recover_transaction(raw) == trader.address
    assert chain.get_nonce(trader.address) == 0  # signed, not sent
    tx_hash = rpc.call("eth_sendRawTransaction", [raw])
    assert rpc.call("eth_getRawTransactionByHash", [tx_hash]) == raw
    number = hex(chain.block_number)
    assert rpc.call("eth_getRawTransactionByBlockNumberAndIndex", [number, "0x0"]) == raw
    block_hash = "0x" + chain.get_block("latest").hash.hex()
    assert rpc.call("eth_getRawTransactionByBlockHashAndIndex", [block_hash, "0x0"]) == raw
    assert rpc.call("eth_getRawTransactionByHash", ["0x" + "00" * 32]) is None


def test_sign_transaction_for_an_impersonated_account(
    rpc: RpcMethods, outsider: LocalAccount, recipient: LocalAccount
) -> None:
    rpc.call("anvil_impersonateAccount", [outsider.address])
    raw = rpc.call("eth_signTransaction", [{"from": outsider.address, "to": recipient.address}])
    decoded = rlp.decode(bytes.fromhex(raw[4:]))  # type 2 payload after the type byte
    assert (int.from_bytes(decoded[-2], "big"), int.from_bytes(decoded[-1], "big")) == (1, 1)


# ----------------------------------------------------------------------------------------
# state overrides, access lists, proofs
# ----------------------------------------------------------------------------------------
def test_call_and_estimate_with_state_overrides(
    rpc: RpcMethods, probe: Contract, outsider: LocalAccount
) -> None:
    slot = "0x" + STORED_SLOT.to_bytes(32, "big").hex()
    diff = {probe.address: {"stateDiff": {slot: hex(99)}}}
    assert (
        int(rpc.call("eth_call", [{"to": probe.address, "data": STORED}, "latest", diff]), 16) == 99
    )
    assert int(rpc.call("eth_call", [{"to": probe.address, "data": STORED}, "latest"]), 16) == 7
    rich = {outsider.address: {"balance": hex(10**18)}}
    deposit = "0x" + keccak(b"deposit()")[:4].hex()
    transfer = {"from": outsider.address, "to": probe.address, "value": hex(10**17)}
    with pytest.raises(RpcError, match="less than the call's value"):
        rpc.call("eth_estimateGas", [{**transfer, "data": deposit}])
    assert int(rpc.call("eth_estimateGas", [{**transfer, "data": deposit}, "latest", rich]), 16)
    with pytest.raises(RpcError, match="both state and stateDiff"):
        rpc.call(
            "eth_call",
            [{"to": probe.address}, "latest", {probe.address: {"state": {}, "stateDiff": {}}}],
        )


def test_create_access_list(rpc: RpcMethods, probe: Contract, deployer: LocalAccount) -> None:
    inner = keccak(b"aggregate3((address,bool,bytes)[])")[:4]
    from eth_abi import encode

    data = inner + encode(
        ["(address,bool,bytes)[]"], [[(probe.address, False, bytes.fromhex(STORED[2:]))]]
    )
    tx = {"from": deployer.address, "to": MULTICALL3, "data": "0x" + data.hex()}
    answer = rpc.call("eth_createAccessList", [tx])
    assert answer["accessList"] == [
        {
            "address": probe.address.lower(),
            "storageKeys": ["0x" + STORED_SLOT.to_bytes(32, "big").hex()],
        }
    ]
    plain = int(rpc.call("eth_estimateGas", [tx]), 16)
    with_list = int(answer["gasUsed"], 16)
    assert with_list < plain  # 2400 + 1900 up front saves 2600 + 2100 of cold access


def test_get_proof_verifies_against_the_state_root(
    rpc: RpcMethods, chain: Chain, probe: Contract
) -> None:
    slot = "0x" + STORED_SLOT.to_bytes(32, "big").hex()
    proof = rpc.call("eth_getProof", [probe.address, [slot], "latest"])
    root = chain.get_block("latest").header.state_root
    nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in proof["accountProof"]]
    account = HexaryTrie.get_from_proof(root, keccak(bytes.fromhex(probe.address[2:])), nodes)
    assert rlp.decode(account)[0] == b"\x01"  # a contract's nonce is 1
    assert proof["codeHash"] == "0x" + keccak(chain.get_code(probe.address)).hex()
    (storage,) = proof["storageProof"]
    assert storage["value"] == "0x7"
    nodes = [rlp.decode(bytes.fromhex(n[2:])) for n in storage["proof"]]
    storage_root = bytes.fromhex(proof["storageHash"][2:])
    value = HexaryTrie.get_from_proof(storage_root, keccak(STORED_SLOT.to_bytes(32, "big")), nodes)
    assert rlp.decode(value) == b"\x07"


# ----------------------------------------------------------------------------------------
# eth_simulateV1
# ----------------------------------------------------------------------------------------
def test_simulate_v1_carries_state_across_calls_and_blocks(
    rpc: RpcMethods, chain: Chain, probe: Contract, outsider: LocalAccount
) -> None:
    head = chain.block_number
    payload = {
        "blockStateCalls": [
            {
                "stateOverrides": {outsider.address: {"balance": hex(10**18)}},
                "calls": [
                    {"from": outsider.address, "to": probe.address, "data": _store(41)},
                    {"from": outsider.address, "to": probe.address, "data": STORED},
                ],
            },
            {
                "blockOverrides": {"time": hex(chain.timestamp + 1000)},
                "calls": [{"to": probe.address, "data": "0xdeadbeef"}],
            },
        ]
    }
    first, second = rpc.call("eth_simulateV1", [payload, "latest"])
    assert (first["number"], second["number"]) == (hex(head + 1), hex(head + 2))
    assert second["timestamp"] == hex(chain.timestamp + 1000)
    store, read = first["calls"]
    assert (store["status"], int(read["returnData"], 16)) == ("0x1", 41)
    assert store["logs"][0]["address"] == probe.address.lower()
    (bad,) = second["calls"]
    assert (bad["status"], bad["error"]["code"]) == ("0x0", 3)
    assert chain.block_number == head  # nothing was kept
    assert probe.stored() == 7


def test_simulate_v1_validation(rpc: RpcMethods, probe: Contract, outsider: LocalAccount) -> None:
    payload = {
        "blockStateCalls": [
            {"calls": [{"from": outsider.address, "to": probe.address, "data": STORED}]}
        ],
        "validation": True,
    }
    with pytest.raises(RpcError, match="insufficient funds"):
        rpc.call("eth_simulateV1", [payload])
    payload["validation"] = False
    assert rpc.call("eth_simulateV1", [payload])[0]["calls"][0]["status"] == "0x1"


# ----------------------------------------------------------------------------------------
# EIP-7702, EIP-1898 bare hashes, log timestamps
# ----------------------------------------------------------------------------------------
def test_send_transaction_with_an_authorization_list(
    rpc: RpcMethods, chain: Chain, probe: Contract, deployer: LocalAccount, trader: LocalAccount
) -> None:
    nonce = chain.get_nonce(trader.address)
    signed = trader.sign_authorization(
        {"chainId": chain.chain_id, "address": probe.address, "nonce": nonce}
    )
    auth = {
        "chainId": hex(signed.chain_id),
        "address": to_checksum_address(signed.address),
        "nonce": hex(signed.nonce),
        "yParity": hex(signed.y_parity),
        "r": hex(signed.r),
        "s": hex(signed.s),
    }
    tx = {"from": deployer.address, "to": trader.address, "authorizationList": [auth]}
    tx_hash = rpc.call("eth_sendTransaction", [tx])
    assert rpc.call("eth_getTransactionByHash", [tx_hash])["type"] == "0x4"
    assert chain.get_code(trader.address) == b"\xef\x01\x00" + bytes.fromhex(probe.address[2:])


def test_block_receipts_by_a_bare_hash(rpc: RpcMethods, chain: Chain, probe: Contract) -> None:
    block_hash = "0x" + chain.get_block("latest").hash.hex()
    (receipt,) = rpc.call("eth_getBlockReceipts", [block_hash])
    assert receipt["blockHash"] == block_hash
    assert rpc.call("eth_getBalance", [probe.address, block_hash]) == "0x0"


def test_logs_carry_the_block_timestamp(rpc: RpcMethods, chain: Chain, probe: Contract) -> None:
    probe.store(3)
    stamp = hex(chain.timestamp)
    tx_hash = "0x" + chain.last_receipt.tx_hash.hex()
    (log,) = rpc.call("eth_getTransactionReceipt", [tx_hash])["logs"]
    assert log["blockTimestamp"] == stamp
    (log,) = rpc.call(
        "eth_getLogs", [{"fromBlock": hex(chain.block_number), "address": probe.address}]
    )
    assert log["blockTimestamp"] == stamp


def test_send_unsigned_transaction(
    rpc: RpcMethods, chain: Chain, outsider: LocalAccount, recipient: LocalAccount
) -> None:
    rpc.call("anvil_setBalance", [outsider.address, hex(10**18)])
    tx = {"from": outsider.address, "to": recipient.address, "value": "0x1"}
    tx_hash = rpc.call("eth_sendUnsignedTransaction", [tx])
    assert rpc.call("eth_getTransactionReceipt", [tx_hash])["from"] == outsider.address.lower()
    assert not chain.is_impersonated(outsider.address)  # only for that transaction
