"""The ``eth_*``, ``net_*`` and ``web3_*`` methods: identity, state, calls, transactions, blocks."""

from __future__ import annotations

import dataclasses
from importlib import metadata
from typing import Any, Final

from eth_utils import keccak, to_checksum_address

from chains._deadline import execution_deadline
from chains._errors import TransactionReverted
from chains._evm import TX_GAS_CAP, VM_CLASSES
from chains._types import BlockRecord
from chains.rpc._dispatch import (
    MethodTable,
    rpc_method,
)
from chains.rpc._estimate import fits_lower_limit, last_top_frame, probe_class
from chains.rpc._wire import (
    SERVER_ERROR,
    RpcError,
    TxRequest,
    format_block,
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
    parse_state_override,
    parse_tx,
    parse_word,
)

_TRANSFER_GAS: Final = 21_000
#: EIP-7702's PER_EMPTY_ACCOUNT_COST, charged per authorization (not seen by an estimate).
_AUTH_GAS: Final = 25_000
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
    @rpc_method("eth_call")
    def call_(self, transaction: Any, block: Any = None, state_overrides: Any = None) -> str:
        """Execute against ``block`` (default ``latest``) and return the output data.

        ``state_overrides``: geth's ``{address: {balance, nonce, code, state | stateDiff}}``,
        for this call only."""
        tx = parse_tx(transaction, "transaction", self.chain.chain_id)
        where = self._state_block(block, "block", "latest")
        overrides = parse_state_override(state_overrides, "state_overrides")
        config = self.chain.config
        # geth's --rpc.gascap: a larger (or absent) gas limit is lowered to the cap.
        gas = min(config.gas_limit if tx.gas is None else tx.gas, config.rpc_gas_cap)
        with execution_deadline(config.call_timeout):
            output = self.chain.call(
                to=tx.to,
                data=tx.data,
                sender=tx.sender,
                value=tx.value,
                gas=gas,
                block=where,
                state_override=overrides,
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
        overrides = parse_state_override(state_overrides, "state_overrides")
        with execution_deadline(self.chain.config.call_timeout):
            return hex(self._estimate(tx, where, overrides))

    def _estimate(self, tx: TxRequest, block: int | str, overrides: Any = None) -> int:
        chain = self.chain
        if (
            overrides is None
            and tx.to is not None
            and not tx.data
            and int.from_bytes(tx.to, "big") > _LAST_PRECOMPILE
            and not chain.get_code(tx.to, block=block)
        ):
            # A plain value transfer costs exactly 21000: geth answers without running it.
            if tx.sender is not None and tx.value > chain.get_balance(tx.sender, block=block):
                raise RpcError(SERVER_ERROR, "insufficient funds for transfer")
            gas = _TRANSFER_GAS
        else:
            gas = self._run_estimate(tx, block, overrides)
        if tx.gas is not None and gas > tx.gas:
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({tx.gas})")
        return gas

    def _run_estimate(self, tx: TxRequest, block: int | str, overrides: Any = None) -> int:
        fields: dict[str, Any] = {
            "to": tx.to,
            "data": tx.data,
            "sender": tx.sender,
            "value": tx.value,
            "block": block,
            "state_override": overrides,
        }
        try:
            gas = self._estimate_in_one_run(fields)
            if gas is None:
                gas = self.chain.estimate_gas(**fields)
        except TransactionReverted as exc:
            if exc.error == "OutOfGas" and not exc.data:
                cap = min(self.chain.config.gas_limit, TX_GAS_CAP)
                raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({cap})") from exc
            raise
        return gas

    def _estimate_in_one_run(self, fields: dict[str, Any]) -> int | None:
        """:meth:`Chain.estimate_gas`'s answer without its second run when the first one
        shows that its optimistic limit succeeds (``chains/rpc/_estimate.py``); ``None``
        when that limit fails (the bisection is left to ``Chain.estimate_gas``)."""
        chain = self.chain
        config = chain.config
        probe = probe_class(VM_CLASSES[config.interpreter].get_state_class().computation_class)
        first = chain.simulate(computation_class=probe, **fields)
        if first.is_error:
            raise TransactionReverted.from_revert_data(first.output, error=first.error)
        # Chain.estimate_gas's optimistic limit, the same formula
        cap = min(config.gas_limit, TX_GAS_CAP)
        guess = min(cap, (first.gas_used + first.gas_refund + 2300) * 64 // 63)
        if fits_lower_limit(last_top_frame(), config.gas_limit - guess):
            return guess
        if not chain.simulate(gas=guess, **fields).is_error:
            return guess
        return None

    @rpc_method("eth_sendTransaction")
    def send_transaction(self, transaction: Any) -> str:
        """Sign with a dev key (or impersonate) and hand to the pool; return the hash.

        Fields: from (default: the chain's default sender), to, gas (default: an
        estimate), gasPrice | maxFeePerGas + maxPriorityFeePerGas, value, data | input,
        nonce, accessList, authorizationList (EIP-7702, signed), type, chainId. Only
        ``gasPrice`` makes a legacy (type 0) transaction, as geth and anvil do. A future
        nonce is queued; a nonce already waiting is a replacement.
        """
        return "0x" + self.chain.submit(self._signed(transaction)).hex()

    @rpc_method("eth_sendUnsignedTransaction")
    def send_unsigned_transaction(self, transaction: Any) -> str:
        """anvil's: send from ``from`` without its key, as if it were impersonated."""
        chain = self.chain
        tx = parse_tx(transaction, "transaction", chain.chain_id)
        if tx.sender is None:
            raise invalid("transaction.from", "is required")
        sender = to_checksum_address(tx.sender)
        was = chain.is_impersonated(sender)
        chain.impersonate(sender)
        try:
            return self.send_transaction(transaction)
        finally:
            if not was:
                chain.stop_impersonating(sender)

    @rpc_method("eth_signTransaction")
    def sign_transaction(self, transaction: Any) -> str:
        """The raw signed transaction (dev or impersonated sender), not sent (anvil's shape).

        An impersonated sender's transaction carries a placeholder signature (r = s = 1):
        only this node accepts it, through eth_sendRawTransaction it would not verify.
        """
        return "0x" + self._signed(transaction).encode().hex()

    def _signed(self, transaction: Any) -> Any:
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
        if tx.gas_price is None and max_fee is not None and tip is not None and max_fee < tip:
            raise RpcError(
                SERVER_ERROR,
                "max priority fee per gas higher than max fee per gas: "
                f"maxPriorityFeePerGas: {tip}, maxFeePerGas: {max_fee}",
            )
        gas = tx.gas
        if gas is None:
            with execution_deadline(chain.config.call_timeout):
                gas = self._estimate(dataclasses.replace(tx, sender=sender), "pending")
            if tx.authorization_list:
                gas += _AUTH_GAS * len(tx.authorization_list)
        elif gas < _TRANSFER_GAS:
            raise RpcError(SERVER_ERROR, f"intrinsic gas too low: have {gas}, want at least 21000")
        tx_type = tx.tx_type
        if tx_type == 2 and tx.gas_price is not None:
            max_fee = tip = tx.gas_price
        return chain.sign_transaction(
            sender=sender,
            to=tx.to,
            data=tx.data,
            value=tx.value,
            gas=gas,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
            gas_price=None if tx_type == 2 else tx.gas_price,
            nonce=tx.nonce,
            access_list=tx.access_list,
            authorization_list=tx.authorization_list,
            tx_type=tx_type,
        )

    @rpc_method("eth_sendRawTransaction")
    def send_raw_transaction(self, data: Any) -> str:
        """Verify a signed transaction (legacy, EIP-2930, EIP-1559, EIP-7702) and hand it
        to the pool: included, queued (future nonce) or replacing a waiting one."""
        raw = parse_data(data, "data")
        if not raw:
            raise invalid("data", "is empty")
        return "0x" + self.chain.submit_raw_transaction(raw).hex()

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
        return format_receipt(receipt, self.chain.get_block(receipt.block_number).timestamp)

    @rpc_method("eth_getBlockReceipts")
    def get_block_receipts(self, block: Any) -> list[dict[str, Any]] | None:
        record = self._find_block(parse_block_id(block, "block"))
        if record is None:
            return None
        return [format_receipt(r, record.timestamp) for r in record.receipts]

    @rpc_method("eth_getBlockByNumber")
    def get_block_by_number(self, block: Any, full: Any = False) -> dict[str, Any] | None:
        """A sealed block, full transactions or hashes; null if unknown. ``pending`` is the
        block being built: number latest+1, null ``hash``, ``nonce`` and ``miner`` (geth)."""
        where = parse_block_id(block, "block", allow_hash=False)
        is_full = parse_bool(full, "full_transactions")
        if where == "pending":
            return self._pending_block(is_full)
        record = self._find_block(where)
        return None if record is None else self._formatted_block(record, is_full)

    def _pending_block(self, full: bool) -> dict[str, Any]:
        record = self.chain.pending_block
        out = format_block(record, False)
        out.update(hash=None, nonce=None, miner=None)
        if full:
            out["transactions"] = [
                format_transaction(tx, block=None, index=None, effective_gas_price=None)
                for tx in record.transactions
            ]
        return out

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

    # ------------------------------------------------------------------------------------
    # raw transactions, access lists, proofs
    # ------------------------------------------------------------------------------------
    @rpc_method("eth_getRawTransactionByHash")
    def get_raw_transaction_by_hash(self, tx_hash: Any) -> str | None:
        """The transaction's EIP-2718 bytes (mined or waiting); null if unknown."""
        try:
            tx, _, _ = self.chain.find_transaction(parse_hash(tx_hash, "tx_hash"))
        except KeyError:
            return None
        return "0x" + tx.encode().hex()

    def _raw_at(self, record: BlockRecord | None, index: Any) -> str | None:
        i = parse_quantity(index, "index")
        if record is None or i >= len(record.transactions):
            return None
        return "0x" + record.transactions[i].encode().hex()

    @rpc_method("eth_getRawTransactionByBlockNumberAndIndex")
    def get_raw_transaction_by_block_number_and_index(self, block: Any, index: Any) -> str | None:
        return self._raw_at(
            self._find_block(parse_block_id(block, "block", allow_hash=False)), index
        )

    @rpc_method("eth_getRawTransactionByBlockHashAndIndex")
    def get_raw_transaction_by_block_hash_and_index(
        self, block_hash: Any, index: Any
    ) -> str | None:
        return self._raw_at(self._find_block(parse_hash(block_hash, "block_hash")), index)

    @rpc_method("eth_createAccessList")
    def create_access_list(
        self, transaction: Any, block: Any = None, state_overrides: Any = None
    ) -> dict[str, Any]:
        """The accounts and slots the transaction touches, and its gas with that list.

        geth's shape: ``{accessList, gasUsed}``, plus ``error`` when it reverts."""
        tx = parse_tx(transaction, "transaction", self.chain.chain_id)
        where = self._state_block(block, "block", "pending")
        listed, result = self.chain.create_access_list(
            to=tx.to,
            data=tx.data,
            sender=tx.sender,
            value=tx.value,
            gas=tx.gas,
            block=where,
            state_override=parse_state_override(state_overrides, "state_overrides"),
        )
        out: dict[str, Any] = {
            "accessList": [
                {"address": "0x" + address.hex(), "storageKeys": [hex_word(k) for k in keys]}
                for address, keys in listed
            ],
            "gasUsed": hex(result.gas_used),
        }
        if result.is_error:
            out["error"] = "execution reverted" if result.error is None else result.error
        return out

    @rpc_method("eth_getProof")
    def get_proof(self, address: Any, slots: Any, block: Any = None) -> dict[str, Any]:
        """EIP-1186 account and storage proofs against a sealed block's state root."""
        account = parse_address(address, "address")
        if not isinstance(slots, list | tuple):
            raise invalid("storage_keys", f"must be a list, got {slots!r}")
        keys = [parse_word(k, f"storage_keys[{i}]") for i, k in enumerate(slots)]
        where = self._state_block(block, "block", "latest")
        proof = self.chain.get_proof(account, keys, block=where)
        return {
            "address": "0x" + proof.address.hex(),
            "balance": hex(proof.balance),
            "nonce": hex(proof.nonce),
            "codeHash": "0x" + proof.code_hash.hex(),
            "storageHash": "0x" + proof.storage_root.hex(),
            "accountProof": ["0x" + node.hex() for node in proof.account_proof],
            "storageProof": [
                {
                    "key": hex_word(slot),
                    "value": hex(value),
                    "proof": ["0x" + node.hex() for node in nodes],
                }
                for slot, value, nodes in proof.storage
            ],
        }
