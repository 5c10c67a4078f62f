"""Read-only execution: ``call``, ``simulate`` and ``estimate_gas`` against any block's state.

:class:`CallRunner` is the part of :class:`~chains.Chain` that runs a message and rolls
it back (geth's ``eth_call``: no nonce check, no fee, intrinsic gas counted), on the
pending block's live state or on a sealed block's state rebuilt from its root.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from eth.constants import ZERO_ADDRESS
from eth_typing import Address
from eth_utils import to_checksum_address

from chains._blocks import BlockBuilder
from chains._errors import (
    InsufficientFunds,
    InvalidTransaction,
    TransactionReverted,
)
from chains._evm import (
    TX_BUILDER,
    TX_GAS_CAP,
    CallResult,
    CallTransaction,
    error_name,
)

__all__ = ["CallRunner"]


class CallRunner(BlockBuilder):
    """Calls and gas estimates of :class:`~chains.Chain`."""

    # ------------------------------------------------------------------------------------
    def call(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        gas: int | None = None,
        block: int | str = "pending",
    ) -> bytes:
        """Execute without committing (``eth_call``); return the output or raise on revert."""
        result = self.simulate(to=to, data=data, sender=sender, value=value, gas=gas, block=block)
        if result.is_error:
            raise TransactionReverted.from_revert_data(result.output, error=result.error)
        return result.output

    def simulate(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        gas: int | None = None,
        block: int | str = "pending",
    ) -> CallResult:
        """Run a message against a block's state and roll it back; report the outcome.

        Like ``eth_call`` in geth: no nonce check, no fee charged, intrinsic gas counted.
        """
        from_ = self._canonical(sender) if sender is not None else ZERO_ADDRESS
        to_bytes = Address(b"") if to is None else self._canonical(to)
        gas = self.config.gas_limit if gas is None else gas
        with self._state_at(block) as state:
            nonce = state.get_nonce(from_)
            unsigned = TX_BUILDER.create_unsigned_transaction(
                nonce=nonce, gas_price=0, gas=gas, to=to_bytes, value=value, data=data
            )
            tx = CallTransaction(unsigned, from_)
            state.lock_changes()  # a new transaction: nothing is warm from the last one
            snapshot = state.snapshot()
            try:
                if state.get_balance(from_) < value:
                    raise InsufficientFunds(
                        f"sender {to_checksum_address(from_)} has less than the call's value"
                    )
                executor = state.get_transaction_executor()
                if gas < tx.intrinsic_gas:
                    raise InvalidTransaction(
                        f"gas {gas} is below the intrinsic gas {tx.intrinsic_gas}"
                    )
                message = executor.build_evm_message(tx)
                computation = executor.build_computation(message, tx)
                used = computation.get_gas_used() + tx.intrinsic_gas
                refund = computation.get_gas_refund()
                is_error = computation.is_error
                output = bytes(computation.output)
                error = error_name(computation.error) if is_error else None
            finally:
                state.revert(snapshot)
        return CallResult(output, used, refund, is_error, error)

    def estimate_gas(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        block: int | str = "pending",
    ) -> int:
        """Gas limit that makes this transaction succeed: two EVM runs, not a bisection.

        Run once at the cap to learn the gas used and refunded; try the optimistic limit
        ``(used + refund + 2300) × 64/63`` (geth's first guess, covering the 63/64 call
        rule and stipends); only if that fails, bisect between used and the cap.
        """
        first = self.simulate(to=to, data=data, sender=sender, value=value, block=block)
        if first.is_error:
            raise TransactionReverted.from_revert_data(first.output, error=first.error)
        cap = min(self.config.gas_limit, TX_GAS_CAP)
        guess = min(cap, (first.gas_used + first.gas_refund + 2300) * 64 // 63)
        if not self.simulate(
            to=to, data=data, sender=sender, value=value, gas=guess, block=block
        ).is_error:
            return guess
        low, high = first.gas_used, cap
        while high - low > max(1000, low // 100):
            mid = (low + high) // 2
            failed = self.simulate(
                to=to, data=data, sender=sender, value=value, gas=mid, block=block
            ).is_error
            low, high = (mid, high) if failed else (low, mid)
        return high

    @contextlib.contextmanager
    def _state_at(self, block: int | str) -> Iterator[Any]:
        if block == "pending":
            yield self._state
            return
        record = self.get_block(block)
        if (
            record.number == self.block_number
            and self._pending is None
            and self._live_state is not None
        ):
            # Nothing opened since the last seal: the live state is the one that block
            # persisted, with that block's execution context, and its caches are warm.
            # Callers only read it or roll back what they ran (simulate). An open pending
            # block, even an empty one, has the next block's context (number, timestamp,
            # system-contract writes), so the head is then rebuilt below.
            yield self._live_state
            return
        state = self._vm_class.build_state(
            self._chaindb.db, record.header, self._chain_context, self._ancestors(record.number)
        )
        yield state
