"""The ``eth_*``, ``net_*`` and ``web3_*`` methods: identity, state, calls, transactions, blocks."""

from __future__ import annotations

import dataclasses
from importlib import metadata
from typing import Any, Final

from eth_utils import keccak

from chains._errors import TransactionReverted
from chains._evm import TX_GAS_CAP
from chains._types import BlockRecord
from chains.rpc._dispatch import (
    MethodTable,
    rpc_method,
)
from chains.rpc._wire import (
    SERVER_ERROR,
    RpcError,
    TxRequest,
    format_receipt,
    format_transaction,
    hex_word,
    invalid,
    parse_address,
    parse_block_id,
    parse_bool,
    parse_data,
    parse_hash,
    parse_quantity,
    parse_tx,
    parse_word,
)

_TRANSFER_GAS: Final = 21_000
#: Precompiles have no code but do run; transfers to them are estimated by execution.
_LAST_PRECOMPILE: Final = 0x1FF


def _client_version() -> str:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return f"composability-testbed/v{version('composability-testbed')}/py-evm-{version('py-evm')}"


class EthMethods(MethodTable):
    """Identity, state reads, calls and estimates, transactions, receipts and blocks."""

    _client: str
    _chain_id_hex: str

    # ------------------------------------------------------------------------------------
    # web3_, net_, chain identity
    # ------------------------------------------------------------------------------------
    @rpc_method("web3_clientVersion")
    def client_version(self) -> str:
        return self._client

    @rpc_method("web3_sha3")
    def sha3(self, data: Any) -> str:
        return "0x" + keccak(parse_data(data, "data")).hex()

    @rpc_method("net_version")
    def net_version(self) -> str:
        return str(self.chain.chain_id)

    @rpc_method("net_listening")
    def net_listening(self) -> bool:
        return True

    @rpc_method("net_peerCount")
    def net_peer_count(self) -> str:
        return "0x0"

    @rpc_method("eth_chainId")
    def chain_id(self) -> str:
        return self._chain_id_hex

    @rpc_method("eth_syncing")
    def syncing(self) -> bool:
        return False

    @rpc_method("eth_coinbase")
    def coinbase(self) -> str:
        return "0x" + self.chain.get_block("latest").header.coinbase.hex()

    @rpc_method("eth_accounts")
    def accounts(self) -> list[str]:
        """The chain's dev accounts (lowercase, as geth encodes addresses)."""
        return [a.address.lower() for a in self.chain.accounts]

    @rpc_method("eth_blockNumber")
    def block_number(self) -> str:
        return hex(self.chain.block_number)

    # ------------------------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------------------------
    @rpc_method("eth_getBalance")
    def get_balance(self, address: Any, block: Any = None) -> str:
        where = self._state_block(block, "block", "latest")
        return hex(self.chain.get_balance(parse_address(address, "address"), block=where))

    @rpc_method("eth_getTransactionCount")
    def get_transaction_count(self, address: Any, block: Any = None) -> str:
        where = self._state_block(block, "block", "latest")
        return hex(self.chain.get_nonce(parse_address(address, "address"), block=where))

    @rpc_method("eth_getCode")
    def get_code(self, address: Any, block: Any = None) -> str:
        where = self._state_block(block, "block", "latest")
        return "0x" + self.chain.get_code(parse_address(address, "address"), block=where).hex()

    @rpc_method("eth_getStorageAt")
    def get_storage_at(self, address: Any, slot: Any, block: Any = None) -> str:
        account = parse_address(address, "address")
        key = parse_word(slot, "slot")
        where = self._state_block(block, "block", "latest")
        return hex_word(self.chain.get_storage_at(account, key, block=where))

    # ------------------------------------------------------------------------------------
    # calls, estimates, transactions
    # ------------------------------------------------------------------------------------
    @staticmethod
    def _no_overrides(overrides: Any, name: str) -> None:
        if overrides is not None and overrides != {}:
            raise invalid(name, "are not supported by this node")

    @rpc_method("eth_call")
    def call_(self, transaction: Any, block: Any = None, state_overrides: Any = None) -> str:
        """Execute against ``block`` (default ``latest``) and return the output data."""
        tx = parse_tx(transaction, "transaction", self.chain.chain_id)
        where = self._state_block(block, "block", "latest")
        self._no_overrides(state_overrides, "state overrides")
        output = self.chain.call(
            to=tx.to, data=tx.data, sender=tx.sender, value=tx.value, gas=tx.gas, block=where
        )
        return "0x" + output.hex()

    @rpc_method("eth_estimateGas")
    def estimate_gas(self, transaction: Any, block: Any = None, state_overrides: Any = None) -> str:
        """Gas limit for the transaction against ``block`` (default ``pending``).

        A ``gas`` field caps the estimate: needing more is ``gas required exceeds
        allowance``, as in geth. Fee fields are accepted and do not change the result.
        """
        tx = parse_tx(transaction, "transaction", self.chain.chain_id)
        where = self._state_block(block, "block", "pending")
        self._no_overrides(state_overrides, "state overrides")
        return hex(self._estimate(tx, where))

    def _estimate(self, tx: TxRequest, block: int | str) -> int:
        chain = self.chain
        if (
            tx.to is not None
            and not tx.data
            and int.from_bytes(tx.to, "big") > _LAST_PRECOMPILE
            and not chain.get_code(tx.to, block=block)
        ):
            # A plain value transfer costs exactly 21000: geth answers without running it.
            if tx.sender is not None and tx.value > chain.get_balance(tx.sender, block=block):
                raise RpcError(SERVER_ERROR, "insufficient funds for transfer")
            gas = _TRANSFER_GAS
        else:
            gas = self._run_estimate(tx, block)
        if tx.gas is not None and gas > tx.gas:
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({tx.gas})")
        return gas

    def _run_estimate(self, tx: TxRequest, block: int | str) -> int:
        try:
            gas = self.chain.estimate_gas(
                to=tx.to, data=tx.data, sender=tx.sender, value=tx.value, block=block
            )
        except TransactionReverted as exc:
            if exc.error == "OutOfGas" and not exc.data:
                cap = min(self.chain.config.gas_limit, TX_GAS_CAP)
                raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({cap})") from exc
            raise
        return gas

    @rpc_method("eth_sendTransaction")
    def send_transaction(self, transaction: Any) -> str:
        """Sign with a dev key (or impersonate) and send; return the transaction hash.

        Fields: from (default: the chain's default sender), to, gas (default: an
        estimate), gasPrice | maxFeePerGas + maxPriorityFeePerGas, value, data | input,
        nonce, and the checked-only type, chainId, accessList (empty).
        """
        chain = self.chain
        tx = parse_tx(transaction, "transaction", chain.chain_id)
        sender = tx.sender if tx.sender is not None else bytes.fromhex(chain.default_sender[2:])
        if not self._can_send_from(sender):
            raise RpcError(
                SERVER_ERROR,
                f"unknown account 0x{sender.hex()}: not a dev account of this chain; "
                "impersonate it first with anvil_impersonateAccount",
            )
        if tx.to is None and not tx.data:
            raise invalid("transaction", "creates a contract but has no data")
        max_fee, tip = tx.max_fee, tx.max_priority_fee
        if tx.gas_price is not None:
            max_fee = tip = tx.gas_price
        elif max_fee is not None and tip is not None and max_fee < tip:
            raise RpcError(SERVER_ERROR, f"maxFeePerGas ({max_fee}) < maxPriorityFeePerGas ({tip})")
        gas = tx.gas
        if gas is None:
            gas = self._estimate(dataclasses.replace(tx, sender=sender), "pending")
        elif gas < _TRANSFER_GAS:
            raise RpcError(SERVER_ERROR, f"intrinsic gas too low: have {gas}, want at least 21000")
        try:
            receipt = chain.transact(
                sender=sender,
                to=tx.to,
                data=tx.data,
                value=tx.value,
                gas=gas,
                max_fee_per_gas=max_fee,
                max_priority_fee_per_gas=tip,
                nonce=tx.nonce,
            )
        except TransactionReverted as exc:
            if exc.receipt is None:
                raise
            receipt = exc.receipt  # mined with status 0, as anvil does
        return "0x" + receipt.tx_hash.hex()

    @rpc_method("eth_sendRawTransaction")
    def send_raw_transaction(self, data: Any) -> str:
        """Verify and include a signed transaction (legacy, EIP-2930 or EIP-1559)."""
        raw = parse_data(data, "data")
        if not raw:
            raise invalid("data", "is empty")
        try:
            receipt = self.chain.send_raw_transaction(raw)
        except TransactionReverted as exc:
            if exc.receipt is None:
                raise
            receipt = exc.receipt
        return "0x" + receipt.tx_hash.hex()

    # ------------------------------------------------------------------------------------
    # transactions, receipts, blocks
    # ------------------------------------------------------------------------------------
    @rpc_method("eth_getTransactionByHash")
    def get_transaction_by_hash(self, tx_hash: Any) -> dict[str, Any] | None:
        """The transaction, with null block fields while pending; null if unknown."""
        chain = self.chain
        try:
            tx, number, index = chain.find_transaction(parse_hash(tx_hash, "tx_hash"))
        except KeyError:
            return None
        if number is None:
            return format_transaction(tx, block=None, index=None, effective_gas_price=None)
        record = chain.get_block(number)
        price = record.receipts[index].effective_gas_price
        return format_transaction(tx, block=record, index=index, effective_gas_price=price)

    @rpc_method("eth_getTransactionReceipt")
    def get_transaction_receipt(self, tx_hash: Any) -> dict[str, Any] | None:
        """The receipt of a sealed transaction; null while pending or if unknown."""
        try:
            receipt = self.chain.get_receipt(parse_hash(tx_hash, "tx_hash"))
        except KeyError:
            return None
        return format_receipt(receipt)

    @rpc_method("eth_getBlockReceipts")
    def get_block_receipts(self, block: Any) -> list[dict[str, Any]] | None:
        record = self._find_block(parse_block_id(block, "block"))
        return None if record is None else [format_receipt(r) for r in record.receipts]

    @rpc_method("eth_getBlockByNumber")
    def get_block_by_number(self, block: Any, full: Any = False) -> dict[str, Any] | None:
        """A sealed block (``pending`` = latest), full transactions or hashes; null if unknown."""
        record = self._find_block(parse_block_id(block, "block", allow_hash=False))
        is_full = parse_bool(full, "full_transactions")
        return None if record is None else self._formatted_block(record, is_full)

    @rpc_method("eth_getBlockByHash")
    def get_block_by_hash(self, block_hash: Any, full: Any = False) -> dict[str, Any] | None:
        record = self._find_block(parse_hash(block_hash, "block_hash"))
        is_full = parse_bool(full, "full_transactions")
        return None if record is None else self._formatted_block(record, is_full)

    @rpc_method("eth_getBlockTransactionCountByNumber")
    def get_block_transaction_count_by_number(self, block: Any) -> str | None:
        record = self._find_block(parse_block_id(block, "block", allow_hash=False))
        return None if record is None else hex(len(record.transactions))

    @rpc_method("eth_getBlockTransactionCountByHash")
    def get_block_transaction_count_by_hash(self, block_hash: Any) -> str | None:
        record = self._find_block(parse_hash(block_hash, "block_hash"))
        return None if record is None else hex(len(record.transactions))

    def _transaction_at(self, record: BlockRecord | None, index: Any) -> dict[str, Any] | None:
        i = parse_quantity(index, "index")
        if record is None or i >= len(record.transactions):
            return None
        price = record.receipts[i].effective_gas_price
        return format_transaction(
            record.transactions[i], block=record, index=i, effective_gas_price=price
        )

    @rpc_method("eth_getTransactionByBlockNumberAndIndex")
    def get_transaction_by_block_number_and_index(
        self, block: Any, index: Any
    ) -> dict[str, Any] | None:
        record = self._find_block(parse_block_id(block, "block", allow_hash=False))
        return self._transaction_at(record, index)

    @rpc_method("eth_getTransactionByBlockHashAndIndex")
    def get_transaction_by_block_hash_and_index(
        self, block_hash: Any, index: Any
    ) -> dict[str, Any] | None:
        return self._transaction_at(self._find_block(parse_hash(block_hash, "block_hash")), index)
