"""Cross-chain bundles: several transactions on several chains of one devnet, in one slot.

:meth:`chains.Devnet.bundle` takes legs — ``(chain, transaction)`` pairs — and includes them
in the same slot: every chain the bundle touches seals one block holding its legs, all at
one timestamp (the slot's), sealed together after the last leg ran.

- ``atomic_execution=True`` (a *superblock*, as built by two-phase commit): each leg
  executes on its chain's pending state in order (*prepare*); a leg that reverts or cannot
  be included votes no; only if every leg voted yes are the blocks sealed (*commit*),
  otherwise every chain, the clock and every attached participant return to the state
  before the bundle (*roll back*) and :class:`BundleReverted` names the failing leg.
- ``atomic_execution=False`` (a shared sequencer's atomic *inclusion*): all legs are
  included in the slot, each executes on its own and may revert on its own; the result
  carries each leg's receipt or error.

A transaction is a mapping of :meth:`Chain.transact` keywords (``sender``, ``to``, ``data``,
``value``, ``gas``, ...), raw signed bytes (:meth:`Chain.send_raw_transaction`), or a
callable taking the chain that sends a transaction on it (a contract call, e.g.
``lambda chain: token.transfer(to, 5, sender=user)``; its receipt is the chain's latest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chains._errors import ChainError, TransactionReverted
from chains._types import Receipt

if TYPE_CHECKING:
    from chains._chain import Chain
    from chains._devnet import Devnet

__all__ = ["BundleError", "BundleResult", "BundleReverted", "Transaction", "run_bundle"]

#: What a bundle leg's transaction may be (see the module docstring).
Transaction = Mapping[str, Any] | bytes | Callable[["Chain"], Receipt]


class BundleError(ChainError, ValueError):
    """A bundle that cannot run: empty, a leg for a chain this devnet does not have, a
    transaction of an unknown form, or a chain whose pending block already holds
    transactions."""


class BundleReverted(ChainError):
    """An atomic bundle's leg failed; every chain was rolled back. ``leg`` is its index,
    ``chain`` its chain's name, ``reason`` the revert reason or error, ``receipt`` the
    failed transaction's receipt when it was executed (it is not on any chain)."""

    def __init__(self, leg: int, chain: str, reason: str, receipt: Receipt | None) -> None:
        super().__init__(f"bundle leg {leg} on chain {chain} failed: {reason}; rolled back")
        self.leg = leg
        self.chain = chain
        self.reason = reason
        self.receipt = receipt


@dataclass(frozen=True)
class BundleResult:
    """What a bundle did: the slot's timestamp, the block each touched chain sealed
    (chain name → number), and per leg its receipt (``None`` if it could not be included)
    and its error (``None`` if it succeeded)."""

    timestamp: int
    blocks: tuple[tuple[str, int], ...]
    receipts: tuple[Receipt | None, ...]
    errors: tuple[str | None, ...]

    @property
    def is_complete(self) -> bool:
        """Every leg succeeded."""
        return all(e is None for e in self.errors)


def _resolve(devnet: Devnet, key: Any, index: int) -> Chain:
    from chains._chain import Chain

    if isinstance(key, Chain):
        if key not in devnet.chains:
            raise BundleError(f"bundle leg {index}: chain {key.name} is not in this devnet")
        return key
    for chain in devnet.chains:
        if key in (chain.name, chain.chain_id, str(chain.chain_id)):
            return chain
    known = ", ".join(f"{c.name} ({c.chain_id})" for c in devnet.chains)
    raise BundleError(f"bundle leg {index}: unknown chain {key!r}; chains: {known}")


def _execute(chain: Chain, tx: Transaction, index: int) -> Receipt:
    if isinstance(tx, bytes | bytearray):
        return chain.send_raw_transaction(bytes(tx))
    if isinstance(tx, Mapping):
        return chain.transact(**dict(tx))
    if callable(tx):
        before = chain.last_receipt
        out = tx(chain)
        receipt = out if isinstance(out, Receipt) else chain.last_receipt
        if receipt is None or receipt is before:
            raise BundleError(
                f"bundle leg {index}: the callable sent no transaction on {chain.name}"
            )
        return receipt
    raise BundleError(
        f"bundle leg {index}: a transaction is a mapping of transact() keywords, raw "
        f"signed bytes or a callable(chain) -> Receipt, got {type(tx).__name__}"
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, TransactionReverted):
        return exc.reason or str(exc)
    return str(exc) or type(exc).__name__


def run_bundle(
    devnet: Devnet,
    legs: Sequence[tuple[Any, Transaction]],
    *,
    atomic_execution: bool = True,
) -> BundleResult:
    """See the module docstring and :meth:`chains.Devnet.bundle`."""
    if not legs:
        raise BundleError("empty bundle: give at least one (chain, transaction) leg")
    resolved = []
    for index, leg in enumerate(legs):
        if not (isinstance(leg, tuple | list) and len(leg) == 2):
            raise BundleError(f"bundle leg {index}: expected a (chain, transaction) pair")
        resolved.append((_resolve(devnet, leg[0], index), leg[1]))
    touched = list(dict.fromkeys(chain for chain, _ in resolved))
    for chain in touched:
        if chain.pending_transactions:
            raise BundleError(
                f"chain {chain.name}'s pending block already holds transactions; mine them "
                "before a bundle"
            )
    # the slot: one timestamp every touched chain can still use
    timestamp = max([int(devnet.clock.now)] + [c.timestamp + 1 for c in touched])
    snapshot = devnet.snapshot()
    receipts: list[Receipt | None] = []
    errors: list[str | None] = []
    is_committed = False
    for chain in touched:
        chain._is_holding = True
    try:
        for chain in touched:
            chain.set_next_block_timestamp(timestamp)
        for index, (chain, tx) in enumerate(resolved):
            try:
                receipt = _execute(chain, tx, index)
            except BundleError:
                raise
            except (ChainError, ValueError) as exc:
                failed = exc.receipt if isinstance(exc, TransactionReverted) else None
                if atomic_execution:
                    # this leg votes no: the finally below rolls every chain back
                    raise BundleReverted(index, chain.name, _reason(exc), failed) from exc
                receipts.append(failed)
                errors.append(_reason(exc))
                continue
            receipts.append(receipt)
            errors.append(None)
        is_committed = True
    finally:
        for chain in touched:
            chain._is_holding = False
        if not is_committed:
            devnet.revert(snapshot)
        devnet.forget(snapshot)
    # commit: seal every touched chain's block, in devnet order, at the slot's timestamp
    blocks = tuple((c.name, c.mine()[0].number) for c in devnet.chains if c in touched)
    final = tuple(
        None if r is None else _sealed_receipt(chain, r)
        for (chain, _), r in zip(resolved, receipts, strict=True)
    )
    return BundleResult(timestamp, blocks, final, tuple(errors))


def _sealed_receipt(chain: Chain, receipt: Receipt) -> Receipt:
    try:
        return chain.get_receipt(receipt.tx_hash)
    except KeyError:
        return receipt
