"""The transaction pool: transactions waiting for their nonce, and the replacement rule.

A transaction whose nonce is the sender's next one goes straight into the pending block
(the block builder runs it there, as before); one with a later nonce waits in the
:class:`TxQueue` until the gap fills, then is promoted into the pending block in nonce
order. A transaction reusing the nonce of a waiting one (queued, or in the pending block
under manual or interval mining) replaces it only if it raises both the fee cap and the
tip by at least :data:`PRICE_BUMP` percent — geth's ``txpool.pricebump`` rule and message
("replacement transaction underpriced"); the very same transaction again is "already
known". :class:`TxPool` is the read/drop view users get as ``chain.txpool``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from eth.abc import SignedTransactionAPI
from eth_utils import to_checksum_address

from chains._errors import InvalidTransaction, ReplacementUnderpriced

if TYPE_CHECKING:
    from chains._chain import Chain

__all__ = ["PRICE_BUMP", "PoolStatus", "TxPool", "TxQueue", "check_replacement"]

#: Minimum fee increase, in percent, for a transaction to replace one with its nonce
#: (geth's default ``--txpool.pricebump``; anvil applies the same rule).
PRICE_BUMP = 10


def check_replacement(old: SignedTransactionAPI, new: SignedTransactionAPI) -> None:
    """Raise unless ``new`` may replace ``old`` (same sender and nonce).

    Rule (geth ``list.Add``): ``new.fee_cap >= old.fee_cap × (100 + PRICE_BUMP) / 100``
    and ``new.tip >= old.tip × (100 + PRICE_BUMP) / 100``, integer arithmetic. A legacy
    transaction's fee cap and tip are both its gas price.
    """
    if new.hash == old.hash:
        raise InvalidTransaction("already known")
    cap_floor = old.max_fee_per_gas * (100 + PRICE_BUMP) // 100
    tip_floor = old.max_priority_fee_per_gas * (100 + PRICE_BUMP) // 100
    if new.max_fee_per_gas < cap_floor or new.max_priority_fee_per_gas < tip_floor:
        raise ReplacementUnderpriced(
            f"replacement transaction underpriced: needs maxFeePerGas >= {cap_floor} and "
            f"maxPriorityFeePerGas >= {tip_floor} (+{PRICE_BUMP} %), got "
            f"{new.max_fee_per_gas} and {new.max_priority_fee_per_gas}"
        )


@dataclass
class TxQueue:
    """Transactions whose nonce is ahead of their sender's: sender → nonce → transaction."""

    by_sender: dict[bytes, dict[int, SignedTransactionAPI]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_sender)

    def __len__(self) -> int:
        return sum(len(txs) for txs in self.by_sender.values())

    def __iter__(self) -> Iterator[SignedTransactionAPI]:
        """Every queued transaction, by sender then nonce (a stable order)."""
        for sender in sorted(self.by_sender):
            txs = self.by_sender[sender]
            for nonce in sorted(txs):
                yield txs[nonce]

    def put(self, tx: SignedTransactionAPI) -> SignedTransactionAPI | None:
        """Queue ``tx``; return the transaction it replaced (checked by the fee rule)."""
        txs = self.by_sender.setdefault(bytes(tx.sender), {})
        old = txs.get(tx.nonce)
        if old is not None:
            check_replacement(old, tx)
        txs[tx.nonce] = tx
        return old

    def get(self, sender: bytes, nonce: int) -> SignedTransactionAPI | None:
        return self.by_sender.get(sender, {}).get(nonce)

    def take(self, sender: bytes, nonce: int) -> SignedTransactionAPI | None:
        """Remove and return the transaction of ``sender`` at ``nonce``; forget older ones."""
        txs = self.by_sender.get(sender)
        if not txs:
            return None
        for stale in [n for n in txs if n < nonce]:
            del txs[stale]
        tx = txs.pop(nonce, None)
        if not txs:
            del self.by_sender[sender]
        return tx

    def find(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        return next((tx for tx in self if tx.hash == tx_hash), None)

    def drop(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        """Remove the transaction with ``tx_hash``; return it (``None`` if not queued)."""
        tx = self.find(tx_hash)
        if tx is not None:
            txs = self.by_sender[bytes(tx.sender)]
            del txs[tx.nonce]
            if not txs:
                del self.by_sender[bytes(tx.sender)]
        return tx

    def clear(self) -> None:
        self.by_sender.clear()

    def copy(self) -> TxQueue:
        return TxQueue({sender: dict(txs) for sender, txs in self.by_sender.items()})


class PoolStatus(NamedTuple):
    """How many transactions wait: in the pending block, and queued for their nonce."""

    pending: int
    queued: int


class TxPool:
    """``chain.txpool``: what is waiting to be mined, and how to take it out again.

    ``pending`` are the transactions in the block not yet sealed (manual or interval
    mining; always empty under automine); ``queued`` those whose nonce is ahead of
    their sender's. Transactions enter through :meth:`Chain.submit`,
    :meth:`Chain.submit_raw_transaction` or :meth:`Chain.submit_transaction`.
    """

    def __init__(self, chain: Chain) -> None:
        self._chain = chain

    def __repr__(self) -> str:
        pending, queued = self.status()
        return f"<TxPool of {self._chain.name}: {pending} pending, {queued} queued>"

    @property
    def pending(self) -> tuple[SignedTransactionAPI, ...]:
        """Transactions in the pending block, in block order."""
        return self._chain._pending_transactions()

    @property
    def queued(self) -> tuple[SignedTransactionAPI, ...]:
        """Transactions waiting for their nonce, by sender then nonce."""
        return tuple(self._chain._queue)

    def status(self) -> PoolStatus:
        return PoolStatus(len(self.pending), len(self._chain._queue))

    def content(self) -> dict[str, dict[str, dict[int, SignedTransactionAPI]]]:
        """``{"pending"|"queued": {checksum sender: {nonce: transaction}}}`` (txpool_content)."""
        out: dict[str, dict[str, dict[int, Any]]] = {"pending": {}, "queued": {}}
        for kind, txs in (("pending", self.pending), ("queued", self.queued)):
            for tx in txs:
                out[kind].setdefault(to_checksum_address(tx.sender), {})[tx.nonce] = tx
        return out

    def find(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        """The waiting transaction with this hash (pending or queued), else ``None``."""
        found = next((tx for tx in self.pending if tx.hash == tx_hash), None)
        return found if found is not None else self._chain._queue.find(tx_hash)

    def drop(self, tx_hash: bytes) -> bool:
        """Remove a waiting transaction; later ones of its sender go back to the queue."""
        return self._chain.drop_transaction(tx_hash)

    def drop_all(self) -> int:
        """Remove every waiting transaction; return how many there were."""
        return self._chain.drop_all_transactions()
