"""The block builder: the pending block, and how a transaction gets into a sealed block.

:class:`BlockBuilder` is the part of :class:`~chains.Chain` that produces blocks: genesis,
``_open`` (the pending block on the head), ``_include`` (run a transaction in it),
``_record`` (its receipt), ``_seal`` (tries, header, listeners) and ``_replay`` (rebuild
the pending block from its operations after a revert or a new timestamp). It keeps the
chain's records (sealed blocks, the transaction index, the pending operations).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import rlp
from eth.abc import SignedTransactionAPI
from eth.chains.base import MiningChain
from eth.constants import ZERO_ADDRESS
from eth.db.atomic import AtomicDB
from eth.vm.chain_context import ChainContext
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, Hash32
from eth_utils import ValidationError, to_canonical_address, to_checksum_address

from chains._clock import Clock
from chains._config import ChainConfig
from chains._contract import AbiRegistry
from chains._errors import (
    ChainError,
    InvalidTransaction,
    UnknownBlock,
)
from chains._evm import (
    TX_BUILDER,
    TX_GAS_CAP,
    DevVM,
    checksum,
    classify_error,
    encode_receipt,
    encode_tx,
    error_name,
    impersonated_tx,
    sign_dynamic_fee_tx,
    validate_transaction,
)
from chains._interpreter import _keccak
from chains._pool import TxQueue, check_replacement
from chains._predeploys import PREDEPLOYS
from chains._retime import forget_preprocessing
from chains._trie import ordered_trie_root
from chains._types import BlockRecord, Log, Receipt

logger = logging.getLogger(__name__)

_MAX_ANCESTORS = 256


@dataclass
class _Pending:
    """The block under construction: a VM with live state plus what it has included.

    ``header`` is the template the block opened with; gas used and the logs bloom
    accumulate in plain integers and enter the header once, at sealing.
    """

    vm: DevVM
    header: Any
    gas_used: int = 0
    bloom: int = 0
    transactions: list[SignedTransactionAPI] = field(default_factory=list)
    evm_receipts: list[Any] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    log_count: int = 0
    #: the key of the state reads see while nothing is included (see ``_read_state_key``)
    read_key: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class _NewBlock:
    """What ``block_preprocessing`` reads of the block it opens: the header and number."""

    header: Any

    @property
    def number(self) -> int:
        return self.header.block_number


#: py-evm's unsigned typed transaction classes → the builder making their signed form.
_SIGNED_BUILDERS = {
    "UnsignedAccessListTransaction": "new_access_list_transaction",
    "UnsignedDynamicFeeTransaction": "new_dynamic_fee_transaction",
    "UnsignedSetCodeTransaction": "new_set_code_transaction",
}


@dataclass(frozen=True)
class _GasSoFar:
    """The one header field ``make_receipt`` reads: gas used before this transaction."""

    gas_used: int


@dataclass(frozen=True)
class _Snapshot:
    head: int
    pending_ops: tuple[tuple[Any, ...], ...]
    pending_timestamp: int | None
    next_timestamp: int | None
    impersonated: frozenset[bytes]
    queue: TxQueue = field(default_factory=TxQueue)
    #: the dev settings (chains/_dev.py), as ``_DevSettings`` — restored with the rest
    dev: Any = None
    reorgs: int = 0  # length of the reorg journal (Reorganizer._orphans) when taken


@dataclass(frozen=True)
class _DevSettings:
    """What the dev controls change beside state: mining mode and block parameters."""

    config: ChainConfig
    coinbase: bytes
    next_base_fee: int | None
    next_prevrandao: bytes | None
    timestamp_interval: int | None
    is_auto_impersonating: bool


class BlockBuilder:
    """Block production for :class:`~chains.Chain` (which sets these attributes)."""

    config: ChainConfig
    clock: Clock
    seed: int
    chain_id: int
    name: str
    accounts: Any
    abi_registry: AbiRegistry
    last_receipt: Receipt | None
    _vm_class: type[DevVM]
    _keys: dict[bytes, PrivateKey]
    _impersonated: set[bytes]
    _chain_context: ChainContext
    _is_holding: bool
    _chaindb: Any
    _blocks: list[BlockRecord]
    _tx_index: dict[bytes, tuple[int, int]]
    _pending: _Pending | None
    _pending_ops: list[tuple[Any, ...]]
    _next_timestamp: int | None
    _seal_event: Any
    _listeners: list[Callable[[BlockRecord], None]]
    _tx_listeners: list[Callable[[SignedTransactionAPI], None]]
    _queue: TxQueue
    _live_state: Any
    #: results of reads by (state key, sender, to, data, value, gas): see ``simulate``
    _read_memo: dict[tuple[Any, ...], Any]
    #: the last ``_ancestors`` answer, by (block number, hash of the block before it)
    _ancestors_memo: tuple[Any, tuple[Hash32, ...]]
    #: dev controls (chains/_dev.py): the next block's coinbase, base fee and prevrandao,
    #: and a fixed gap between block timestamps
    _coinbase: bytes = ZERO_ADDRESS
    _next_base_fee: int | None = None
    _next_prevrandao: bytes | None = None
    _timestamp_interval: int | None = None
    #: any sender is impersonated when it has no key (anvil_autoImpersonateAccount)
    is_auto_impersonating: bool = False
    #: extra_data of the blocks being sealed (a reorg marks its replacement blocks).
    _extra_data: bytes = b""
    _snapshots: dict[int, _Snapshot]

    def _genesis(self) -> None:
        state: dict[Any, Any] = {
            to_canonical_address(a.address): {
                "balance": self.config.balance,
                "nonce": 0,
                "code": b"",
                "storage": {},
            }
            for a in self.accounts
        }
        for address, code in PREDEPLOYS.items():
            state[to_canonical_address(address)] = {
                "balance": 0,
                "nonce": 1,
                "code": code,
                "storage": {},
            }
        params: dict[str, Any] = {
            "coinbase": ZERO_ADDRESS,
            "difficulty": 0,
            "gas_limit": self.config.gas_limit,
            "timestamp": int(self.clock.start),
            "extra_data": b"",
            "mix_hash": self._prevrandao(0),
            "nonce": b"\x00" * 8,
            "base_fee_per_gas": self.config.base_fee,
        }
        klass = MiningChain.configure(
            __name__="TestbedGenesis", vm_configuration=((0, DevVM),), chain_id=self.chain_id
        )
        genesis_chain = klass.from_genesis(AtomicDB(), params, state)
        self._chaindb = genesis_chain.chaindb
        header = genesis_chain.get_canonical_head()
        self._blocks.append(BlockRecord(0, header.hash, header, (), (), _block_size(header, ())))

    def _prevrandao(self, number: int) -> bytes:
        # Random on a real chain; here derived from the seed so runs are reproducible.
        return _keccak(b"testbed-prevrandao" + f"{self.seed}:{self.chain_id}:{number}".encode())

    def _ancestors(self, number: int | None = None) -> tuple[Hash32, ...]:
        """Hashes of the blocks before block ``number`` (default: the next one), newest first.

        What BLOCKHASH sees while block ``number`` executes: at most the last 256.
        """
        end = len(self._blocks) if number is None else number
        # the last hash fixes the others (each block commits to its parent's hash)
        key = (end, self._blocks[end - 1].hash if end else None)
        memo_key, memo = self._ancestors_memo
        if memo_key == key:
            return memo
        if end > 1 and memo_key == (end - 1, self._blocks[end - 2].hash):
            # one block on from the last answer (a seal): its hash, then the last answer's
            hashes = (Hash32(self._blocks[end - 1].hash), *memo[: _MAX_ANCESTORS - 1])
        else:
            hashes = tuple(
                Hash32(b.hash) for b in reversed(self._blocks[max(0, end - _MAX_ANCESTORS) : end])
            )
        self._ancestors_memo = (key, hashes)
        return hashes

    def _open(self, timestamp: int | None = None) -> _Pending:
        pending = self._pending
        if pending is not None:
            if pending.transactions or self._pending_ops or timestamp is not None:
                return pending
            # Opened only to read: re-time it if the clock has moved on since.
            if pending.header.timestamp == max(
                self._next_block_time(), self._blocks[-1].timestamp + 1
            ):
                return pending
            self._pending = None
            if not forget_preprocessing(self._live_state):  # else keep it, caches warm
                self._live_state = None
        parent = self._blocks[-1].header
        if timestamp is None:
            timestamp = self._next_block_time()
        timestamp = max(int(timestamp), parent.timestamp + 1)
        number = parent.block_number + 1
        header = DevVM.create_header_from_parent(
            parent,
            coinbase=self._coinbase,
            timestamp=timestamp,
            gas_limit=self.config.gas_limit,
            mix_hash=self._next_prevrandao or self._prevrandao(number),
            extra_data=self._extra_data,
            parent_beacon_block_root=_keccak(b"testbed-beacon" + parent.hash),
        )
        if self._next_base_fee is not None:
            header = header.copy(base_fee_per_gas=self._next_base_fee)
        vm = self._vm_class(header, self._chaindb, self._chain_context, None)  # type: ignore[arg-type]
        vm.ancestor_hashes = self._ancestors()
        if self._live_state is not None:
            # The state persisted at the last seal is this block's starting state: keep
            # the object (and its caches), give it the new block's execution context.
            self._live_state.execution_context = DevVM.create_execution_context(
                header, vm.ancestor_hashes, self._chain_context
            )
            vm._state = self._live_state
        else:
            self._live_state = vm.state
        # Prague's and Cancun's preprocessing read the block's header and number only
        # (py-evm's get_block would build the block from the database: an empty body)
        vm.block_preprocessing(_NewBlock(header))  # type: ignore[arg-type]
        self._pending = _Pending(vm=vm, header=header)
        return self._pending

    def _next_block_time(self) -> int:
        if self._next_timestamp is not None:
            return self._next_timestamp
        if self._timestamp_interval is not None:
            return self._blocks[-1].timestamp + self._timestamp_interval
        if self.config.mining == "interval":
            # The first interval boundary after both the clock and the latest block.
            step = self.config.block_time
            after = max(self.clock.now, self._blocks[-1].timestamp)
            return int((after // step + 1) * step)
        return int(self.clock.now)

    def _seal(self) -> BlockRecord:
        pending = self._open()
        vm = pending.vm
        transactions = pending.transactions
        encoded = [encode_tx(tx) for tx in transactions]
        header = vm.seal_header(
            pending.header,
            transactions,
            pending.evm_receipts,
            gas_used=pending.gas_used,
            bloom=pending.bloom,
            transaction_root=ordered_trie_root(encoded),
            receipt_root=ordered_trie_root([encode_receipt(r) for r in pending.evm_receipts]),
        )
        block_hash = header.hash
        receipts = tuple(
            dataclasses.replace(
                r,
                block_hash=block_hash,
                logs=tuple(
                    # dataclasses.replace(lg, block_hash=block_hash), field by field
                    Log(
                        lg.address,
                        lg.topics,
                        lg.data,
                        lg.log_index,
                        lg.transaction_index,
                        lg.transaction_hash,
                        lg.block_number,
                        block_hash,
                    )
                    for lg in r.logs
                ),
            )
            for r in pending.receipts
        )
        record = BlockRecord(
            number=header.block_number,
            hash=block_hash,
            header=header,
            transactions=tuple(transactions),
            receipts=receipts,
            size=_block_size(header, transactions, encoded),
        )
        self._blocks.append(record)
        for index, receipt in enumerate(receipts):
            self._tx_index[receipt.tx_hash] = (record.number, index)
        if receipts and self.last_receipt is not None:
            last = self.last_receipt
            if last.tx_hash in self._tx_index:
                self.last_receipt = self.get_receipt(last.tx_hash)
        self._pending = None
        self._pending_ops = []
        self._next_timestamp = None
        self._next_base_fee = None
        self._next_prevrandao = None
        self._cancel_seal()
        for listener in tuple(self._listeners):  # a listener may unsubscribe itself
            listener(record)
        return record

    def _schedule_seal(self) -> None:
        if self.config.mining != "interval" or self._seal_event is not None or self._is_holding:
            return
        pending = self._pending
        at = pending.header.timestamp if pending is not None else self._next_block_time()
        self._seal_event = self.clock.schedule(at, self._interval_seal, label=f"seal:{self.name}")

    def _interval_seal(self) -> None:
        self._seal_event = None
        if self._pending is not None and (self._pending.transactions or self._pending_ops):
            self._seal()

    def _cancel_seal(self) -> None:
        if self._seal_event is not None:
            self.clock.cancel(self._seal_event)
            self._seal_event = None

    @property
    def _state(self) -> Any:
        return self._open().vm.state

    def _build(
        self,
        from_: bytes,
        nonce: int,
        tip: int,
        max_fee: int,
        gas: int,
        to: Address,
        value: int,
        data: bytes,
    ) -> SignedTransactionAPI:
        key = self._keys.get(from_)
        if key is not None:
            tx = sign_dynamic_fee_tx(key, self.chain_id, nonce, tip, max_fee, gas, to, value, data)
            # We produced this signature with the sender's key: pin the sender instead of
            # recovering it again (raw transactions from clients are still recovered).
            tx.__dict__["sender"] = from_
            return tx
        if from_ in self._impersonated or self.is_auto_impersonating:
            fake = TX_BUILDER.new_dynamic_fee_transaction(
                self.chain_id, nonce, tip, max_fee, gas, to, value, data, [], 0, 1, 1
            )
            return impersonated_tx(fake, from_)
        raise self._no_key(from_)

    def _build_legacy(
        self,
        from_: bytes,
        nonce: int,
        gas_price: int,
        gas: int,
        to: Address,
        value: int,
        data: bytes,
    ) -> SignedTransactionAPI:
        """A legacy (type 0, EIP-155) transaction, signed with the sender's key or impersonated."""
        key = self._keys.get(from_)
        if key is not None:
            unsigned = TX_BUILDER.create_unsigned_transaction(
                nonce=nonce, gas_price=gas_price, gas=gas, to=to, value=value, data=data
            )
            tx = unsigned.as_signed_transaction(key, chain_id=self.chain_id)
            tx.__dict__["sender"] = from_
            return tx
        if from_ in self._impersonated or self.is_auto_impersonating:
            fake = TX_BUILDER.new_transaction(
                nonce, gas_price, gas, to, value, data, 35 + 2 * self.chain_id, 1, 1
            )
            return impersonated_tx(fake, from_)
        raise self._no_key(from_)

    def _build_typed(self, from_: bytes, unsigned: Any) -> SignedTransactionAPI:
        """Sign any unsigned typed transaction (access list, set-code) or impersonate it."""
        key = self._keys.get(from_)
        if key is not None:
            tx = unsigned.as_signed_transaction(key)
            tx.__dict__["sender"] = from_
            return tx
        if from_ in self._impersonated or self.is_auto_impersonating:
            inner = unsigned.__class__.__name__
            fields = [getattr(unsigned, name) for name, _ in unsigned._meta.fields]
            fake = getattr(TX_BUILDER, _SIGNED_BUILDERS[inner])(*fields, 0, 1, 1)
            return impersonated_tx(fake, from_)
        raise self._no_key(from_)

    def _no_key(self, from_: bytes) -> ChainError:
        return ChainError(
            f"no key for sender {to_checksum_address(from_)} on chain {self.name}: use one of "
            "chain.accounts, add_account(), or impersonate(address) first"
        )

    def _include(self, tx: SignedTransactionAPI, *, retry_in_new_block: bool) -> Receipt:
        """Run ``tx`` in the pending block, promote queued transactions its nonce freed,
        then seal under automine (all of them in one block, as anvil does)."""
        receipt = self._include_one(tx, retry_in_new_block=retry_in_new_block)
        if self._queue:
            self._promote(bytes(tx.sender))
        if self.config.mining == "auto" and not self._is_holding:
            self._seal()
            receipt = self.get_receipt(receipt.tx_hash)
        else:
            self._schedule_seal()
        self.last_receipt = receipt
        return receipt

    def _promote(self, sender: bytes) -> None:
        """Move ``sender``'s queued transactions into the pending block while nonces line up."""
        while True:
            nonce = self._open().vm.state.get_nonce(Address(sender))
            tx = self._queue.take(sender, nonce)
            if tx is None:
                return
            try:
                self._include_one(tx, retry_in_new_block=False)
            except InvalidTransaction as exc:
                logger.info(
                    "chain %s: dropped queued transaction 0x%s: %s", self.name, tx.hash.hex(), exc
                )
                return

    def _include_one(self, tx: SignedTransactionAPI, *, retry_in_new_block: bool) -> Receipt:
        pending = self._open()
        state = pending.vm.state
        if pending.gas_used + tx.gas > pending.header.gas_limit:
            if not pending.transactions:
                raise InvalidTransaction(
                    f"gas limit {tx.gas} exceeds the block gas limit {pending.header.gas_limit}"
                )
            self._seal()
            return self._include_one(tx, retry_in_new_block=retry_in_new_block)
        snapshot = state.snapshot() if retry_in_new_block and pending.transactions else None
        try:
            validate_transaction(state, tx)
            if tx.max_fee_per_gas < pending.header.base_fee_per_gas:
                raise ValidationError(
                    f"max fee per gas ({tx.max_fee_per_gas}) is below the block's base fee "
                    f"({pending.header.base_fee_per_gas})"
                )
            computation, evm_receipt, gas_used = self._run(pending, tx)
        except ValidationError as exc:
            raise classify_error(exc) from exc
        if (
            snapshot is not None
            and computation.is_error
            and gas_used >= tx.gas
            and tx.gas < min(TX_GAS_CAP, self.config.gas_limit)
        ):
            # Out of gas only because the block was nearly full: try a fresh block.
            state.revert(snapshot)
            self._seal()
            retried = self._build(
                tx.sender,
                tx.nonce,
                tx.max_priority_fee_per_gas,
                tx.max_fee_per_gas,
                min(TX_GAS_CAP, self.config.gas_limit),
                tx.to,
                tx.value,
                tx.data,
            )
            return self._include_one(retried, retry_in_new_block=False)
        receipt = self._record(pending, tx, computation, evm_receipt, gas_used)
        self._pending_ops.append(("tx", tx))
        for listener in tuple(self._tx_listeners):
            listener(tx)
        return receipt

    @staticmethod
    def _run(pending: _Pending, tx: SignedTransactionAPI) -> tuple[Any, Any, int]:
        """Execute ``tx`` on the pending state: (computation, py-evm receipt, its own gas)."""
        vm, state = pending.vm, pending.vm.state
        state.lock_changes()  # a new transaction starts: earlier changes become permanent
        computation = state.apply_transaction(tx)
        # make_receipt reads only .gas_used of the header it is given
        evm_receipt = vm.make_receipt(_GasSoFar(pending.gas_used), tx, computation, state)
        return computation, evm_receipt, evm_receipt.gas_used - pending.gas_used

    def _execute(self, pending: _Pending, tx: SignedTransactionAPI) -> Receipt:
        """Run a transaction already known to be valid (a replay) in the pending block."""
        return self._record(pending, tx, *self._run(pending, tx))

    def _record(
        self,
        pending: _Pending,
        tx: SignedTransactionAPI,
        computation: Any,
        evm_receipt: Any,
        gas_used: int,
    ) -> Receipt:
        pending.gas_used = evm_receipt.gas_used
        pending.bloom |= evm_receipt.bloom
        index = len(pending.transactions)
        pending.transactions.append(tx)
        pending.evm_receipts.append(evm_receipt)
        pending.log_count, receipt = self._make_receipt(
            tx, computation, evm_receipt, gas_used, index, pending.header, pending.log_count
        )
        pending.receipts.append(receipt)
        return receipt

    def _make_receipt(
        self,
        tx: SignedTransactionAPI,
        computation: Any,
        evm_receipt: Any,
        gas_used: int,
        index: int,
        header: Any,
        log_start: int,
    ) -> tuple[int, Receipt]:
        tx_hash = tx.hash
        number = header.block_number
        logs = []
        log_index = log_start
        for address, topics, data in computation.get_log_entries():
            logs.append(
                Log(
                    address=checksum(address),
                    topics=tuple(t.to_bytes(32, "big") for t in topics),
                    data=bytes(data),
                    log_index=log_index,
                    transaction_index=index,
                    transaction_hash=tx_hash,
                    block_number=number,
                )
            )
            log_index += 1
        created = None
        if not tx.to and not computation.is_error:
            created = checksum(computation.msg.storage_address)
        base_fee = header.base_fee_per_gas
        price = min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)
        error = None
        if computation.is_error:
            error = error_name(computation.error)
        receipt = Receipt(
            tx_hash=tx_hash,
            transaction_index=index,
            block_number=number,
            sender=checksum(tx.sender),
            to=checksum(tx.to) if tx.to else None,
            status=not computation.is_error,
            gas_used=gas_used,
            cumulative_gas_used=evm_receipt.gas_used,
            effective_gas_price=price,
            contract_address=created,
            logs=tuple(logs),
            output=bytes(computation.output),
            tx_type=getattr(tx, "type_id", None) or 0,
            error=error,
            abi_registry=self.abi_registry,
        )
        return log_index, receipt

    def _state_op(self, op: tuple[Any, ...]) -> None:
        self._apply_op(self._open().vm.state, op)
        self._pending_ops.append(op)
        if self.config.mining == "auto" and not self._is_holding:
            self._seal()

    @staticmethod
    def _apply_op(state: Any, op: tuple[Any, ...]) -> None:
        kind, address, value = op[0], op[1], op[2]
        state.lock_changes()
        if kind == "balance":
            state.set_balance(address, value)
        elif kind == "code":
            state.set_code(address, value)
        elif kind == "nonce":
            state.set_nonce(address, value)
        elif kind == "storage":
            state.set_storage(address, value, op[3])

    def get_receipt(self, tx_hash: bytes) -> Receipt:
        """Receipt of a sealed transaction; raises ``KeyError`` if unknown or pending."""
        number, index = self._tx_index[tx_hash]
        return self._blocks[number].receipts[index]

    def _replay(self, ops: Sequence[tuple[Any, ...]], timestamp: int | None = None) -> None:
        """Rebuild the pending block on the head and re-run ``ops`` in it, without sealing."""
        self._cancel_seal()
        self._pending = None
        self._pending_ops = []
        self._live_state = None  # it may hold the discarded pending changes
        if not ops:
            return
        pending = self._open(timestamp)
        for op in ops:
            if op[0] == "tx":
                self._execute(pending, op[1])
            else:
                self._apply_op(pending.vm.state, op)
            self._pending_ops.append(op)
        self._schedule_seal()

    def _replay_checked(self, ops: Sequence[tuple[Any, ...]], timestamp: int | None) -> None:
        """Rebuild the pending block from ``ops`` after a replacement or a drop.

        Unlike :meth:`_replay`, each transaction is validated again: one whose nonce is
        now ahead (an earlier one of its sender was dropped) goes back to the queue, one
        that became invalid otherwise (balance) is dropped and logged.
        """
        self._replay([], None)
        if not ops:
            return
        pending = self._open(timestamp)
        for op in ops:
            if op[0] != "tx":
                self._apply_op(pending.vm.state, op)
                self._pending_ops.append(op)
                continue
            tx = op[1]
            try:
                if tx.max_fee_per_gas < pending.header.base_fee_per_gas:
                    raise ValidationError("max fee per gas is below the block's base fee")
                self._execute(pending, tx)
            except ValidationError as exc:
                error = classify_error(exc)
                if str(error).startswith("nonce too high"):
                    self._queue.put(tx)
                else:
                    logger.info(
                        "chain %s: dropped transaction 0x%s: %s", self.name, tx.hash.hex(), error
                    )
                continue
            self._pending_ops.append(op)
        for sender in sorted({bytes(op[1].sender) for op in ops if op[0] == "tx"}):
            self._promote(sender)
        self._schedule_seal()

    def _replace_waiting(self, tx: SignedTransactionAPI) -> bool:
        """Replace the pending-block transaction with ``tx``'s sender and nonce, if any."""
        sender = bytes(tx.sender)
        for i, op in enumerate(self._pending_ops):
            if op[0] == "tx" and bytes(op[1].sender) == sender and op[1].nonce == tx.nonce:
                check_replacement(op[1], tx)
                ops = list(self._pending_ops)
                ops[i] = ("tx", tx)
                assert self._pending is not None
                self._replay_checked(ops, self._pending.header.timestamp)
                return True
        return False

    @staticmethod
    def _canonical(address: str | bytes) -> Address:
        if isinstance(address, bytes) and len(address) == 20:
            return Address(address)
        if address.__class__ is str:
            return _canonical_str(address)
        try:
            return Address(to_canonical_address(address))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an address: {address!r}") from exc

    @property
    def block_number(self) -> int:
        """Number of the latest sealed block."""
        return self._blocks[-1].number

    def get_block(self, block: int | str | bytes) -> BlockRecord:
        """A sealed block by number, hash or tag (``latest``, ``earliest``, ``safe``, ...)."""
        if isinstance(block, bytes):
            for record in reversed(self._blocks):
                if record.hash == block:
                    return record
            raise UnknownBlock(f"no block with hash 0x{block.hex()} on chain {self.name}")
        if block in ("latest", "pending"):
            return self._blocks[-1]
        if block == "earliest":
            return self._blocks[0]
        if isinstance(block, str):
            raise UnknownBlock(f"unknown block tag {block!r}")
        if not 0 <= block < len(self._blocks):
            raise UnknownBlock(
                f"block {block} does not exist on chain {self.name} (head is {self.block_number})"
            )
        return self._blocks[block]

    def _memory_db(self) -> dict[bytes, bytes]:
        """The key/value store of py-evm's in-memory database (every state ever sealed)."""
        kv = getattr(getattr(self._chaindb.db, "wrapped_db", None), "kv_store", None)
        if not isinstance(kv, dict):
            raise ChainError(f"chain {self.name}: its database is not the in-memory py-evm one")
        return kv


@functools.lru_cache(maxsize=4096)
def _canonical_str(address: str) -> Address:
    """``to_canonical_address`` of a string, memoised: calls and transactions name the
    same few contracts and senders by their checksummed strings over and over (a pure
    function; an invalid string raises every time, lru_cache keeps no exceptions)."""
    try:
        return Address(to_canonical_address(address))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not an address: {address!r}") from exc


def _block_size(
    header: Any,
    transactions: Sequence[SignedTransactionAPI],
    encoded: Sequence[bytes] | None = None,
) -> int:
    """RLP size of a block: header, transaction list, empty uncle and withdrawal lists.

    ``encoded``: the transactions' ``encode()`` if known (a typed transaction is an RLP
    string of its encoding in the block body, a legacy one its RLP list).
    """
    if encoded is None:
        encoded = [encode_tx(tx) for tx in transactions]
    body = sum(
        _string_size(data) if getattr(tx, "type_id", None) else len(data)
        for tx, data in zip(transactions, encoded, strict=True)
    )
    return len(rlp.encode(header)) + body + 8


def _string_size(data: bytes) -> int:
    """``len(rlp.encode(data))`` for a byte string: one byte under 0x80 is itself; else a
    prefix byte, plus the big-endian length's bytes from 56 bytes on (Yellow Paper B)."""
    size = len(data)
    if size == 1 and data[0] < 0x80:
        return 1
    if size < 56:
        return 1 + size
    return 1 + (size.bit_length() + 7) // 8 + size
