"""chains: a fast, deterministic multi-chain EVM devnet on py-evm.

>>> from chains import Devnet
>>> devnet = Devnet(n_chains=2, seed=7)
>>> [c.chain_id for c in devnet.chains]
[31337, 31338]
"""

from __future__ import annotations

from chains._accounts import DEV_MNEMONIC, dev_accounts
from chains._chain import Chain, ChainConfig, MiningMode
from chains._clock import DEFAULT_GENESIS_TIME, Clock
from chains._compiler import CompiledContract, Compiler
from chains._contract import Contract, ContractFunction
from chains._devnet import DEFAULT_CHAIN_ID, Devnet
from chains._errors import (
    ChainError,
    CompileError,
    ConfigError,
    InsufficientFunds,
    InvalidTransaction,
    NonceTooLow,
    SnapshotNotFound,
    TransactionReverted,
    UnknownBlock,
)
from chains._types import BlockRecord, Event, Log, Receipt

__all__ = [
    "DEFAULT_CHAIN_ID",
    "DEFAULT_GENESIS_TIME",
    "DEV_MNEMONIC",
    "BlockRecord",
    "Chain",
    "ChainConfig",
    "ChainError",
    "Clock",
    "CompileError",
    "CompiledContract",
    "Compiler",
    "ConfigError",
    "Contract",
    "ContractFunction",
    "Devnet",
    "Event",
    "InsufficientFunds",
    "InvalidTransaction",
    "Log",
    "MiningMode",
    "NonceTooLow",
    "Receipt",
    "SnapshotNotFound",
    "TransactionReverted",
    "UnknownBlock",
    "dev_accounts",
]
