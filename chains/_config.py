"""Static configuration of one chain: :class:`ChainConfig`, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chains._errors import ConfigError
from chains._evm import DEFAULT_GAS_LIMIT, INITIAL_BASE_FEE

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_RPC_GAS_CAP",
    "ChainConfig",
    "Interpreter",
    "MiningMode",
]

MiningMode = Literal["auto", "interval", "manual"]
Interpreter = Literal["fast", "py-evm"]

ETHER = 10**18
#: geth's ``--rpc.gascap`` default.
DEFAULT_RPC_GAS_CAP = 50_000_000
#: geth's ``--rpc.evmtimeout`` default, in seconds.
DEFAULT_CALL_TIMEOUT = 5.0


@dataclass(frozen=True)
class ChainConfig:
    """Static configuration of one chain. Validated on construction."""

    chain_id: int
    name: str = ""
    mining: MiningMode = "auto"
    block_time: float = 2.0
    gas_limit: int = DEFAULT_GAS_LIMIT
    base_fee: int = INITIAL_BASE_FEE
    n_accounts: int = 10
    balance: int = 10_000 * ETHER
    empty_blocks: bool = False
    #: ``"fast"``: py-evm with this package's lean opcode loop (:mod:`chains._interpreter`);
    #: ``"py-evm"``: py-evm's stock loop, the reference the fast one is tested against.
    interpreter: Interpreter = "fast"
    #: Finality (``chains._finality``): a block is ``safe`` once ``safe_depth`` blocks sit on
    #: it and the clock is ``safe_after`` seconds past the close of its settlement batch
    #: (batches close every ``finality_interval`` s; 0: per block); ``finalized`` likewise.
    #: The defaults are anvil's tags (head − 32, head − 64); see ``FINALITY_PRESETS``.
    safe_depth: int = 32
    finalized_depth: int = 64
    finality_interval: float = 0.0
    safe_after: float = 0.0
    finalized_after: float = 0.0
    #: Most gas a JSON-RPC ``eth_call``/``eth_estimateGas`` may use; a larger (or no) gas
    #: limit is lowered to it, as geth's ``--rpc.gascap`` (same default, 50M).
    rpc_gas_cap: int = DEFAULT_RPC_GAS_CAP
    #: Wall-clock seconds a JSON-RPC call may execute before it is aborted with
    #: "execution aborted (timeout = ...)", as geth's ``--rpc.evmtimeout`` (same default).
    call_timeout: float = DEFAULT_CALL_TIMEOUT

    def __post_init__(self) -> None:
        if not isinstance(self.chain_id, int) or not 0 < self.chain_id < 2**64:
            raise ConfigError(
                f"chain_id must be a positive integer below 2**64, got {self.chain_id!r}"
            )
        if self.mining not in ("auto", "interval", "manual"):
            raise ConfigError(
                f"mining must be one of 'auto', 'interval', 'manual', got {self.mining!r}"
            )
        if not self.block_time > 0:
            raise ConfigError(f"block_time must be positive seconds, got {self.block_time!r}")
        if self.gas_limit < 5_000_000:
            raise ConfigError(f"gas_limit must be at least 5,000,000, got {self.gas_limit}")
        if self.base_fee < 0:
            raise ConfigError(f"base_fee must be non-negative, got {self.base_fee}")
        if self.interpreter not in ("fast", "py-evm"):
            raise ConfigError(f"interpreter must be 'fast' or 'py-evm', got {self.interpreter!r}")
        for name in ("safe_depth", "finalized_depth"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{name} must be an integer ≥ 0 (blocks), got {value!r}")
        for name in ("finality_interval", "safe_after", "finalized_after"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
                raise ConfigError(f"{name} must be ≥ 0 seconds, got {value!r}")
        if self.safe_depth > self.finalized_depth or self.safe_after > self.finalized_after:
            raise ConfigError(
                "a block must be safe no later than finalized: need safe_depth ≤ finalized_depth "
                f"and safe_after ≤ finalized_after, got {self.safe_depth}/{self.finalized_depth} "
                f"blocks and {self.safe_after}/{self.finalized_after} s"
            )
        if isinstance(self.rpc_gas_cap, bool) or not isinstance(self.rpc_gas_cap, int):
            raise ConfigError(f"rpc_gas_cap must be an integer, got {self.rpc_gas_cap!r}")
        if not 21_000 <= self.rpc_gas_cap <= 2**63 - 1:
            raise ConfigError(
                f"rpc_gas_cap must be between 21,000 and 2**63-1, got {self.rpc_gas_cap}"
            )
        if not (isinstance(self.call_timeout, int | float) and 0 < self.call_timeout <= 3600):
            raise ConfigError(
                f"call_timeout must be between 0 and 3600 seconds, got {self.call_timeout!r}"
            )
        if not 1 <= self.n_accounts <= 1000:
            raise ConfigError(f"n_accounts must be between 1 and 1000, got {self.n_accounts}")
