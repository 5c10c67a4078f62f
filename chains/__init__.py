"""chains: a fast, deterministic multi-chain EVM devnet on py-evm.

>>> from chains import Devnet
>>> devnet = Devnet(n_chains=2, seed=7)
>>> [c.chain_id for c in devnet.chains]
[31337, 31338]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chains._accounts import DEV_MNEMONIC, dev_accounts
from chains._bundle import BundleError, BundleResult, BundleReverted
from chains._calls import AccountOverride, AccountProof, SimBlock, SimBlockResult, SimCall
from chains._chain import Chain
from chains._clock import DEFAULT_GENESIS_TIME, Clock, ScheduledEvent
from chains._compiler import CompiledContract, Compiler
from chains._config import ChainConfig, MiningMode
from chains._contract import Contract, ContractFunction, ContractHost
from chains._contracts_dir import contracts_dir
from chains._devnet import DEFAULT_CHAIN_ID, Devnet, Participant
from chains._errors import (
    ChainError,
    CompileError,
    ConfigError,
    InsufficientFunds,
    InvalidTransaction,
    NonceTooLow,
    ReorgRefused,
    ReplacementUnderpriced,
    SnapshotNotFound,
    TransactionReverted,
    UnknownBlock,
)
from chains._finality import FINALITY_PRESETS, FinalityLevel
from chains._pool import PoolStatus, TxPool
from chains._predeploys import CREATE2_FACTORY, MULTICALL3
from chains._state import StateError, dump_devnet, load_state, save_state, write_state
from chains._types import BlockRecord, ChainState, Event, Log, Receipt, Reorg
from chains.rpc import RpcError, RpcMethods

if TYPE_CHECKING:
    from chains.rpc import DevnetServer, InProcessProvider

__all__ = [
    "CREATE2_FACTORY",
    "DEFAULT_CHAIN_ID",
    "DEFAULT_GENESIS_TIME",
    "DEV_MNEMONIC",
    "MULTICALL3",
    "AccountOverride",
    "AccountProof",
    "BlockRecord",
    "BundleError",
    "BundleResult",
    "BundleReverted",
    "Chain",
    "ChainConfig",
    "ChainState",
    "ChainError",
    "Clock",
    "CompileError",
    "CompiledContract",
    "Compiler",
    "ConfigError",
    "Contract",
    "ContractFunction",
    "ContractHost",
    "Devnet",
    "DevnetServer",
    "Event",
    "FINALITY_PRESETS",
    "FinalityLevel",
    "InProcessProvider",
    "InsufficientFunds",
    "InvalidTransaction",
    "Log",
    "MiningMode",
    "NonceTooLow",
    "Participant",
    "PoolStatus",
    "Receipt",
    "ReplacementUnderpriced",
    "Reorg",
    "ReorgRefused",
    "RpcError",
    "RpcMethods",
    "ScheduledEvent",
    "SimBlock",
    "SimBlockResult",
    "SimCall",
    "SnapshotNotFound",
    "StateError",
    "TransactionReverted",
    "TxPool",
    "UnknownBlock",
    "contracts_dir",
    "dev_accounts",
    "dump_devnet",
    "load_state",
    "save_state",
    "write_state",
]


def __getattr__(name: str) -> Any:
    # web3 and the server stack (starlette, uvicorn) are imported on first use only
    # (chain.w3 does the same), keeping `import chains` light.
    if name in ("InProcessProvider", "DevnetServer"):
        import chains.rpc

        return getattr(chains.rpc, name)
    raise AttributeError(f"module 'chains' has no attribute {name!r}")
