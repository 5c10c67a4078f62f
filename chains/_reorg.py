"""Rewriting recent history: :meth:`Chain.reorg`, :meth:`Chain.rollback`, finality heads.

A reorg takes the last ``depth`` blocks off the chain and seals ``depth`` new ones on the
common ancestor, at the orphaned blocks' timestamps (the same slots, so the clock and the
head's timestamp are unchanged), each marked in ``extra_data`` with the chain's reorg
count so even an empty block gets a new hash. The new blocks carry the given replacement
transactions (none by default, as anvil); the orphaned transactions they do not carry are
*dropped*: discarded, or sent back to the pending block (``dropped="pool"``), where
they are included again if still valid. The pending block's own operations are carried
over onto the new head. A rollback is a reorg with no new blocks.

Everything derived from the block list follows the new chain: receipts and the
transaction index, ``get_logs``, ``BLOCKHASH`` (the ancestor hashes a block executes
with), historical state (py-evm's trie database keeps every root). Listeners registered
with :meth:`Chain.on_reorg` hear of the rewrite first (the RPC layer sends ``removed: true``
logs), then :meth:`Chain.on_block` listeners see each new block. The orphaned blocks are
kept in a journal so a snapshot taken before the reorg reverts to the old history.

Reorgs never touch a finalized block (``ReorgRefused``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

import rlp
from eth.abc import SignedTransactionAPI
from eth_utils import ValidationError

from chains._blocks import BlockBuilder
from chains._errors import ChainError, InvalidTransaction, ReorgRefused
from chains._evm import DEFAULT_PRIORITY_FEE, TX_BUILDER, TX_GAS_CAP, classify_error
from chains._finality import FinalityLevel, get_close_time, get_level_head
from chains._types import BlockRecord, Reorg

__all__ = ["DROPPED_POLICIES", "Dropped", "Reorganizer", "TxSpec"]

logger = logging.getLogger(__name__)

Dropped = Literal["discard", "pool"]
DROPPED_POLICIES: Final = ("discard", "pool")
#: A replacement transaction: a signed transaction, its raw bytes, or a request mapping
#: (``sender``, ``to``, ``data``, ``value``, ``gas``, ``nonce``; signed by the chain's key
#: for the sender or impersonated; the nonce defaults to the sender's at that point).
TxSpec = SignedTransactionAPI | bytes | Mapping[str, Any]
_REQUEST_KEYS: Final = frozenset({"sender", "to", "data", "value", "gas", "nonce"})


class Reorganizer(BlockBuilder):
    """Finality heads and history rewrites for :class:`~chains.Chain`."""

    _orphans: list[tuple[int, tuple[BlockRecord, ...]]]
    _reorg_base: int
    _reorg_listeners: list[Callable[[Reorg], None]]

    # ------------------------------------------------------------------------------------
    # finality
    # ------------------------------------------------------------------------------------
    def get_finality_head(self, level: FinalityLevel) -> int:
        """The number of the newest ``safe`` or ``finalized`` block now (``chains._finality``)."""
        config = self.config
        if level == "safe":
            depth, after = config.safe_depth, config.safe_after
        elif level == "finalized":
            depth, after = config.finalized_depth, config.finalized_after
        else:
            raise ValueError(f"finality level must be 'safe' or 'finalized', got {level!r}")
        return get_level_head(
            self._blocks,
            self.clock.now,
            depth=depth,
            after=after,
            interval=config.finality_interval,
        )

    def get_finality_time(self, level: FinalityLevel, number: int) -> float | None:
        """When block ``number`` meets the time rule of ``level`` (``c(t) + after``, clock
        seconds); ``None`` if the chain has no time rule for it. Depth rules need blocks."""
        config = self.config
        after = config.safe_after if level == "safe" else config.finalized_after
        if after <= 0 and config.finality_interval <= 0:
            return None
        timestamp = self.get_block(number).timestamp
        return get_close_time(timestamp, config.finality_interval) + after

    @property
    def safe_block_number(self) -> int:
        return self.get_finality_head("safe")

    @property
    def finalized_block_number(self) -> int:
        return self.get_finality_head("finalized")

    def get_block(self, block: int | str | bytes) -> BlockRecord:
        """A sealed block by number, hash or tag; ``safe`` and ``finalized`` follow the
        chain's finality rules (``chains._finality``)."""
        if block in ("safe", "finalized"):
            return self._blocks[self.get_finality_head(block)]  # type: ignore[arg-type]
        return super().get_block(block)

    # ------------------------------------------------------------------------------------
    # listeners
    # ------------------------------------------------------------------------------------
    def on_reorg(self, listener: Callable[[Reorg], None]) -> Callable[[], None]:
        """Call ``listener(reorg)`` after every reorg or rollback, before the new blocks are
        announced to :meth:`on_block` listeners. Returns the unsubscribe function."""
        self._reorg_listeners.append(listener)
        return lambda: self.off_reorg(listener)

    def off_reorg(self, listener: Callable[[Reorg], None]) -> None:
        if listener in self._reorg_listeners:
            self._reorg_listeners.remove(listener)

    # ------------------------------------------------------------------------------------
    # rewrites
    # ------------------------------------------------------------------------------------
    def reorg(
        self,
        depth: int,
        replacement: Sequence[Sequence[TxSpec]] | Mapping[int, Sequence[TxSpec]] | None = None,
        *,
        dropped: Dropped = "discard",
    ) -> Reorg:
        """Replace the last ``depth`` blocks with ``depth`` new ones (anvil's ``anvil_reorg``).

        ``replacement`` gives the new blocks' transactions: a sequence (index 0 = the first
        new block) or a mapping ``{block index: transactions}``, indexes below ``depth``;
        omitted blocks are empty. Orphaned transactions the new blocks do not carry are
        discarded or, with ``dropped="pool"``, sent back to the pending block (under
        automine that mines them again at once, after the new blocks). Refused
        (:class:`ReorgRefused`) if it would replace a finalized block.
        """
        blocks = self._replacement_blocks(depth, replacement)
        return self._rewrite(depth, blocks, dropped, what="reorg")

    def rollback(self, depth: int = 1, *, dropped: Dropped = "discard") -> Reorg:
        """Take the last ``depth`` blocks off the chain (anvil's ``anvil_rollback``)."""
        return self._rewrite(depth, [], dropped, what="rollback")

    def _replacement_blocks(
        self,
        depth: int,
        replacement: Sequence[Sequence[TxSpec]] | Mapping[int, Sequence[TxSpec]] | None,
    ) -> list[list[TxSpec]]:
        self._check_depth(depth, "reorg")
        blocks: list[list[TxSpec]] = [[] for _ in range(depth)]
        if replacement is None:
            return blocks
        items = replacement.items() if isinstance(replacement, Mapping) else enumerate(replacement)
        for index, txs in items:
            if not isinstance(index, int) or not 0 <= index < depth:
                raise ValueError(
                    f"replacement block index {index!r} is outside the reorg: it must be "
                    f"0 … {depth - 1} (depth {depth})"
                )
            if isinstance(txs, bytes | Mapping) or not isinstance(txs, Sequence):
                raise TypeError(
                    f"replacement block {index} must be a sequence of transactions, got {txs!r}"
                )
            blocks[index].extend(txs)
        return blocks

    def _check_depth(self, depth: Any, what: str) -> None:
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise ValueError(f"{what} depth must be an integer ≥ 1, got {depth!r}")
        head = self.block_number
        if depth > head:
            raise ReorgRefused(
                f"{what} depth {depth} reaches below genesis on chain {self.name} (head {head})"
            )
        finalized = self.finalized_block_number
        if head - depth < finalized:
            raise ReorgRefused(
                f"{what} of depth {depth} on chain {self.name} would rewrite finalized block "
                f"{head - depth + 1} (head {head}, finalized head {finalized}; at most "
                f"{head - finalized} blocks can be replaced — see ChainConfig finality)"
            )

    def _rewrite(
        self, depth: int, new_blocks: list[list[TxSpec]], dropped: Dropped, *, what: str
    ) -> Reorg:
        if dropped not in DROPPED_POLICIES:
            raise ValueError(f"dropped must be 'discard' or 'pool', got {dropped!r}")
        self._check_depth(depth, what)
        fork = self.block_number - depth
        orphaned = tuple(self._blocks[fork + 1 :])
        carried = list(self._pending_ops)
        next_timestamp = self._next_timestamp
        saved = self._capture()
        listeners, self._listeners = self._listeners, []
        try:
            self._cancel_seal()
            self._pending = None
            self._pending_ops = []
            self._live_state = None
            self._truncate(fork)
            self._orphans.append((fork, orphaned))
            count = self._reorg_base + len(self._orphans)
            self._extra_data = f"testbed-reorg:{count}".encode()
            sealed: list[BlockRecord] = []
            for index, specs in enumerate(new_blocks):
                self._next_timestamp = orphaned[index].timestamp  # the same slot
                pending = self._open()
                for spec in specs:
                    tx = self._replacement_tx(spec, pending)
                    try:
                        computation, evm_receipt, gas_used = self._run(pending, tx)
                    except ValidationError as exc:
                        raise classify_error(exc) from exc
                    self._record(pending, tx, computation, evm_receipt, gas_used)
                    self._pending_ops.append(("tx", tx))
                sealed.append(self._seal())
        except BaseException:
            self._extra_data = b""
            self._listeners = listeners
            self._restore(saved)
            raise
        self._extra_data = b""
        self._listeners = listeners
        self._next_timestamp = next_timestamp
        kept = {r.tx_hash for b in sealed for r in b.receipts}
        lost = [tx for b in orphaned for tx in b.transactions if tx.hash not in kept]
        if self.last_receipt is not None and self.last_receipt.tx_hash not in self._tx_index:
            self.last_receipt = None
        pool = [("tx", tx) for tx in lost] if dropped == "pool" else []
        event = Reorg(
            chain_id=self.chain_id,
            fork_number=fork,
            orphaned=orphaned,
            replaced_by=len(sealed),
            dropped=tuple(tx.hash for tx in lost),
            pooled=tuple(tx.hash for tx in lost) if dropped == "pool" else (),
        )
        logger.info(
            "chain %s: %s of depth %d at block %d (%d transactions dropped, %s)",
            self.name,
            what,
            depth,
            fork,
            len(lost),
            dropped,
        )
        for on_reorg in tuple(self._reorg_listeners):
            on_reorg(event)
        for record in sealed:
            for on_block in tuple(self._listeners):
                on_block(record)
        self._return_to_pool(pool + carried)
        return event

    def _truncate(self, number: int) -> None:
        """Drop every block after ``number`` from the block list and the transaction index."""
        for record in self._blocks[number + 1 :]:
            for tx_hash in record.tx_hashes:
                self._tx_index.pop(tx_hash, None)
        del self._blocks[number + 1 :]

    def _unwind_orphans(self, keep: int) -> None:
        """Undo the reorgs journalled after the first ``keep`` (newest first): put the
        orphaned blocks back in place of their replacements (snapshots taken before)."""
        while len(self._orphans) > keep:
            fork, orphaned = self._orphans.pop()
            self._truncate(fork)
            self._blocks.extend(orphaned)
            for record in orphaned:
                for index, receipt in enumerate(record.receipts):
                    self._tx_index[receipt.tx_hash] = (record.number, index)

    def _replacement_tx(self, spec: TxSpec, pending: Any) -> SignedTransactionAPI:
        if isinstance(spec, bytes):
            try:
                return (
                    TX_BUILDER.deserialize(spec) if spec[:1] < b"\x80" else TX_BUILDER.decode(spec)
                )
            except (
                rlp.DecodingError,
                rlp.DeserializationError,
                ValidationError,
                ValueError,
            ) as exc:
                raise InvalidTransaction(
                    f"could not decode a replacement transaction: {exc}"
                ) from exc
        if isinstance(spec, Mapping):
            unknown = set(spec) - _REQUEST_KEYS
            if unknown:
                raise ValueError(
                    f"unknown replacement transaction field(s) {sorted(unknown)}; "
                    f"known: {sorted(_REQUEST_KEYS)}"
                )
            sender = self._canonical(spec.get("sender", self.default_sender))  # type: ignore[attr-defined]
            to = spec.get("to")
            nonce = spec.get("nonce")
            if nonce is None:
                nonce = pending.vm.state.get_nonce(sender)
            base_fee = pending.header.base_fee_per_gas
            gas = spec.get("gas")
            if gas is None:
                gas = min(TX_GAS_CAP, self.config.gas_limit - pending.gas_used)
            return self._build(
                sender,
                int(nonce),
                DEFAULT_PRIORITY_FEE,
                base_fee * 2 + DEFAULT_PRIORITY_FEE,
                int(gas),
                self._canonical(to) if to is not None else b"",  # type: ignore[arg-type]
                int(spec.get("value", 0)),
                bytes(spec.get("data", b"")),
            )
        if hasattr(spec, "hash") and hasattr(spec, "nonce"):
            return spec
        raise TypeError(f"not a transaction: {spec!r}")

    def _return_to_pool(self, ops: Sequence[tuple[Any, ...]]) -> None:
        """Send operations back to the pending block: each transaction is included again if
        still valid on the new chain (else dropped, and logged), each dev state write redone.

        This is the seam for a transaction pool: with one, dropped transactions would go
        to the pool and wait there for a block instead of entering the pending block.
        """
        for op in ops:
            if op[0] != "tx":
                self._state_op(op)
                continue
            try:
                self._include(op[1], retry_in_new_block=False)
            except ChainError as exc:
                logger.info(
                    "chain %s: transaction 0x%s is no longer valid after the reorg: %s",
                    self.name,
                    op[1].hash.hex(),
                    exc,
                )

    if TYPE_CHECKING:  # the snapshot mechanism, provided by the facade (Chain)

        def _capture(self) -> Any: ...

        def _restore(self, snap: Any) -> None: ...
