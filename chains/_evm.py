"""The py-evm adapter: the devnet's VM and state classes, signing, impersonation, errors.

Everything here speaks py-evm's language: :class:`DevVM` runs Prague with ancestor
hashes and receipts from the chain's own records, :func:`sign_tx` signs a dynamic-fee
transaction (the same bytes as eth-keys, faster), :func:`impersonated_tx` pins a sender
without a signature, :class:`CallTransaction` carries an asserted sender for calls, and
:func:`classify_error` turns py-evm's validation messages into this package's errors.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import coincurve
import rlp
from eth._utils.address import force_bytes_to_address, generate_contract_address
from eth.abc import ComputationAPI, SignedTransactionAPI
from eth.constants import CREATE_CONTRACT_ADDRESS, POST_MERGE_DIFFICULTY, POST_MERGE_NONCE
from eth.db.journal import REVERT_TO_WRAPPED
from eth.exceptions import Revert
from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth.rlp.sedes import uint32
from eth.typing import JournalDBCheckpoint
from eth.validation import validate_canonical_address, validate_is_bytes, validate_uint256
from eth.vm.base import BlockAndMetaWitness
from eth.vm.computation import BaseComputation
from eth.vm.forks.berlin.transactions import TypedTransaction
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE,
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS,
)
from eth.vm.forks.cancun.state import CancunState
from eth.vm.forks.cancun.transactions import BLOB_TX_TYPE
from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.blocks import PragueBlockHeader
from eth.vm.forks.prague.constants import (
    DEPOSIT_CONTRACT_ADDRESS,
    DEPOSIT_EVENT_SIGNATURE_HASH,
    DEPOSIT_REQUEST_TYPE,
)
from eth.vm.forks.prague.headers import (
    calc_excess_blob_gas_prague,
    create_prague_header_from_parent,
)
from eth.vm.forks.prague.state import PragueState, PragueTransactionExecutor
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth.vm.message import Message
from eth.vm.transient_storage import TransientStorage
from eth_keys.datatypes import PrivateKey
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import (
    ValidationError,
    get_extended_debug_logger,
    int_to_big_endian,
    to_checksum_address,
)
from rlp.sedes.serializable import make_immutable

from chains._errors import (
    ChainError,
    InsufficientFunds,
    InvalidTransaction,
    NonceTooLow,
)
from chains._interpreter import FastComputation, StockComputation, _keccak
from chains._statedb import DevAccountDB
from chains._trie import encode_node

#: Gas limit of a block unless configured.
DEFAULT_GAS_LIMIT = 30_000_000
INITIAL_BASE_FEE = 1_000_000_000  # EIP-1559's initial base fee, 1 gwei
DEFAULT_PRIORITY_FEE = 1_000_000_000
#: EIP-7825's per-transaction gas cap; the native API never asks for more.
TX_GAS_CAP = 2**24
TX_BUILDER = PragueTransactionBuilder


class DevExecutor(PragueTransactionExecutor):
    """Prague's transaction executor; its message set-up without the debug line py-evm
    formats for every message whether or not debug logging is on (a repr of the
    transaction, the hex of the code and a Keccak of the data: ~0.2 ms a message)."""

    def build_evm_message(self, transaction: SignedTransactionAPI) -> Message:
        if self.vm_state.logger.show_debug2 or transaction.type_id == BLOB_TX_TYPE:
            return super().build_evm_message(transaction)  # type: ignore[return-value]
        # py-evm's CancunTransactionExecutor.build_evm_message, minus the debug line
        state = self.vm_state
        sender = transaction.sender
        state.delta_balance(sender, -1 * (transaction.gas * state.get_gas_price(transaction)))
        state.increment_nonce(sender)
        msg_refund = self.calc_message_refund(transaction)
        message_gas = transaction.gas - transaction.intrinsic_gas
        if transaction.to == CREATE_CONTRACT_ADDRESS:
            contract_address = generate_contract_address(sender, state.get_nonce(sender) - 1)
            data = b""
            code = transaction.data
            is_delegation = False
        else:
            contract_address = None
            data = transaction.data
            code, delegation_address = self.get_code_at_address(transaction.to)
            is_delegation = delegation_address is not None
        return Message(
            gas=message_gas,
            to=transaction.to,
            sender=sender,
            value=transaction.value,
            data=data,
            code=code,
            create_address=contract_address,  # type: ignore[arg-type]
            refund=msg_refund,
            is_delegation=is_delegation,
        )

    def finalize_computation(
        self, transaction: SignedTransactionAPI, computation: ComputationAPI
    ) -> ComputationAPI:
        if self.vm_state.logger.show_debug2:
            return super().finalize_computation(transaction, computation)
        # py-evm's Frontier and Spurious Dragon finalize_computation (no fork after them
        # overrides it), minus the debug lines they format for every transaction whether
        # or not debug logging is on (hex of the sender and the coinbase).
        state = self.vm_state
        gas_remaining = computation.get_gas_remaining()
        gas_used = transaction.gas - gas_remaining
        gas_refund = self.calculate_gas_refund(computation, gas_used)
        floor = self.calc_data_floor_gas(transaction, gas_used, gas_refund)
        computation.data_floor_gas = floor
        if type(state).get_transaction_context is _CANCUN_CONTEXT and not _is_overridden(state):
            # the context's gas price, without building the context (build_computation
            # built the same one for this transaction, so its validation has passed)
            base_fee: Any = state.execution_context.base_fee_per_gas
            gas_price = min(
                transaction.max_priority_fee_per_gas + base_fee, transaction.max_fee_per_gas
            )
        else:
            gas_price = state.get_transaction_context(transaction).gas_price
        refund_amount = (gas_refund + gas_remaining - floor) * gas_price
        if refund_amount:
            state.delta_balance(computation.msg.sender, refund_amount)
        gas_used = transaction.gas - gas_remaining - gas_refund + floor
        # EIP-161: the coinbase is touched even by a zero fee
        state.delta_balance(state.coinbase, gas_used * state.get_tip(transaction))
        for account in accounts_for_deletion(computation):
            state.delete_account(account)
        for address in touched_accounts(computation):  # EIP-161 state clearing
            if state.account_exists(address) and state.account_is_empty(address):
                state.delete_account(address)
        return computation


_RIPEMD160 = force_bytes_to_address(b"\x03")


_CANCUN_CONTEXT = CancunState.get_transaction_context
_BASE_BENEFICIARIES = BaseComputation.get_self_destruct_beneficiaries
_BASE_DELETIONS = BaseComputation.get_accounts_for_deletion


def _is_overridden(state: Any) -> bool:
    """Whether ``state.get_transaction_context`` is replaced on the instance: py-evm's
    ``override_transaction_context`` does that, and puts back the bound method after."""
    method = getattr(state, "__dict__", {}).get("get_transaction_context")
    return method is not None and not (
        getattr(method, "__func__", None) is type(state).get_transaction_context
        and getattr(method, "__self__", None) is state
    )


def accounts_for_deletion(computation: Any) -> list[Address]:
    """``computation.get_accounts_for_deletion()``: ``[]`` when no frame of the tree has
    an account to delete, found in one walk (py-evm's recursion builds a chain, a set and
    a list per frame to find that); else, or if a frame's class has its own method,
    py-evm's. ``tests/chains/test_finalize.py`` compares on random call trees."""
    if _has_deletions(computation):
        return computation.get_accounts_for_deletion()
    return []


def _has_deletions(computation: Any) -> bool:
    if (
        type(computation).get_accounts_for_deletion is not _BASE_DELETIONS
        or computation.accounts_to_delete
    ):
        return True
    return any(_has_deletions(child) for child in computation.children)


def touched_accounts(computation: Any) -> set[Address]:
    """py-evm's ``collect_touched_accounts`` (EIP-161: the accounts that may need
    deleting), the same set, built in one set instead of a generator and a set per
    call frame: the coinbase; self-destruct beneficiaries (after an error in the frame
    or an ancestor only RIPEMD160, the geth/parity special case of EIP-716); the
    recipient unless a create (after an error only RIPEMD160); then each child frame.

    A frame's beneficiaries come from py-evm's ``get_self_destruct_beneficiaries``,
    which walks the frame's whole subtree again (a chain, a set and a list per frame):
    when no frame of the tree has a beneficiary it is empty everywhere, so the walk
    without it (:func:`_touch_plain`, the same additions in the same order) is taken
    first, and the full one only when a frame has one (or its own method).
    ``tests/chains/test_finalize.py`` and ``test_statedb.py`` compare with py-evm's on
    random call trees."""
    touched: set[Address] = set()
    if _touch_plain(computation, False, touched):
        return touched
    touched = set()
    _touch(computation, False, touched)
    return touched


def _touch_plain(computation: Any, ancestor_had_error: bool, touched: set[Address]) -> bool:
    """:func:`_touch` for a tree without self-destruct beneficiaries; ``False`` (leaving
    ``touched`` partial) at the first frame that has one or its own method for them."""
    if (
        type(computation).get_self_destruct_beneficiaries is not _BASE_BENEFICIARIES
        or computation.beneficiaries
    ):
        return False
    touched.add(computation.state.coinbase)
    failed = computation.is_error or ancestor_had_error
    to = computation.msg.to
    if to != CREATE_CONTRACT_ADDRESS and (not failed or to == _RIPEMD160):
        touched.add(to)
    return all(_touch_plain(child, failed, touched) for child in computation.children)


def _touch(computation: Any, ancestor_had_error: bool, touched: set[Address]) -> None:
    touched.add(computation.state.coinbase)
    failed = computation.is_error or ancestor_had_error
    for beneficiary in computation.get_self_destruct_beneficiaries():
        if not failed or beneficiary == _RIPEMD160:
            touched.add(beneficiary)
    to = computation.msg.to
    if to != CREATE_CONTRACT_ADDRESS and (not failed or to == _RIPEMD160):
        touched.add(to)
    for child in computation.children:
        _touch(child, failed, touched)


class StockState(PragueState):
    account_db_class = DevAccountDB
    computation_class = StockComputation
    transaction_executor_class = DevExecutor

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # py-evm's BaseState.logger is a property that looks the logger up by name at
        # every use (``get_extended_debug_logger(f"eth.vm.state.{class name}")``, a
        # logging-manager lookup under a lock, a few times per transaction or call);
        # loggers are singletons by name, so each class keeps the object it returns.
        super().__init_subclass__(**kwargs)
        cls.logger = get_extended_debug_logger(f"eth.vm.state.{cls.__name__}")  # type: ignore[method-assign,assignment]


_UINT256_MAX = 2**256 - 1


class DevTransientStorage(TransientStorage):
    """py-evm's EIP-1153 transient storage, its reads and writes without the layers.

    py-evm keeps the slots in a ``JournalDB`` over a ``MemoryDB`` that nothing ever
    writes (transient storage is cleared, never persisted). A read validates the address
    and slot, builds the key, then goes ``Mapping.get`` -> ``JournalDB.__getitem__`` ->
    ``Journal.__getitem__`` (the journal's current values) and, for a slot never set,
    the empty database's ``KeyError``, caught for the default ``b""``. The journal's
    current values hold only bytes: a write sets bytes, a discard puts back the bytes a
    slot had or removes it, a clear empties them (``delete_wrapped``, which stores a
    marker, is never called here). So a read is a lookup in those values, ``b""`` if
    absent, and a write is the journal's own ``__setitem__`` (inlined) with the same key.
    Checkpoints (``record``, ``commit``, ``discard``, ``clear``) are py-evm's, unchanged.
    An address, slot or value that is not plainly valid (20 bytes, an int in
    [0, 2**256), bytes) goes through py-evm's validators in py-evm's order, for their
    errors. ``tests/chains/test_transient.py`` compares with py-evm's class on random
    operation sequences.
    """

    def __init__(self) -> None:
        super().__init__()
        self._journal: Any = self._db._journal

    def get_transient_storage(self, address: Address, slot: int) -> bytes:
        if (
            address.__class__ is not bytes
            or len(address) != 20
            or slot.__class__ is not int
            or not 0 <= slot <= _UINT256_MAX
        ):
            validate_canonical_address(address)
            validate_uint256(slot)
        value: bytes = self._journal._current_values.get(address + int_to_big_endian(slot), b"")
        return value

    def set_transient_storage(self, address: Address, slot: int, value: bytes) -> None:
        if (
            address.__class__ is not bytes
            or len(address) != 20
            or slot.__class__ is not int
            or not 0 <= slot <= _UINT256_MAX
            or value.__class__ is not bytes
        ):
            validate_canonical_address(address)
            validate_uint256(slot)
            validate_is_bytes(value)
        # Journal.__setitem__: the slot's old value (or "absent") kept in the changeset of
        # the journal's last checkpoint, once per checkpoint, then the new value
        journal = self._journal
        key = address + int_to_big_endian(slot)
        changesets = journal._journal_data
        changes = changesets[next(reversed(changesets))]
        if key not in changes:
            changes[key] = journal._current_values.get(key, REVERT_TO_WRAPPED)
        journal._current_values[key] = value


class DevState(StockState):
    computation_class = FastComputation  # type: ignore[assignment]
    _transient_storage_class = DevTransientStorage

    # A call frame's snapshot and its commit or revert (py-evm's CancunState methods, each
    # through BaseState's by ``super()``) in one method each: the same calls in the same
    # order. ``tests/chains/test_transient.py`` compares on random sequences.

    def snapshot(self) -> tuple[Hash32, JournalDBCheckpoint]:
        """BaseState's (the state root, then a checkpoint of the account database), the
        checkpoint recorded in the transient storage too (CancunState's)."""
        account_db = self._account_db
        state_root = account_db.state_root
        checkpoint = account_db.record()
        self.transient_storage.record(checkpoint)
        return state_root, checkpoint

    def commit(self, snapshot: tuple[Hash32, JournalDBCheckpoint]) -> None:
        checkpoint = snapshot[1]
        self._account_db.commit(checkpoint)
        self.transient_storage.commit(checkpoint)

    def revert(self, snapshot: tuple[Hash32, JournalDBCheckpoint]) -> None:
        state_root, checkpoint = snapshot
        account_db = self._account_db
        account_db.state_root = state_root  # the root first, then the journal rolled back
        account_db.discard(checkpoint)
        self.transient_storage.discard(checkpoint)


StockState.logger = get_extended_debug_logger("eth.vm.state.StockState")  # type: ignore[method-assign,assignment]


def logs_bloom(logs: Sequence[Log]) -> int:
    """The 2048-bit bloom of logs (Yellow Paper 4.3.1): for each log's address and each
    topic, the three 11-bit numbers of the first six bytes of its Keccak set a bit each
    (eth-bloom's ``BloomFilter``, with the C Keccak)."""
    bloom = 0
    for log in logs:
        for item in log.bloomables:
            h = _keccak(item)
            bloom |= (
                1 << ((h[0] << 8 | h[1]) & 2047)
                | 1 << ((h[2] << 8 | h[3]) & 2047)
                | 1 << ((h[4] << 8 | h[5]) & 2047)
            )
    return bloom


def _immutable(value: Any) -> Any:
    """rlp's ``make_immutable``: a list becomes a tuple (recursively), else the value."""
    return make_immutable(value) if isinstance(value, list) else value


def build_receipt(status: bytes, gas_used: int, entries: Sequence[Any]) -> Any:
    """``Receipt(state_root=status, gas_used=gas_used, logs=[Log(*e) for e in entries],
    bloom=logs_bloom(logs))``, without the constructors.

    ``Log.__init__`` and ``Receipt.__init__`` (given a bloom) are rlp's
    ``Serializable.__init__``: it matches keyword arguments to fields (a few checks and
    dict and list merges per object) and stores each field, in field order, through
    ``make_immutable``; it validates no value. The bloom's items are each log's address
    and its topics as 32-byte words (``Log.bloomables``: rlp's ``uint32`` sedes, which
    refuses anything but an integer in [0, 2**256) — such a topic goes to it).
    ``tests/chains/test_statedb.py`` compares with the constructors and py-evm's receipt.
    """
    logs = []
    bloom = 0
    for address, topics, data in entries:
        log = _LOG_NEW(Log)
        log.__dict__.update(
            _address=_immutable(address), _topics=_immutable(topics), _data=_immutable(data)
        )
        logs.append(log)
        items = [address]
        for topic in topics:
            if topic.__class__ is int and 0 <= topic < _WORD:
                items.append(topic.to_bytes(32, "big"))
            else:
                items.append(uint32.serialize(topic))
        for item in items:
            h = _keccak(item)
            bloom |= (
                1 << ((h[0] << 8 | h[1]) & 2047)
                | 1 << ((h[2] << 8 | h[3]) & 2047)
                | 1 << ((h[4] << 8 | h[5]) & 2047)
            )
    receipt = _RECEIPT_NEW(Receipt)  # type: ignore[type-abstract]
    receipt.__dict__.update(
        _state_root=_immutable(status), _gas_used=gas_used, _bloom=bloom, _logs=tuple(logs)
    )
    return receipt


_LOG_NEW = Log.__new__
_RECEIPT_NEW = Receipt.__new__
_WORD = 1 << 256


def encode_receipt(receipt: Any) -> bytes:
    """``receipt.encode()`` (EIP-2718: the type byte, then the RLP of status, cumulative
    gas, bloom and logs; a legacy receipt without the byte) by the plain trie-node encoder.

    rlp's sedes path checks and serialises every field, log and topic, about 1.3 ms for a
    swap's receipt. Here: status as stored, the gas as a minimal big-endian integer, the
    bloom as 256 bytes, each log as [address, [32-byte topics], data] — the fields of
    ``eth.rlp.receipts.Receipt`` and ``eth.rlp.logs.Log``. ``tests/chains/test_statedb.py``
    compares with ``encode()`` for legacy and typed receipts with random logs.
    """
    gas = receipt.gas_used
    payload = encode_node(
        [
            receipt.state_root,
            gas.to_bytes((gas.bit_length() + 7) // 8, "big"),
            receipt.bloom.to_bytes(256, "big"),
            [
                [log.address, [topic.to_bytes(32, "big") for topic in log.topics], log.data]
                for log in receipt.logs
            ],
        ]
    )
    type_id = receipt.type_id
    return payload if type_id is None else bytes((type_id,)) + payload


def encode_tx(tx: Any) -> bytes:
    """``tx.encode()``: for a typed transaction, its type byte then its payload's RLP
    (``TypedTransaction.encode``, whose type byte is a ``cached_property`` — a third-party
    descriptor that asks asyncio whether the getter is a coroutine on first use — of
    ``to_bytes(type_id)``, one byte for a type under 256); anything else its own."""
    type_id = getattr(tx, "type_id", None)
    if (
        tx.__class__.encode is TypedTransaction.encode
        and type_id.__class__ is int
        and 0 <= type_id < 256
    ):
        return bytes((type_id,)) + tx._inner.encode()
    return bytes(tx.encode())


def replace_fields(obj: Any, **changes: Any) -> Any:
    """``obj.copy(**changes)`` for an rlp object (header, block), sharing the other fields.

    rlp's ``copy`` deep-copies every field not given — a block's whole transaction list at
    every seal. The fields are immutable rlp objects and bytes, so sharing them is safe.
    """
    cls = obj.__class__
    if cls is PragueBlockHeader:
        return _replace_header_fields(obj, changes)
    fields = {name: getattr(obj, name) for name in obj._meta.field_names}
    fields.update(changes)
    return obj.copy(**fields)


_HEADER_META = PragueBlockHeader._meta
_HEADER_ATTRS = dict(zip(_HEADER_META.field_names, _HEADER_META.field_attrs, strict=True))
_HEADER_FIELD_ATTRS = tuple(_HEADER_META.field_attrs)


def _header_sedes() -> tuple[tuple[str, int | None, int, float, bool], ...]:
    """Per header field: (attribute, fixed int length or None for a binary field, and a
    binary field's min length, max length and whether it may be empty)."""
    rows = []
    for (_name, sedes), attr in zip(_HEADER_META.fields, _HEADER_META.field_attrs, strict=True):
        if isinstance(sedes, rlp.sedes.BigEndianInt):
            rows.append((attr, sedes.length or 0, 0, 0.0, False))
        else:
            rows.append((attr, None, sedes.min_length, sedes.max_length, sedes.allow_empty))
    return tuple(rows)


_HEADER_SEDES = _header_sedes()


def encode_header(header: Any) -> bytes:
    """``rlp.encode(header)`` for a Prague header, by the plain encoder: integers big-endian
    (minimal, or padded to the field's fixed length: the 256-byte bloom), byte strings as
    they are. Anything rlp's sedes would refuse (a wrong type or length) goes to rlp, for
    its checks and errors. ``tests/chains/test_statedb.py`` compares with ``rlp.encode``."""
    items = []
    for attr, length, min_length, max_length, allow_empty in _HEADER_SEDES:
        value = getattr(header, attr)
        kind = value.__class__
        if length is not None and kind is int and value >= 0:
            if length:
                if value >= 1 << (8 * length):
                    return bytes(rlp.encode(header))
                items.append(value.to_bytes(length, "big"))
            else:
                items.append(value.to_bytes((value.bit_length() + 7) // 8, "big"))
        elif (
            length is None
            and kind is bytes
            and (min_length <= len(value) <= max_length or (allow_empty and not value))
        ):
            items.append(value)
        else:
            return bytes(rlp.encode(header))
    return encode_node(items)


def _replace_header_fields(header: Any, changes: dict[str, Any]) -> Any:
    """``header.copy(**changes)`` for a Prague header, without its constructor.

    The constructor (``PragueBlockHeader.__init__`` → ``rlp.Serializable.__init__``) only
    fills a missing timestamp (a copied header has one) and stores each field through
    rlp's ``make_immutable`` (a list becomes a tuple; anything else is stored as it is);
    it validates nothing. Here the new header gets the same stored fields, in the same
    order, and nothing else: its hash and RLP caches start empty, as a constructed
    header's do. The fields not changed are the original's stored (already immutable)
    values. ``tests/chains/test_statedb.py`` compares with ``copy`` (fields, encoding, hash).
    """
    stored = header.__dict__
    fields = {attr: stored[attr] for attr in _HEADER_FIELD_ATTRS}
    for name, value in changes.items():
        attr = _HEADER_ATTRS.get(name)
        if attr is None:
            unknown = sorted(changes.keys() - _HEADER_ATTRS.keys())
            raise TypeError(f"PragueBlockHeader has no field(s) {', '.join(unknown)}")
        fields[attr] = make_immutable(value) if isinstance(value, list) else value
    new = PragueBlockHeader.__new__(PragueBlockHeader)  # type: ignore[type-abstract]
    new.__dict__.update(fields)
    return new


#: The header fields the chain gives every new block (the fast path below takes these).
_HEADER_PARAMS = frozenset(
    ("coinbase", "timestamp", "gas_limit", "mix_hash", "extra_data", "parent_beacon_block_root")
)


def _header_from_parent(parent: Any, **params: Any) -> Any:
    """Prague's ``create_header_from_parent`` for a Prague parent and the chain's own
    fields: the same header, built once (py-evm builds it five times, a fork's header
    class at a time, to validate each fork's fields). Anything else goes to py-evm."""
    if parent is None or parent.__class__ is not PragueBlockHeader or set(params) != _HEADER_PARAMS:
        return create_prague_header_from_parent(parent, **params)
    # the constructor's defaults for the other fields, without the constructor (see
    # _replace_header_fields: it validates nothing, only stores each field)
    fields = {
        "difficulty": POST_MERGE_DIFFICULTY,
        "block_number": BlockNumber(parent.block_number + 1),
        "gas_limit": params["gas_limit"],
        "timestamp": params["timestamp"],
        "coinbase": params["coinbase"],
        "parent_hash": parent.hash,
        "state_root": parent.state_root,
        "extra_data": params["extra_data"],
        "mix_hash": params["mix_hash"],
        "nonce": POST_MERGE_NONCE,
        "base_fee_per_gas": calculate_expected_base_fee_per_gas(parent),
        "excess_blob_gas": calc_excess_blob_gas_prague(parent),
        "parent_beacon_block_root": params["parent_beacon_block_root"],
    }
    return _replace_header_fields(_DEFAULT_HEADER, fields)


#: A Prague header with the constructor's defaults (the template of new headers).
_DEFAULT_HEADER = PragueBlockHeader(
    difficulty=0, block_number=BlockNumber(0), gas_limit=0, timestamp=0
)


def requests_hash(requests: Sequence[bytes]) -> bytes:
    """EIP-7685's ``requests_hash``: sha256 of the sha256 of each request longer than its
    type byte (Prague's ``compute_requests_hash``)."""
    digest = None
    for request in requests:
        if len(request) > 1:
            if digest is None:
                digest = hashlib.sha256()
            digest.update(hashlib.sha256(request).digest())
    # a block without requests (each list just its type byte): sha256 of nothing
    return _NO_REQUESTS_HASH if digest is None else digest.digest()


_NO_REQUESTS_HASH = hashlib.sha256().digest()


@dataclass
class _Requests:
    """What Prague's request processing reads and writes of a block: its requests."""

    block_requests: list[bytes]


class DevVM(PragueVM):
    """Prague rules; ancestor hashes and receipts come from the chain's own records."""

    _state_class = DevState
    ancestor_hashes: tuple[bytes, ...] = ()
    block_receipts: Sequence[Any] = ()
    create_header_from_parent = staticmethod(_header_from_parent)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # py-evm's VM.logger is a property that looks the logger up by name at every use
        # (``logging.getLogger(f"eth.vm.base.VM.{class name}")``: at every seal); each
        # class keeps the object it returns (loggers are singletons by name).
        super().__init_subclass__(**kwargs)
        cls.logger = logging.getLogger(f"eth.vm.base.VM.{cls.__name__}")  # type: ignore[method-assign,assignment]

    @property
    def previous_hashes(self) -> tuple[bytes, ...]:  # type: ignore[override]
        return self.ancestor_hashes

    @classmethod
    def make_receipt(cls, base_header: Any, transaction: Any, computation: Any, state: Any) -> Any:
        # Byzantium's (inherited by Prague), with the logs bloom hashed by the C Keccak:
        # eth-bloom hashes each address and topic through eth-hash's pycryptodome backend.
        gas_used = base_header.gas_used + cls.finalize_gas_used(transaction, computation)
        status = (
            EIP658_TRANSACTION_STATUS_CODE_FAILURE
            if computation.is_error
            else EIP658_TRANSACTION_STATUS_CODE_SUCCESS
        )
        entries = computation.get_log_entries()
        receipt = build_receipt(status, gas_used, entries)
        type_id = transaction.type_id
        if type_id is None:  # a legacy transaction's receipt is not wrapped
            return receipt
        return transaction.receipt_builder.typed_receipt_class(type_id, receipt)

    def finalize_block(self, block: Any) -> BlockAndMetaWitness:
        # py-evm's, without its debug line, which formats the whole block (str(block))
        # at every seal whether or not debug logging is on. Post-merge there are no
        # block rewards (Paris's _assign_block_rewards does nothing).
        if self.logger.isEnabledFor(logging.DEBUG):
            return super().finalize_block(block)
        meta_witness = self.state.persist()
        header = replace_fields(block.header, state_root=self.state.state_root)
        # the sealed header's RLP and hash, filled as rlp and py-evm would on first use
        header._cached_rlp = encode_header(header)
        header._hash = _keccak(header._cached_rlp)
        return BlockAndMetaWitness(replace_fields(block, header=header), meta_witness)

    def seal_header(
        self, header: Any, transactions: Sequence[Any], receipts: Sequence[Any], **fields: Any
    ) -> Any:
        """The sealed header of a pending block opened with ``header``: the body's
        ``fields`` (gas used, bloom, transaction and receipt roots) set, then Prague's
        ``block_postprocessing`` (EIP-7685 requests and their hash) and ``finalize_block``
        (the state persisted, its root), its RLP and hash filled.

        py-evm's steps work on block objects (the pending block copied with the body,
        then with the requests hash, then with the state root: two block and three header
        constructions) of which only the last header is kept. The requests processing
        only appends to the block's ``block_requests`` list, so here it appends to a list
        of its own, and the header is built once with every field. Under debug logging
        py-evm's path runs (its debug lines format the block).
        ``tests/chains/test_statedb.py`` compares with that path on random blocks.
        """
        self.block_receipts = receipts
        if self.logger.isEnabledFor(logging.DEBUG):
            header = replace_fields(header, **fields)
            block = replace_fields(self.get_block(), header=header, transactions=transactions)
            return self.finalize_block(self.block_postprocessing(block)).block.header
        requests = _Requests([])
        self.process_deposit_request_data(requests)
        self.process_withdrawal_request_data(requests)  # type: ignore[arg-type]
        self.process_consolidation_request_data(requests)  # type: ignore[arg-type]
        fields["requests_hash"] = requests_hash(requests.block_requests)
        self.state.persist()
        fields["state_root"] = self.state.state_root
        sealed = replace_fields(header, **fields)
        sealed._cached_rlp = encode_header(sealed)
        sealed._hash = _keccak(sealed._cached_rlp)
        return sealed

    @staticmethod
    def compute_requests_hash(block: Any) -> Any:
        # Prague's (EIP-7685), with the block and header copies sharing their fields
        header = replace_fields(block.header, requests_hash=requests_hash(block.block_requests))
        return replace_fields(block, header=header)

    def process_deposit_request_data(self, block: Any) -> None:
        # Prague's version re-reads every receipt from the receipt trie in the database;
        # the receipts are in memory here. Same filter, same encoding (EIP-6110).
        data = b""
        for receipt in self.block_receipts:
            for log in receipt.logs:
                if (
                    log.address == DEPOSIT_CONTRACT_ADDRESS
                    and log.topics
                    and log.topics[0].to_bytes(32, "big") == DEPOSIT_EVENT_SIGNATURE_HASH
                ):
                    d = log.data
                    data += d[192:240] + d[288:320] + d[352:360] + d[416:512] + d[544:552]
        block.block_requests.append(DEPOSIT_REQUEST_TYPE + data)


DevVM.logger = logging.getLogger("eth.vm.base.VM.DevVM")  # type: ignore[method-assign,assignment]


class StockVM(DevVM):
    """:class:`DevVM` on py-evm's stock opcode loop (``ChainConfig(interpreter="py-evm")``)."""

    _state_class = StockState  # type: ignore[assignment]


VM_CLASSES: dict[str, type[DevVM]] = {"fast": DevVM, "py-evm": StockVM}


def impersonated_tx(tx: SignedTransactionAPI, sender: bytes) -> SignedTransactionAPI:
    # Bypass signature recovery: pin the sender and skip the signature check.
    inner = getattr(tx, "_inner", tx)  # a typed transaction wraps its payload; legacy does not
    inner.__dict__["sender"] = sender
    tx.__dict__["sender"] = sender
    tx.__dict__["_impersonated"] = True
    inner.check_signature_validity = lambda: None  # type: ignore[method-assign]
    return tx


@dataclass(frozen=True)
class CallResult:
    """Outcome of a call that was executed and then rolled back."""

    output: bytes
    gas_used: int
    gas_refund: int
    is_error: bool
    error: str | None
    #: (address, topics, data) of each log the call emitted
    logs: tuple[tuple[bytes, tuple[int, ...], bytes], ...] = ()


class CallTransaction:
    """An unsigned transaction with an asserted sender, for calls and estimates."""

    type_id = 0

    def __init__(self, unsigned: Any, sender: bytes) -> None:
        self._tx = unsigned
        self.sender = sender

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    @property
    def max_fee_per_gas(self) -> int:
        return 0

    @property
    def max_priority_fee_per_gas(self) -> int:
        return 0

    @property
    def access_list(self) -> Any:
        return getattr(self._tx, "access_list", ())

    @property
    def blob_versioned_hashes(self) -> tuple[()]:
        return ()

    @property
    def authorization_list(self) -> tuple[()]:
        return ()

    @property
    def intrinsic_gas(self) -> int:
        return int(self._tx.intrinsic_gas)


@functools.lru_cache(maxsize=1024)
def cached_signer(secret: bytes) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(secret)


def sign_tx(unsigned: Any, key: PrivateKey) -> SignedTransactionAPI:
    """``unsigned.as_signed_transaction(key)``, the same bytes, with less around it.

    py-evm signs through eth-keys, which builds a libsecp256k1 key (deriving its public
    key) for every signature and hashes with the pure-Python-wrapped Keccak; here the
    libsecp256k1 key is kept and the hash is the C one. Both sign the same Keccak of the
    same EIP-2718 payload with libsecp256k1's deterministic RFC 6979 nonce, so the
    signature — and the transaction hash — is identical (``tests/chains/test_chain.py``).
    """
    values = (
        unsigned.chain_id,
        unsigned.nonce,
        unsigned.max_priority_fee_per_gas,
        unsigned.max_fee_per_gas,
        unsigned.gas,
        unsigned.to,
        unsigned.value,
        unsigned.data,
        unsigned.access_list,
    )
    fields = _dynamic_fee_fields(values)
    if fields is None:
        return _signed(values, None, unsigned.get_message_for_signing(), key)
    return _signed(values, fields, b"\x02" + encode_node(fields), key)


def sign_dynamic_fee_tx(
    key: PrivateKey,
    chain_id: int,
    nonce: int,
    tip: int,
    max_fee: int,
    gas: int,
    to: Address,
    value: int,
    data: bytes,
) -> SignedTransactionAPI:
    """``sign_tx(TX_BUILDER.new_unsigned_dynamic_fee_transaction(chain_id, nonce, tip,
    max_fee, gas, to, value, data, []), key)``: the same transaction, without building
    the unsigned one (rlp's constructor, then reading its fields back) when the fields
    are plain (see ``_dynamic_fee_fields``; rlp stores ``[]`` as ``()``)."""
    values: tuple[Any, ...] = (chain_id, nonce, tip, max_fee, gas, to, value, data, ())
    fields = _dynamic_fee_fields(values)
    if fields is None:
        unsigned = TX_BUILDER.new_unsigned_dynamic_fee_transaction(
            chain_id, nonce, tip, max_fee, gas, to, value, data, []
        )
        return sign_tx(unsigned, key)
    return _signed(values, fields, b"\x02" + encode_node(fields), key)


def _signed(
    values: tuple[Any, ...], fields: list[Any] | None, message: bytes, key: PrivateKey
) -> SignedTransactionAPI:
    """The signed dynamic-fee transaction of ``values`` (its nine fields) and the EIP-2718
    ``message`` to sign; with ``fields`` (the plain RLP items), its encoding and hash."""
    digest = _keccak(message)
    signature = cached_signer(key.to_bytes()).sign_recoverable(digest, hasher=None)
    y_parity, r, s = signature[64], int.from_bytes(signature[:32]), int.from_bytes(signature[32:64])
    chain_id, nonce, tip, max_fee, gas, to, value, data, access_list = values
    tx = TX_BUILDER.new_dynamic_fee_transaction(
        chain_id, nonce, tip, max_fee, gas, to, value, data, access_list, y_parity, r, s
    )
    if fields is not None:
        # rlp.encode of the signed payload: the same fields, then y_parity, r, s as
        # minimal big-endian integers. rlp keeps an object's encoding in its own
        # ``_cached_rlp`` slot (and returns it from encode()); the hash is keccak of the
        # type byte and that encoding (``TypedTransaction.hash``).
        payload = encode_node([*fields, _int_bytes(y_parity), _int_bytes(r), _int_bytes(s)])
        tx._inner._cached_rlp = payload  # type: ignore[attr-defined]
        tx.__dict__["hash"] = _keccak(b"\x02" + payload)
    return tx


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _dynamic_fee_fields(values: tuple[Any, ...]) -> list[Any] | None:
    """The RLP items of an unsigned EIP-1559 transaction's nine fields without an
    access list (rlp's sedes: integers minimal big-endian, ``to`` 20 bytes or empty, the
    data, an empty list), or ``None`` for anything else (rlp's own path then)."""
    chain_id, nonce, tip, max_fee, gas, to, value, data, access_list = values
    ints = (chain_id, nonce, tip, max_fee, gas)
    if (
        access_list
        or any(v.__class__ is not int or v < 0 for v in (*ints, value))
        or to.__class__ is not bytes
        or len(to) not in (0, 20)
        or data.__class__ is not bytes
    ):
        return None
    return [*(_int_bytes(v) for v in ints), to, _int_bytes(value), data, []]


@functools.lru_cache(maxsize=4096)
def checksum(address: bytes) -> str:
    """EIP-55 form of a 20-byte address, memoised: receipts name the same few addresses
    (sender, contract, log emitters) over and over, and each spelling costs a Keccak."""
    return str(to_checksum_address(address))


def validate_transaction(state: Any, tx: Any) -> None:
    """geth's checks of a transaction against the pending state, with geth's words.

    The tip under the fee cap, the sender's funds for ``gas × maxFeePerGas + value``,
    the intrinsic gas (py-evm checks the last two with messages of its own: a bytes repr
    of the sender, "Message.gas cannot be negative"). Funds come before the intrinsic gas
    here: ``Chain.transact`` lowers an unaffordable gas limit, so a poor sender's
    transaction would otherwise read as a gas problem. The nonce and the base fee are
    checked by the caller.
    """
    tip, fee_cap = tx.max_priority_fee_per_gas, tx.max_fee_per_gas
    if tip > fee_cap:
        raise InvalidTransaction(
            "max priority fee per gas higher than max fee per gas: "
            f"address {checksum(tx.sender)}, maxPriorityFeePerGas: {tip}, "
            f"maxFeePerGas: {fee_cap}"
        )
    balance = state.get_balance(tx.sender)
    cost = tx.gas * fee_cap + tx.value
    if balance < cost:
        raise InsufficientFunds(
            f"insufficient funds for gas * price + value: address {checksum(tx.sender)} "
            f"have {balance} want {cost}"
        )
    intrinsic = tx.intrinsic_gas
    if tx.gas < intrinsic:
        raise InvalidTransaction(f"intrinsic gas too low: have {tx.gas}, want {intrinsic}")


_BYTES_REPR = re.compile(r"b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"")


def _readable(text: str) -> str:
    """py-evm's messages with bytes reprs (``b'\\x17\\x88…'``) spelled as hex or addresses."""

    def spell(match: re.Match[str]) -> str:
        try:
            value = ast.literal_eval(match.group())
        except (ValueError, SyntaxError):
            return match.group()
        return checksum(value) if len(value) == 20 else "0x" + value.hex()

    return _BYTES_REPR.sub(spell, text)


def classify_error(exc: ValidationError) -> ChainError:
    text = _readable(str(exc))
    lowered = text.lower()
    if "nonce" in lowered:
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        if len(numbers) >= 2 and numbers[-1] < numbers[-2]:
            return NonceTooLow(f"nonce too low: {text}")
        return InvalidTransaction(f"nonce too high: {text}")
    if "balance" in lowered or "afford" in lowered:
        return InsufficientFunds(f"insufficient funds for gas * price + value: {text}")
    return InvalidTransaction(text)


def error_name(error: Any) -> str | None:
    """``None`` for a plain REVERT, else the EVM error (OutOfGas, InvalidJumpDestination...)."""
    if isinstance(error, Revert):
        return None
    return type(error).__name__
