"""Multicall3 and the deterministic-deployment proxy, present in every chain's genesis."""

from __future__ import annotations

import pytest
import rlp
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from chains import Chain, Contract, Devnet
from chains._predeploys import (
    CREATE2_FACTORY,
    CREATE2_FACTORY_CODE,
    MULTICALL3,
    MULTICALL3_CODE,
)

#: The proxy's keyless deployment transaction (Arachnid/deterministic-deployment-proxy):
#: init code ``604580600e600039806000f350fe`` + runtime, signed with r = s = 0x2222...
ARACHNID_TX = (
    "0xf8a58085174876e800830186a08080b853604580600e600039806000f350fe"
    + CREATE2_FACTORY_CODE.hex()
    + "1ba0"
    + "22" * 32
    + "a0"
    + "22" * 32
)
#: Multicall3's creation code is this header followed by the runtime (solc 0.8.12).
MULTICALL3_HEADER = bytes.fromhex(
    "608060405234801561001057600080fd5b50610ee0806100206000396000f3fe"
)
MULTICALL3_DEPLOYER = "0x05f32b3cc3888453ff71b01135b34ff8e41263f2"

MULTICALL3_ABI = [
    {
        "type": "function",
        "name": "aggregate3",
        "stateMutability": "payable",
        "inputs": [
            {
                "name": "calls",
                "type": "tuple[]",
                "components": [
                    {"name": "target", "type": "address"},
                    {"name": "allowFailure", "type": "bool"},
                    {"name": "callData", "type": "bytes"},
                ],
            }
        ],
        "outputs": [
            {
                "name": "returnData",
                "type": "tuple[]",
                "components": [
                    {"name": "success", "type": "bool"},
                    {"name": "returnData", "type": "bytes"},
                ],
            }
        ],
    },
    {
        "type": "function",
        "name": "getChainId",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "chainid", "type": "uint256"}],
    },
]


def _create_address(sender: str, nonce: int) -> str:
    return to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def test_every_chain_has_both_at_genesis() -> None:
    devnet = Devnet(n_chains=3)
    for chain in devnet.chains:
        assert chain.get_code(MULTICALL3, block=0) == MULTICALL3_CODE
        assert chain.get_code(CREATE2_FACTORY, block=0) == CREATE2_FACTORY_CODE
        assert chain.get_nonce(MULTICALL3, block=0) == 1


def test_code_is_what_the_canonical_deployments_produce(chain: Chain) -> None:
    signer = Account.recover_transaction(ARACHNID_TX)
    assert signer == to_checksum_address("0x3fab184622dc19b6109349b94811493bf2a45362")
    assert _create_address(signer, 0) == CREATE2_FACTORY
    init = bytes.fromhex("604580600e600039806000f350fe") + CREATE2_FACTORY_CODE
    assert chain.simulate(to=None, data=init).output == CREATE2_FACTORY_CODE
    assert _create_address(MULTICALL3_DEPLOYER, 0) == MULTICALL3
    assert chain.simulate(to=None, data=MULTICALL3_HEADER + MULTICALL3_CODE).output == (
        MULTICALL3_CODE
    )


def test_aggregate3_through_web3(chain: Chain, probe: Contract) -> None:
    w3 = chain.w3
    multicall = w3.eth.contract(address=MULTICALL3, abi=MULTICALL3_ABI)
    stored = keccak(b"stored()")[:4]
    calls = [
        (probe.address, False, stored),
        (MULTICALL3, False, keccak(b"getChainId()")[:4]),
        (probe.address, True, b"\xde\xad\xbe\xef"),  # no such function: allowed to fail
    ]
    results = multicall.functions.aggregate3(calls).call()
    assert [ok for ok, _ in results] == [True, True, False]
    assert int.from_bytes(results[0][1], "big") == 7
    assert int.from_bytes(results[1][1], "big") == chain.chain_id


def test_aggregate3_reverts_when_a_required_call_fails(chain: Chain, probe: Contract) -> None:
    multicall = chain.w3.eth.contract(address=MULTICALL3, abi=MULTICALL3_ABI)
    with pytest.raises(Exception, match="Multicall3: call failed"):
        multicall.functions.aggregate3([(probe.address, False, b"\xde\xad\xbe\xef")]).call()


def test_create2_deploy_lands_at_the_predicted_address(chain: Chain) -> None:
    # init code returning the runtime 0x602a60005260206000f3 (returns 42)
    runtime = bytes.fromhex("602a60005260206000f3")
    init = bytes.fromhex("69") + runtime + bytes.fromhex("600052600a6016f3")
    salt = keccak(b"testbed-salt")
    predicted = to_checksum_address(
        keccak(b"\xff" + bytes.fromhex(CREATE2_FACTORY[2:]) + salt + keccak(init))[12:]
    )
    assert chain.call(to=CREATE2_FACTORY, data=salt + init) == bytes.fromhex(predicted[2:])
    receipt = chain.transact(to=CREATE2_FACTORY, data=salt + init)
    assert receipt.status
    assert chain.get_code(predicted) == runtime
    assert chain.call(to=predicted) == encode(["uint256"], [42])
    # the same salt and init code again: the address is taken, the proxy reverts
    assert chain.simulate(to=CREATE2_FACTORY, data=salt + init).is_error
