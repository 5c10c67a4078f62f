"""Exceptions raised by the chains package.

Every error a user can provoke (bad input, a reverting contract, a stale snapshot id) is a
subclass of :class:`ChainError`, so a caller can catch the family while tests match the
precise type. JSON-RPC maps each to a code in :mod:`chains.rpc`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chains._types import Receipt

__all__ = [
    "ChainError",
    "CompileError",
    "ConfigError",
    "InsufficientFunds",
    "InvalidTransaction",
    "NonceTooLow",
    "SnapshotNotFound",
    "TransactionReverted",
    "UnknownBlock",
]

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)


class ChainError(Exception):
    """Base class of every error the chains package raises on purpose."""


class ConfigError(ChainError, ValueError):
    """A devnet or chain configuration is invalid; the message names the bad key."""


class CompileError(ChainError):
    """The Vyper compiler rejected a source; the message carries its diagnostic."""


class InvalidTransaction(ChainError, ValueError):
    """A transaction that can never be included (bad signature, wrong chain id, ...)."""


class NonceTooLow(InvalidTransaction):
    """The transaction's nonce was already used by its sender."""


class InsufficientFunds(InvalidTransaction):
    """The sender cannot pay value + gas limit × max fee."""


class UnknownBlock(ChainError, LookupError):
    """A block number, hash or tag that this chain does not have."""


class SnapshotNotFound(ChainError, LookupError):
    """A snapshot id that was never taken, or was consumed by an earlier revert."""


class TransactionReverted(ChainError):
    """The EVM reverted a call or transaction.

    ``reason`` is the decoded ``Error(string)`` message (or ``Panic(0x..)``), ``None`` when
    the revert carried no decodable reason; ``data`` is the raw revert data; ``receipt`` is
    the mined receipt for a transaction, ``None`` for a call or a gas estimate.
    """

    def __init__(
        self,
        reason: str | None,
        data: bytes = b"",
        receipt: Receipt | None = None,
        *,
        error: str | None = None,
    ) -> None:
        self.reason = reason
        self.data = bytes(data)
        self.receipt = receipt
        self.error = error
        shown = reason if reason is not None else (error or f"no reason, data 0x{data.hex()}")
        super().__init__(f"execution reverted: {shown}")

    @classmethod
    def from_revert_data(
        cls, data: bytes, receipt: Receipt | None = None, *, error: str | None = None
    ) -> TransactionReverted:
        """Build the exception, decoding ``Error(string)`` and ``Panic(uint256)`` payloads."""
        return cls(decode_revert_reason(data), data, receipt, error=error)


def decode_revert_reason(data: bytes) -> str | None:
    """Return the human reason inside revert ``data``, or ``None`` if it has none."""
    from eth_abi import decode
    from eth_abi.exceptions import DecodingError

    if data[:4] == ERROR_SELECTOR:
        try:
            (reason,) = decode(["string"], data[4:])
        except (DecodingError, OverflowError, UnicodeDecodeError):
            return None
        return str(reason)
    if data[:4] == PANIC_SELECTOR and len(data) == 36:
        return f"Panic(0x{int.from_bytes(data[4:], 'big'):02x})"
    return None


def describe(value: Any) -> str:
    """A short repr for error messages (long bytes are elided)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
