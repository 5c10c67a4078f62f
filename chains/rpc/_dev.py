"""The anvil / Hardhat dev methods: snapshots, time, mining, account and state overrides."""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from typing import Any, Final

from eth_utils import keccak, to_checksum_address

from chains._errors import ChainError, ConfigError, ReorgRefused, SnapshotNotFound
from chains._evm import DEFAULT_PRIORITY_FEE
from chains._reorg import DROPPED_POLICIES
from chains._state import dump_chain, restore_chain
from chains.rpc._dispatch import (
    MethodTable,
    rpc_method,
)
from chains.rpc._wire import (
    SERVER_ERROR,
    RpcError,
    check_object,
    invalid,
    parse_address,
    parse_bool,
    parse_data,
    parse_quantity,
    parse_tx,
    parse_word,
)

_MINE_FIELDS: Final = frozenset({"timestamp", "blocks"})
_REORG_FIELDS: Final = frozenset({"depth", "tx_block_pairs", "dropped"})
#: Deepest reorg or rollback one request may ask for (the finality rules bound it too).
_MAX_REORG_DEPTH: Final = 100_000


class DevMethods(MethodTable):
    """Dev controls: time, mining, snapshots, balances, code, nonces, storage, impersonation."""

    _client: str

    # ------------------------------------------------------------------------------------
    # dev controls: time, mining, snapshots
    # ------------------------------------------------------------------------------------
    @rpc_method("evm_snapshot", "anvil_snapshot")
    def snapshot(self) -> str:
        """Snapshot this chain (not the shared clock); return the id."""
        return hex(self.chain.snapshot())

    @rpc_method("evm_revert", "anvil_revert")
    def revert(self, snapshot_id: Any) -> bool:
        """Revert to a snapshot; ``false`` if the id is unknown (as anvil and Hardhat).

        The id and every later one are consumed, as in anvil: take a new snapshot to
        revert there again."""
        try:
            self.chain.revert(parse_quantity(snapshot_id, "snapshot_id"), keep=False)
        except SnapshotNotFound:
            return False
        return True

    def _set_next_timestamp(self, timestamp: int, name: str) -> None:
        try:
            self.chain.set_next_block_timestamp(timestamp)
        except ValueError as exc:
            raise invalid(name, str(exc).removeprefix("timestamp ")) from exc

    @rpc_method("evm_mine")
    def mine(self, options: Any = None) -> str:
        """Mine one block, or ``{"blocks": n, "timestamp": t}``, or a bare number.

        A bare number after the latest block's timestamp is that timestamp (anvil's
        meaning). One not after it cannot be a timestamp (anvil refuses it) and is read
        as a block count instead: web3.py's ``w3.testing.mine(n)`` sends ``[n]``
        (eth-tester's convention), so ``mine(3)`` mines three blocks here too.
        """
        blocks, timestamp = 1, None
        if isinstance(options, Mapping):
            obj = check_object(options, "options", _MINE_FIELDS)
            if obj.get("blocks") is not None:
                blocks = parse_quantity(obj["blocks"], "options.blocks", limit=10_000)
            if obj.get("timestamp") is not None:
                timestamp = parse_quantity(obj["timestamp"], "options.timestamp", limit=2**63 - 1)
        elif options is not None:
            number = parse_quantity(options, "timestamp", limit=2**63 - 1)
            if number > self.chain.timestamp:
                timestamp = number
            elif number <= 10_000:
                blocks = number
            else:
                raise invalid("timestamp", f"{number} is not after the latest block's")
        if blocks < 1:
            return "0x0"
        if timestamp is not None:
            self._set_next_timestamp(timestamp, "timestamp")
        self.chain.mine(blocks)
        return "0x0"

    @rpc_method("evm_increaseTime", "anvil_increaseTime")
    def increase_time(self, seconds: Any) -> int:
        """Advance the devnet's shared clock (every chain sees it; due events fire).

        The next block takes its timestamp from the clock, unless evm_setNextBlockTimestamp
        fixed it. Returns how far the clock now is from the devnet's start, in seconds
        (anvil returns its total time offset).
        """
        clock = self.chain.clock
        clock.advance(parse_quantity(seconds, "seconds", limit=2**40))
        return int(clock.now - clock.start)

    @rpc_method("evm_setNextBlockTimestamp", "anvil_setNextBlockTimestamp")
    def set_next_block_timestamp(self, timestamp: Any) -> None:
        self._set_next_timestamp(
            parse_quantity(timestamp, "timestamp", limit=2**63 - 1), "timestamp"
        )

    @rpc_method("anvil_mine", hardhat="hardhat_mine")
    def mine_blocks(self, blocks: Any = None, interval: Any = None) -> None:
        """Mine ``blocks`` blocks (default 1), block *k* (from 1) at ``now + k × interval``
        (at least ``interval`` after the one before it); the shared clock is not moved.

        As in anvil, the interval adds to the time: ``0x0`` (what viem's ``mine()``
        sends) adds nothing, so a pending evm_increaseTime or evm_setNextBlockTimestamp
        still times the first block. A fixed next timestamp always wins for that block.
        """
        count = 1 if blocks is None else parse_quantity(blocks, "blocks", limit=100_000)
        step = 0 if interval is None else parse_quantity(interval, "interval", limit=2**40)
        chain = self.chain
        now = int(chain.clock.now)
        for k in range(1, count + 1):
            if step and not chain.has_next_timestamp:
                at = max(now + k * step, chain.timestamp + step)
                self._set_next_timestamp(at, "interval")
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

    @rpc_method("anvil_setNonce", "evm_setAccountNonce", hardhat="hardhat_setNonce")
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

    # ------------------------------------------------------------------------------------
    # dev controls: mining mode and block parameters
    # ------------------------------------------------------------------------------------
    @rpc_method("anvil_setAutomine", "evm_setAutomine")
    def set_automine(self, enabled: Any) -> None:
        """Automine on, or off (manual: blocks only on evm_mine / anvil_mine)."""
        self.chain.set_mining("auto" if parse_bool(enabled, "enabled") else "manual")

    @rpc_method("anvil_getAutomine", "hardhat_getAutomine")
    def get_automine(self) -> bool:
        return self.chain.mining == "auto"

    @rpc_method("anvil_setIntervalMining", "evm_setIntervalMining")
    def set_interval_mining(self, seconds: Any) -> None:
        """A block every ``seconds`` of the shared clock; 0 turns mining manual.

        Seconds, as anvil (which serves ``evm_setIntervalMining`` as an alias); Hardhat's
        ``evm_setIntervalMining`` takes milliseconds."""
        interval = parse_quantity(seconds, "seconds", limit=2**40)
        if interval == 0:
            self.chain.set_mining("manual")
        else:
            self.chain.set_mining("interval", block_time=interval)

    @rpc_method("anvil_getIntervalMining")
    def get_interval_mining(self) -> int | None:
        """The interval in seconds under interval mining, else null."""
        chain = self.chain
        return int(chain.config.block_time) if chain.mining == "interval" else None

    @rpc_method("anvil_getGenesisTime")
    def get_genesis_time(self) -> int:
        return self.chain.get_block(0).timestamp

    @rpc_method("anvil_mine_detailed", "evm_mine_detailed")
    def mine_detailed(self, options: Any = None) -> list[dict[str, Any]]:
        """evm_mine, answering the mined blocks with their transactions (anvil)."""
        before = self.chain.block_number
        self.mine(options)
        return [
            self._formatted_block(self.chain.get_block(n), True)
            for n in range(before + 1, self.chain.block_number + 1)
        ]

    @rpc_method("anvil_setBlockGasLimit", "evm_setBlockGasLimit")
    def set_block_gas_limit(self, gas_limit: Any) -> bool:
        try:
            self.chain.set_block_gas_limit(parse_quantity(gas_limit, "gas_limit", limit=2**63 - 1))
        except ConfigError as exc:
            raise invalid("gas_limit", str(exc).removeprefix("gas_limit ")) from exc
        return True

    @rpc_method("anvil_setCoinbase", hardhat="hardhat_setCoinbase")
    def set_coinbase(self, address: Any) -> None:
        self.chain.set_coinbase(parse_address(address, "address"))

    @rpc_method("anvil_setMinGasPrice", "hardhat_setMinGasPrice")
    def set_min_gas_price(self, gas_price: Any) -> None:
        """anvil's answer on an EIP-1559 chain (every chain here is one): an error."""
        parse_quantity(gas_price, "gas_price")
        raise RpcError(
            SERVER_ERROR, "anvil_setMinGasPrice is not supported when EIP-1559 is active"
        )

    @rpc_method("anvil_setNextBlockBaseFeePerGas", hardhat="hardhat_setNextBlockBaseFeePerGas")
    def set_next_block_base_fee(self, base_fee: Any) -> None:
        self.chain.set_next_block_base_fee(parse_quantity(base_fee, "base_fee", limit=2**63 - 1))

    @rpc_method("anvil_setNextBlockPrevRandao", hardhat="hardhat_setPrevRandao")
    def set_next_block_prevrandao(self, value: Any) -> None:
        self.chain.set_next_block_prevrandao(parse_word(value, "prevrandao").to_bytes(32, "big"))

    # ------------------------------------------------------------------------------------
    # dev controls: time
    # ------------------------------------------------------------------------------------
    @rpc_method("evm_setTime", "anvil_setTime")
    def set_time(self, timestamp: Any) -> int:
        """Move the devnet's shared clock to ``timestamp`` (every chain sees it).

        The clock never goes back (it is shared, and blocks already sealed on other
        chains were timed by it): an earlier time is ``-32602``; evm_setNextBlockTimestamp
        times one block of one chain instead. Returns how far the clock moved, in seconds.
        """
        target = parse_quantity(timestamp, "timestamp", limit=2**63 - 1)
        clock = self.chain.clock
        before = clock.now
        if target < before:
            raise invalid(
                "timestamp",
                f"{target} is before the devnet's shared clock ({int(before)}); it never goes back",
            )
        clock.advance_to(target)
        return int(target - before)

    @rpc_method("anvil_setBlockTimestampInterval")
    def set_block_timestamp_interval(self, seconds: Any) -> None:
        """Every new block ``seconds`` after the previous one, whatever the clock says."""
        try:
            self.chain.set_block_timestamp_interval(parse_quantity(seconds, "seconds", limit=2**40))
        except ValueError as exc:
            raise invalid("seconds", str(exc)) from exc

    @rpc_method("anvil_removeBlockTimestampInterval")
    def remove_block_timestamp_interval(self) -> bool:
        """Back to the clock; ``true`` if an interval was set (anvil's answer)."""
        was = self.chain.block_timestamp_interval is not None
        self.chain.set_block_timestamp_interval(None)
        return was

    # ------------------------------------------------------------------------------------
    # dev controls: reset, balances, impersonation
    # ------------------------------------------------------------------------------------
    @rpc_method("anvil_reset", hardhat="hardhat_reset")
    def reset(self, options: Any = None) -> None:
        """Back to genesis. Forking is not supported: ``forking`` options are refused."""
        if options is not None:
            obj = check_object(options, "options", frozenset({"forking"}))
            if obj.get("forking") is not None:
                raise invalid("options.forking", "is not supported: this devnet does not fork")
        self.chain.reset()

    @rpc_method("anvil_addBalance", "hardhat_addBalance")
    def add_balance(self, address: Any, amount: Any) -> None:
        self.chain.add_balance(parse_address(address, "address"), parse_quantity(amount, "amount"))

    @rpc_method("anvil_dealERC20", "anvil_setERC20Balance", "hardhat_dealERC20")
    def set_erc20_balance(self, account: Any, token: Any, amount: Any) -> None:
        """Write ``account``'s balance into the token's storage, anvil's parameter order
        (account, token, amount); the balanceOf slot is found by probing
        (:meth:`Chain.set_erc20_balance`)."""
        self.chain.set_erc20_balance(
            parse_address(token, "token"),
            parse_address(account, "account"),
            parse_quantity(amount, "amount"),
        )

    @rpc_method("anvil_setERC20Allowance")
    def set_erc20_allowance(self, owner: Any, spender: Any, token: Any, amount: Any) -> None:
        """Write ``allowance(owner, spender)`` into the token's storage (found by probing)."""
        self.chain.set_erc20_allowance(
            parse_address(token, "token"),
            parse_address(owner, "owner"),
            parse_address(spender, "spender"),
            parse_quantity(amount, "amount"),
        )

    @rpc_method("anvil_removePoolTransactions")
    def remove_pool_transactions(self, address: Any) -> None:
        """Drop every waiting transaction sent by ``address``."""
        sender = parse_address(address, "address")
        for tx in self.chain.txpool.pending + self.chain.txpool.queued:
            if bytes(tx.sender) == sender:
                self.chain.drop_transaction(tx.hash)

    @rpc_method("anvil_autoImpersonateAccount", "hardhat_autoImpersonateAccount")
    def auto_impersonate_account(self, enabled: Any) -> None:
        """Accept eth_sendTransaction from any address without its key."""
        self.chain.auto_impersonate(parse_bool(enabled, "enabled"))

    # ------------------------------------------------------------------------------------
    # dev controls: node information, state dump and load
    # ------------------------------------------------------------------------------------
    @rpc_method("anvil_nodeInfo")
    def node_info(self) -> dict[str, Any]:
        """anvil's ``NodeInfo`` shape (no fork: ``forkConfig`` is empty)."""
        chain = self.chain
        latest = chain.get_block("latest")
        return {
            "currentBlockNumber": hex(latest.number),
            "currentBlockTimestamp": latest.timestamp,
            "currentBlockHash": "0x" + latest.hash.hex(),
            "hardFork": "prague",
            "transactionOrder": "fifo",
            "environment": {
                "baseFee": hex(chain.base_fee),
                "chainId": hex(chain.chain_id),
                "gasLimit": hex(chain.config.gas_limit),
                "gasPrice": hex(chain.base_fee + DEFAULT_PRIORITY_FEE),
            },
            "forkConfig": {},
        }

    @rpc_method("anvil_metadata", "hardhat_metadata")
    def metadata(self) -> dict[str, Any]:
        """anvil's ``Metadata`` shape; ``instanceId`` derives from the seed (reproducible)."""
        chain = self.chain
        latest = chain.get_block("latest")
        instance = keccak(f"testbed-instance:{chain.seed}:{chain.chain_id}".encode())
        return {
            "clientVersion": self._client,
            "chainId": hex(chain.chain_id),
            "instanceId": "0x" + instance.hex(),
            "latestBlockNumber": hex(latest.number),
            "latestBlockHash": "0x" + latest.hash.hex(),
            "forkedNetwork": None,
            "snapshots": {},
        }

    @rpc_method("anvil_dumpState", "hardhat_dumpState")
    def dump_state(self, preserve_historical_states: Any = None) -> str:
        """This chain's whole state (the state file's chain entry), gzip'd JSON as hex.

        Historical states are always kept (the state file keeps every root)."""
        if preserve_historical_states is not None:
            parse_bool(preserve_historical_states, "preserve_historical_states")
        data = json.dumps(dump_chain(self.chain), separators=(",", ":"), sort_keys=True)
        return "0x" + gzip.compress(data.encode(), mtime=0).hex()

    @rpc_method("anvil_loadState", "hardhat_loadState")
    def load_state(self, state: Any) -> bool:
        """Replace this chain's state with an anvil_dumpState result (same chain id).

        anvil merges the accounts into its state; here the dump is the whole chain —
        blocks, every historical state, the pool — and replaces it.
        """
        raw = parse_data(state, "state")
        try:
            data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
            chain_id = data["config"]["chain_id"]
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            raise invalid(
                "state", f"is not an anvil_dumpState result of this devnet: {exc}"
            ) from exc
        if chain_id != self.chain.chain_id:
            raise invalid("state", f"is chain {chain_id}'s, this chain is {self.chain.chain_id}")
        restore_chain(self.chain, data)
        self._block_cache.clear()
        return True

    # ------------------------------------------------------------------------------------
    # dev controls: history rewrites
    # ------------------------------------------------------------------------------------
    @rpc_method("anvil_reorg")
    def reorg(self, options: Any, tx_block_pairs: Any = None, dropped: Any = None) -> None:
        """Replace the last ``depth`` blocks with new ones (anvil's ``ReorgOptions``).

        Params: ``{"depth": n, "tx_block_pairs": [[tx, block_index], ...]}`` or positionally
        ``depth, tx_block_pairs``; ``tx`` is a raw signed transaction (hex) or a transaction
        object signed by the node (dev key or impersonated account), ``block_index`` counts
        from 0 (the first new block) to ``depth − 1``. Extension: ``dropped``
        (``"discard"``, anvil's behaviour and the default, or ``"pool"``) says where the
        orphaned transactions the new blocks do not carry go.
        """
        if isinstance(options, Mapping):
            if tx_block_pairs is not None or dropped is not None:
                raise invalid("options", "given as an object take no further parameters")
            obj = check_object(options, "options", _REORG_FIELDS)
            if "depth" not in obj:
                raise invalid("options", "must give depth")
            depth_value, tx_block_pairs, dropped = (
                obj["depth"],
                obj.get("tx_block_pairs"),
                obj.get("dropped"),
            )
        else:
            depth_value = options
        depth = parse_quantity(depth_value, "depth", limit=_MAX_REORG_DEPTH)
        policy = self._dropped_policy(dropped)
        blocks: dict[int, list[Any]] = {}
        if tx_block_pairs is not None:
            if not isinstance(tx_block_pairs, list):
                raise invalid(
                    "tx_block_pairs", f"must be a list of [tx, block] pairs, got {tx_block_pairs!r}"
                )
            for i, pair in enumerate(tx_block_pairs):
                name = f"tx_block_pairs[{i}]"
                if not isinstance(pair, list) or len(pair) != 2:
                    raise invalid(name, "must be a [transaction, block index] pair")
                index = parse_quantity(pair[1], f"{name}[1]", limit=_MAX_REORG_DEPTH)
                if index >= depth:
                    raise invalid(
                        f"{name}[1]",
                        f"block index {index} must not exceed (depth − 1) {depth - 1}",
                    )
                blocks.setdefault(index, []).append(self._reorg_tx(pair[0], f"{name}[0]"))
        try:
            self.chain.reorg(depth, blocks, dropped=policy)
        except ReorgRefused as exc:
            raise invalid("depth", str(exc)) from exc
        except ChainError:
            raise  # an invalid replacement transaction: the dispatcher's -32000
        except ValueError as exc:
            raise invalid("depth", str(exc)) from exc

    @rpc_method("anvil_rollback")
    def rollback(self, depth: Any = None, dropped: Any = None) -> None:
        """Take the last ``depth`` blocks (default 1) off the chain; ``dropped`` as anvil_reorg."""
        count = 1 if depth is None else parse_quantity(depth, "depth", limit=_MAX_REORG_DEPTH)
        try:
            self.chain.rollback(count, dropped=self._dropped_policy(dropped))
        except ValueError as exc:  # ReorgRefused included
            raise invalid("depth", str(exc)) from exc

    @staticmethod
    def _dropped_policy(value: Any) -> Any:
        if value is None:
            return "discard"
        if value not in DROPPED_POLICIES:
            raise invalid("dropped", f"must be one of {', '.join(DROPPED_POLICIES)}, got {value!r}")
        return value

    def _reorg_tx(self, value: Any, name: str) -> Any:
        if isinstance(value, str):
            raw = parse_data(value, name)
            if not raw:
                raise invalid(name, "is empty")
            return raw
        request = parse_tx(value, name, self.chain.chain_id)
        sender = request.sender
        if sender is not None and not self._can_send_from(sender):
            raise invalid(f"{name}.from", "is not a dev account of this chain nor impersonated")
        spec: dict[str, Any] = {"data": request.data, "value": request.value}
        if sender is not None:
            spec["sender"] = sender
        if request.to is not None:
            spec["to"] = request.to
        if request.gas is not None:
            spec["gas"] = request.gas
        if request.nonce is not None:
            spec["nonce"] = request.nonce
        return spec
