"""The anvil / Hardhat dev methods: snapshots, time, mining, account and state overrides."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from eth_utils import to_checksum_address

from chains._errors import SnapshotNotFound
from chains.rpc._dispatch import (
    MethodTable,
    rpc_method,
)
from chains.rpc._wire import (
    check_object,
    invalid,
    parse_address,
    parse_data,
    parse_quantity,
    parse_word,
)

_MINE_FIELDS: Final = frozenset({"timestamp", "blocks"})


class DevMethods(MethodTable):
    """Dev controls: time, mining, snapshots, balances, code, nonces, storage, impersonation."""

    # ------------------------------------------------------------------------------------
    # dev controls: time, mining, snapshots
    # ------------------------------------------------------------------------------------
    @rpc_method("evm_snapshot")
    def snapshot(self) -> str:
        """Snapshot this chain (not the shared clock); return the id."""
        return hex(self.chain.snapshot())

    @rpc_method("evm_revert")
    def revert(self, snapshot_id: Any) -> bool:
        """Revert to a snapshot; ``false`` if the id is unknown (as anvil and Hardhat)."""
        try:
            self.chain.revert(parse_quantity(snapshot_id, "snapshot_id"))
        except SnapshotNotFound:
            return False
        return True

    def _set_next_timestamp(self, timestamp: int, name: str) -> None:
        try:
            self.chain.set_next_block_timestamp(timestamp)
        except ValueError as exc:
            raise invalid(name, str(exc)) from exc

    @rpc_method("evm_mine")
    def mine(self, options: Any = None) -> str:
        """Mine one block, or ``{"blocks": n, "timestamp": t}``; a bare timestamp also works."""
        blocks, timestamp = 1, None
        if isinstance(options, Mapping):
            obj = check_object(options, "options", _MINE_FIELDS)
            if obj.get("blocks") is not None:
                blocks = parse_quantity(obj["blocks"], "options.blocks", limit=10_000)
            if obj.get("timestamp") is not None:
                timestamp = parse_quantity(obj["timestamp"], "options.timestamp", limit=2**63 - 1)
        elif options is not None:
            timestamp = parse_quantity(options, "timestamp", limit=2**63 - 1)
        if blocks < 1:
            return "0x0"
        if timestamp is not None:
            self._set_next_timestamp(timestamp, "timestamp")
        self.chain.mine(blocks)
        return "0x0"

    @rpc_method("evm_increaseTime")
    def increase_time(self, seconds: Any) -> int:
        """Advance the devnet's shared clock (every chain sees it; due events fire).

        The next block takes its timestamp from the clock, unless evm_setNextBlockTimestamp
        fixed it. Returns how far the clock now is from the devnet's start, in seconds
        (anvil returns its total time offset).
        """
        clock = self.chain.clock
        clock.advance(parse_quantity(seconds, "seconds", limit=2**40))
        return int(clock.now - clock.start)

    @rpc_method("evm_setNextBlockTimestamp")
    def set_next_block_timestamp(self, timestamp: Any) -> None:
        self._set_next_timestamp(
            parse_quantity(timestamp, "timestamp", limit=2**63 - 1), "timestamp"
        )

    @rpc_method("anvil_mine", hardhat="hardhat_mine")
    def mine_blocks(self, blocks: Any = None, interval: Any = None) -> None:
        """Mine ``blocks`` blocks (default 1); with ``interval``, each block comes ``interval``
        seconds after the one before it (the shared clock is not moved)."""
        count = 1 if blocks is None else parse_quantity(blocks, "blocks", limit=100_000)
        step = None if interval is None else parse_quantity(interval, "interval", limit=2**40)
        chain = self.chain
        for _ in range(count):
            if step is not None:
                self._set_next_timestamp(chain.timestamp + max(step, 1), "interval")
            chain.mine()

    # ------------------------------------------------------------------------------------
    # dev controls: accounts and state
    # ------------------------------------------------------------------------------------
    @rpc_method("anvil_setBalance", hardhat="hardhat_setBalance")
    def set_balance(self, address: Any, balance: Any) -> None:
        self.chain.set_balance(
            parse_address(address, "address"), parse_quantity(balance, "balance")
        )

    @rpc_method("anvil_setCode", hardhat="hardhat_setCode")
    def set_code(self, address: Any, code: Any) -> None:
        self.chain.set_code(parse_address(address, "address"), parse_data(code, "code"))

    @rpc_method("anvil_setNonce", hardhat="hardhat_setNonce")
    def set_nonce(self, address: Any, nonce: Any) -> None:
        account = parse_address(address, "address")
        self.chain.set_nonce(account, parse_quantity(nonce, "nonce", limit=2**64 - 1))

    @rpc_method("anvil_setStorageAt", hardhat="hardhat_setStorageAt")
    def set_storage_at(self, address: Any, slot: Any, value: Any) -> bool:
        account = parse_address(address, "address")
        key = parse_word(slot, "slot")
        word = parse_word(value, "value")
        self.chain.set_storage_at(account, key, word)
        return True

    @rpc_method("anvil_impersonateAccount", hardhat="hardhat_impersonateAccount")
    def impersonate_account(self, address: Any) -> None:
        """Accept eth_sendTransaction from ``address`` without its key."""
        self.chain.impersonate(to_checksum_address(parse_address(address, "address")))

    @rpc_method("anvil_stopImpersonatingAccount", hardhat="hardhat_stopImpersonatingAccount")
    def stop_impersonating_account(self, address: Any) -> None:
        self.chain.stop_impersonating(to_checksum_address(parse_address(address, "address")))
