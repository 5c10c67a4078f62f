"""Static configuration of one chain: :class:`ChainConfig`, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chains._errors import ConfigError
from chains._evm import DEFAULT_GAS_LIMIT, INITIAL_BASE_FEE

__all__ = ["ChainConfig", "Interpreter", "MiningMode"]

MiningMode = Literal["auto", "interval", "manual"]
Interpreter = Literal["fast", "py-evm"]

ETHER = 10**18


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
        if not 1 <= self.n_accounts <= 1000:
            raise ConfigError(f"n_accounts must be between 1 and 1000, got {self.n_accounts}")
