"""Dev-only controls of a chain: mining mode, block parameters, time, reset, balances.

:class:`DevControls` is the part of :class:`~chains.Chain` the anvil / Hardhat dev
methods call (``chains/rpc/_dev.py``); none of it exists on a production chain. Each
control is plain Python first, so pytest users get it without JSON-RPC.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from eth_abi import decode, encode
from eth_utils import keccak, to_checksum_address

from chains._blocks import _DevSettings, _Snapshot
from chains._calls import AccountOverride, CallRunner
from chains._config import MiningMode
from chains._errors import ChainError
from chains._pool import TxQueue

__all__ = ["DevControls"]

_BALANCE_OF = keccak(b"balanceOf(address)")[:4]
_ALLOWANCE = keccak(b"allowance(address,address)")[:4]
#: How many storage slot numbers :meth:`DevControls.set_erc20_balance` tries per layout.
_ERC20_SLOT_SEARCH = 64


class DevControls(CallRunner):
    """anvil's dev controls as methods (the RPC layer only parses and formats)."""

    # ------------------------------------------------------------------------------------
    # mining
    # ------------------------------------------------------------------------------------
    @property
    def mining(self) -> MiningMode:
        """``"auto"``, ``"interval"`` or ``"manual"``."""
        return self.config.mining

    def set_mining(self, mode: MiningMode, *, block_time: float | None = None) -> None:
        """Switch mining mode (anvil_setAutomine, evm_setIntervalMining).

        Transactions already in the pending block stay there: under automine the next
        transaction (or ``mine()``) seals them with it; under interval mining the next
        boundary does.
        """
        changes: dict[str, Any] = {"mining": mode}
        if block_time is not None:
            changes["block_time"] = block_time
        self.config = dataclasses.replace(self.config, **changes)
        self._cancel_seal()
        if mode == "interval" and self._pending_ops:
            self._schedule_seal()

    def set_block_gas_limit(self, gas_limit: int) -> None:
        """Gas limit of the blocks from the next one on (anvil_setBlockGasLimit)."""
        self.config = dataclasses.replace(self.config, gas_limit=int(gas_limit))
        self._reopen_if_empty()

    def set_coinbase(self, address: str | bytes) -> None:
        """Beneficiary of the blocks from the next one on (anvil_setCoinbase)."""
        self._coinbase = bytes(self._canonical(address))
        self._reopen_if_empty()

    def set_next_block_base_fee(self, base_fee: int) -> None:
        """Base fee of the next block only (anvil_setNextBlockBaseFeePerGas)."""
        self._require_empty_pending("set the next block's base fee")
        self._next_base_fee = int(base_fee)
        self._reopen_if_empty()

    def set_next_block_prevrandao(self, value: bytes) -> None:
        """prevrandao (mixHash) of the next block only (anvil_setNextBlockPrevRandao)."""
        if len(value) != 32:
            raise ValueError(f"prevrandao must be 32 bytes, got {len(value)}")
        self._require_empty_pending("set the next block's prevrandao")
        self._next_prevrandao = bytes(value)
        self._reopen_if_empty()

    def set_block_timestamp_interval(self, seconds: int | None) -> None:
        """Each new block ``seconds`` after the previous one, whatever the clock says
        (anvil_setBlockTimestampInterval); ``None`` goes back to the clock."""
        if seconds is not None and seconds < 1:
            raise ValueError(
                f"the interval must be at least 1 s (timestamps increase), got {seconds}"
            )
        self._timestamp_interval = seconds
        self._reopen_if_empty()

    @property
    def block_timestamp_interval(self) -> int | None:
        """The fixed gap between block timestamps, or ``None`` (the clock times blocks)."""
        return self._timestamp_interval

    def _require_empty_pending(self, what: str) -> None:
        if self._pending is not None and self._pending.transactions:
            raise ChainError(f"cannot {what}: the pending block already holds transactions")

    def _reopen_if_empty(self) -> None:
        """Drop an open, empty pending block so the next one picks up new parameters."""
        if self._pending is not None and not self._pending.transactions:
            self._replay(self._pending_ops)

    # ------------------------------------------------------------------------------------
    # accounts
    # ------------------------------------------------------------------------------------
    def auto_impersonate(self, enabled: bool) -> None:
        """Accept any sender without its key (anvil_autoImpersonateAccount)."""
        self.is_auto_impersonating = bool(enabled)

    def add_balance(self, address: str | bytes, wei: int) -> None:
        """Add ``wei`` to an account's balance (anvil_addBalance)."""
        if wei < 0:
            raise ValueError(f"amount must be non-negative, got {wei}")
        self._state_op(("balance", self._canonical(address), self._balance(address) + int(wei)))

    def _balance(self, address: str | bytes) -> int:
        return int(self._state.get_balance(self._canonical(address)))

    def set_erc20_balance(self, token: str | bytes, account: str | bytes, amount: int) -> int:
        """Write ``account``'s balance in an ERC-20 token's storage; return the slot.

        Finds the ``balanceOf`` mapping the way anvil_dealERC20 does, by trying: for slot
        numbers 0-63, both layouts ``keccak(account . n)`` (Solidity) and
        ``keccak(n . account)`` (Vyper), a slot is the one if a probe value written there
        (a state override, nothing kept) makes ``balanceOf(account)`` return it. Tokens
        computing balances (rebasing, shares) have no such slot: :class:`ChainError`.
        """
        account_b = self._canonical(account)
        call = _BALANCE_OF + encode(["address"], [to_checksum_address(account_b)])
        return self._write_mapping(token, [bytes(account_b)], call, amount, "balanceOf")

    def set_erc20_allowance(
        self, token: str | bytes, owner: str | bytes, spender: str | bytes, amount: int
    ) -> int:
        """Write ``allowance(owner, spender)`` in an ERC-20 token's storage; return the slot
        (found as :meth:`set_erc20_balance` finds balances, one mapping level deeper)."""
        owner_b, spender_b = self._canonical(owner), self._canonical(spender)
        call = _ALLOWANCE + encode(
            ["address", "address"], [to_checksum_address(owner_b), to_checksum_address(spender_b)]
        )
        return self._write_mapping(
            token, [bytes(owner_b), bytes(spender_b)], call, amount, "allowance"
        )

    def _write_mapping(
        self, token: str | bytes, keys: list[bytes], call: bytes, amount: int, getter: str
    ) -> int:
        token_b = self._canonical(token)
        for number in range(_ERC20_SLOT_SEARCH):
            for is_solidity in (True, False):
                slot = number
                for key in keys:
                    word = key.rjust(32, b"\0")
                    pair = word + slot.to_bytes(32, "big")
                    if not is_solidity:
                        pair = slot.to_bytes(32, "big") + word
                    slot = int.from_bytes(keccak(pair), "big")
                probe = int.from_bytes(keccak(b"probe" + slot.to_bytes(32, "big")), "big") >> 8
                override = {bytes(token_b): AccountOverride(storage_diff={slot: probe})}
                result = self.simulate(to=token_b, data=call, state_override=override)
                if (
                    not result.is_error
                    and len(result.output) >= 32
                    and decode(["uint256"], result.output[:32])[0] == probe
                ):
                    self.set_storage_at(token_b, slot, int(amount))
                    return slot
        raise ChainError(
            f"no {getter} storage slot found in token {to_checksum_address(token_b)} (tried "
            f"slots 0-{_ERC20_SLOT_SEARCH - 1}, Solidity and Vyper mapping layouts)"
        )

    # ------------------------------------------------------------------------------------
    # reset
    # ------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to genesis (anvil_reset without forking): blocks, pool, block parameters
        and auto-impersonation (the mining mode stays).

            The devnet's clock is shared with the other chains and is not moved back: the
            next block is timed by it, as any block after genesis.
        """
        self._restore(
            _Snapshot(
                head=0,
                pending_ops=(),
                pending_timestamp=None,
                next_timestamp=None,
                impersonated=frozenset(),
                queue=TxQueue(),
                dev=_DevSettings(self.config, bytes(20), None, None, None, False),
            )
        )
        # Snapshots above genesis point at blocks that are gone; genesis ones still hold
        # (a test fixture's anchor taken on a fresh devnet survives a reset inside it).
        for sid in [sid for sid, snap in self._snapshots.items() if snap.head > 0]:
            del self._snapshots[sid]

    def _dev_settings(self) -> _DevSettings:
        return _DevSettings(
            self.config,
            self._coinbase,
            self._next_base_fee,
            self._next_prevrandao,
            self._timestamp_interval,
            self.is_auto_impersonating,
        )

    def _restore_dev_settings(self, dev: _DevSettings) -> None:
        self._cancel_seal()
        self.config = dev.config
        self._coinbase = dev.coinbase
        self._next_base_fee = dev.next_base_fee
        self._next_prevrandao = dev.next_prevrandao
        self._timestamp_interval = dev.timestamp_interval
        self.is_auto_impersonating = dev.is_auto_impersonating

    if TYPE_CHECKING:

        def _restore(self, snap: _Snapshot) -> None: ...  # Chain's: back to a snapshot

        def set_storage_at(
            self, address: str | bytes, slot: int, value: int
        ) -> None: ...  # Chain's
