"""Value types returned by the chains package: logs, events, receipts, blocks, chain state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["BlockRecord", "ChainState", "Event", "Log", "Receipt", "Reorg"]


@dataclass(frozen=True, slots=True)
class Log:
    """One EVM log as mined: emitter, topics, data and its position in the chain."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    log_index: int
    transaction_index: int
    transaction_hash: bytes
    block_number: int
    block_hash: bytes | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A log decoded against a known ABI."""

    name: str
    args: dict[str, Any]
    address: str
    log_index: int

    def __getitem__(self, key: str) -> Any:
        return self.args[key]


@dataclass(frozen=True, slots=True)
class Receipt:
    """The outcome of one transaction.

    ``gas_used`` is this transaction's own gas (not the block's cumulative figure);
    ``block_hash`` is ``None`` while the transaction sits in a block not yet sealed
    (interval or manual mining). ``return_value`` is the decoded output of a call made
    through a contract handle, ``output`` the raw return (or revert) data.
    """

    tx_hash: bytes
    transaction_index: int
    block_number: int
    sender: str
    to: str | None
    status: bool
    gas_used: int
    cumulative_gas_used: int
    effective_gas_price: int
    contract_address: str | None
    logs: tuple[Log, ...]
    output: bytes
    block_hash: bytes | None = None
    tx_type: int = 2
    return_value: Any = None
    error: str | None = None
    abi_registry: Any = field(default=None, repr=False, compare=False)

    @property
    def events(self) -> tuple[Event, ...]:
        """Logs decoded against every ABI the chain has seen (undecodable ones omitted)."""
        if self.abi_registry is None:
            return ()
        return tuple(self.abi_registry.decode_logs(self.logs))

    @property
    def is_sealed(self) -> bool:
        """Whether the block holding this transaction has been sealed."""
        return self.block_hash is not None


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """A sealed block with its transactions and receipts, as the chain keeps it."""

    number: int
    hash: bytes
    header: Any  # eth.abc.BlockHeaderAPI
    transactions: tuple[Any, ...]  # eth.abc.SignedTransactionAPI
    receipts: tuple[Receipt, ...]
    size: int

    @property
    def timestamp(self) -> int:
        return int(self.header.timestamp)

    @property
    def tx_hashes(self) -> tuple[bytes, ...]:
        return tuple(r.tx_hash for r in self.receipts)


@dataclass(frozen=True)
class ChainState:
    """A chain's whole state as :meth:`Chain.export_state` gives it and
    :meth:`Chain.restore_state` takes it back.

    ``db`` is every key/value pair of py-evm's in-memory database (so every state root
    ever sealed comes back); ``blocks`` the sealed blocks, index = number;
    ``pending_ops`` the operations of the block not yet sealed (``("tx", signed)`` or a
    dev state write), replayed at ``pending_timestamp``; ``next_timestamp`` a timestamp
    fixed for the next block; ``impersonated`` the impersonated accounts; ``queued`` the
    pool's transactions waiting for their nonce; ``reorg_count`` the reorgs made so far.
    """

    db: dict[bytes, bytes]
    blocks: tuple[BlockRecord, ...]
    pending_ops: tuple[tuple[Any, ...], ...]
    pending_timestamp: int | None
    next_timestamp: int | None
    impersonated: frozenset[bytes]
    queued: tuple[Any, ...] = ()
    #: Reorgs the chain has made in all (it marks each reorg's new blocks with the count,
    #: so a reorg after a restart never rebuilds a block hash an earlier one had).
    reorg_count: int = 0


@dataclass(frozen=True)
class Reorg:
    """A rewrite of a chain's recent history, as :meth:`Chain.on_reorg` listeners see it.

    ``fork_number`` is the common ancestor (the last block both histories share);
    ``orphaned`` the blocks taken off the chain, oldest first; ``replaced_by`` how many new
    blocks took their place (0 for a rollback); ``dropped`` the hashes of orphaned
    transactions the new blocks do not carry, ``pooled`` those of them sent back to the
    pending block (the rest were discarded).
    """

    chain_id: int
    fork_number: int
    orphaned: tuple[BlockRecord, ...]
    replaced_by: int
    dropped: tuple[bytes, ...]
    pooled: tuple[bytes, ...]

    @property
    def depth(self) -> int:
        return len(self.orphaned)

    @property
    def removed_logs(self) -> tuple[Log, ...]:
        """Every log of the orphaned blocks, in chain order."""
        return tuple(lg for b in self.orphaned for r in b.receipts for lg in r.logs)
