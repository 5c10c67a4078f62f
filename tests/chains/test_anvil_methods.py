"""anvil's dev-method table: every ``anvil_*`` / ``evm_*`` / ``hardhat_*`` name anvil
answers, served here or declared missing with the reason (and answering -32601).

The names are anvil's request enum (foundry ``crates/anvil/core/src/eth/mod.rs``) and
its later additions (ERC-20 balances and allowances, addBalance, prevrandao, genesis
time), with the aliases anvil accepts; plus Hardhat's ``hardhat_setPrevRandao``.
"""

from __future__ import annotations

import pytest

from chains import RpcError, RpcMethods

SERVED = [
    "anvil_impersonateAccount",
    "hardhat_impersonateAccount",
    "anvil_stopImpersonatingAccount",
    "hardhat_stopImpersonatingAccount",
    "anvil_autoImpersonateAccount",
    "hardhat_autoImpersonateAccount",
    "anvil_getAutomine",
    "hardhat_getAutomine",
    "anvil_mine",
    "hardhat_mine",
    "anvil_setAutomine",
    "evm_setAutomine",
    "anvil_setIntervalMining",
    "evm_setIntervalMining",
    "anvil_getIntervalMining",
    "anvil_dropTransaction",
    "hardhat_dropTransaction",
    "anvil_dropAllTransactions",
    "hardhat_dropAllTransactions",
    "anvil_removePoolTransactions",
    "anvil_reset",
    "hardhat_reset",
    "anvil_setBalance",
    "hardhat_setBalance",
    "anvil_addBalance",
    "hardhat_addBalance",
    "anvil_setCode",
    "hardhat_setCode",
    "anvil_setNonce",
    "hardhat_setNonce",
    "evm_setAccountNonce",
    "anvil_setStorageAt",
    "hardhat_setStorageAt",
    "anvil_setCoinbase",
    "hardhat_setCoinbase",
    "anvil_setMinGasPrice",
    "hardhat_setMinGasPrice",
    "anvil_setNextBlockBaseFeePerGas",
    "hardhat_setNextBlockBaseFeePerGas",
    "anvil_setNextBlockPrevRandao",
    "hardhat_setPrevRandao",
    "anvil_setTime",
    "evm_setTime",
    "anvil_dumpState",
    "hardhat_dumpState",
    "anvil_loadState",
    "hardhat_loadState",
    "anvil_nodeInfo",
    "anvil_metadata",
    "hardhat_metadata",
    "anvil_snapshot",
    "evm_snapshot",
    "anvil_revert",
    "evm_revert",
    "anvil_increaseTime",
    "evm_increaseTime",
    "anvil_setNextBlockTimestamp",
    "evm_setNextBlockTimestamp",
    "anvil_setBlockGasLimit",
    "evm_setBlockGasLimit",
    "anvil_setBlockTimestampInterval",
    "anvil_removeBlockTimestampInterval",
    "evm_mine",
    "anvil_mine_detailed",
    "evm_mine_detailed",
    "anvil_dealERC20",
    "anvil_setERC20Balance",
    "hardhat_dealERC20",
    "anvil_setERC20Allowance",
    "anvil_getGenesisTime",
    "anvil_reorg",
    "anvil_rollback",
]

#: anvil methods this devnet does not serve, and why
NOT_SERVED = {
    "anvil_setRpcUrl": "no forking: there is no upstream node to point at",
    "anvil_setChainId": "chain ids are fixed: the devnet and the bridge route by them",
    "anvil_setLoggingEnabled": "logging is Python's logging configuration, not an RPC switch",
    "hardhat_setLoggingEnabled": "the same as anvil_setLoggingEnabled",
    "anvil_enableTraces": "call traces are a separate piece of work (debug_trace*)",
    "anvil_impersonateSignature": "no signature-to-sender mapping; impersonate the account",
    "anvil_getBlobByHash": "blob transactions (type 3) are not supported",
    "anvil_getBlobsByTransactionHash": "blob transactions (type 3) are not supported",
    "anvil_addCapability": "odyssey wallet (sponsored EIP-7702) extension, out of scope",
    "anvil_setExecutor": "odyssey wallet (sponsored EIP-7702) extension, out of scope",
}


def test_the_table_has_no_name_twice() -> None:
    assert len(SERVED) == len(set(SERVED))
    assert not set(SERVED) & set(NOT_SERVED)


@pytest.mark.parametrize("name", SERVED)
def test_served(rpc: RpcMethods, name: str) -> None:
    assert name in rpc.methods


@pytest.mark.parametrize("name", sorted(NOT_SERVED))
def test_not_served_answers_method_not_found(rpc: RpcMethods, name: str) -> None:
    with pytest.raises(RpcError) as info:
        rpc.call(name, [])
    assert info.value.code == -32601


def test_every_dev_method_served_is_in_the_table(rpc: RpcMethods) -> None:
    ours = {m for m in rpc.methods if m.split("_")[0] in ("anvil", "evm", "hardhat")}
    assert ours == set(SERVED)
