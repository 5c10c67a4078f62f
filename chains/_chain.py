"""One py-evm chain in this process: blocks, transactions, calls, snapshots.

The chain builds blocks itself on top of py-evm's Prague VM instead of going through
``MiningChain.apply_transaction``, which persists the state trie and rebuilds the whole
pending block (transaction and receipt tries) after every transaction — quadratic in
the block's length. Here a transaction runs against the pending block's live state; the
state root and the tries are computed once, when the block is sealed.

Flow: ``transact`` → sign (or impersonate) → ``_include`` runs it in the pending block →
automine seals at once; interval mining seals on the clock's next boundary; manual
mining waits for ``mine()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import coincurve
import rlp
from eth.abc import SignedTransactionAPI
from eth.chains.base import MiningChain
from eth.constants import ZERO_ADDRESS
from eth.db.atomic import AtomicDB
from eth.exceptions import Revert
from eth.vm.chain_context import ChainContext
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.constants import (
    DEPOSIT_CONTRACT_ADDRESS,
    DEPOSIT_EVENT_SIGNATURE_HASH,
    DEPOSIT_REQUEST_TYPE,
)
from eth.vm.forks.prague.state import PragueState
from eth.vm.forks.prague.transactions import PragueTransactionBuilder
from eth_keys.datatypes import PrivateKey
from eth_keys.exceptions import BadSignature
from eth_typing import Address, Hash32
from eth_utils import ValidationError, keccak, to_canonical_address, to_checksum_address

from chains._accounts import dev_accounts
from chains._clock import Clock
from chains._compiler import CompiledContract, Compiler
from chains._contract import AbiRegistry, Contract
from chains._errors import (
    ChainError,
    ConfigError,
    InsufficientFunds,
    InvalidTransaction,
    NonceTooLow,
    SnapshotNotFound,
    TransactionReverted,
    UnknownBlock,
)
from chains._interpreter import FastComputation, StockComputation, _keccak
from chains._statedb import DevAccountDB
from chains._transports import build_transport
from chains._trie import ordered_trie_root
from chains._types import BlockRecord, Log, Receipt

__all__ = ["Chain", "ChainConfig", "MiningMode"]

logger = logging.getLogger(__name__)

MiningMode = Literal["auto", "interval", "manual"]
Interpreter = Literal["fast", "py-evm"]

ETHER = 10**18
DEFAULT_GAS_LIMIT = 30_000_000
INITIAL_BASE_FEE = 1_000_000_000  # EIP-1559's initial base fee, 1 gwei
DEFAULT_PRIORITY_FEE = 1_000_000_000
#: EIP-7825's per-transaction gas cap; the native API never asks for more.
TX_GAS_CAP = 2**24
_BUILDER = PragueTransactionBuilder
_MAX_ANCESTORS = 256
#: Below this much gas left in the pending block, an auto-gas transaction opens a new one.
_MIN_AUTO_GAS = 1_000_000


@dataclass(frozen=True)
class ChainConfig:
    """Static configuration of one chain. Validated on construction."""

    chain_id: int
    name: str = ""
    mining: MiningMode = "auto"
    block_time: float = 2.0
    gas_limit: int = DEFAULT_GAS_LIMIT
    base_fee: int = INITIAL_BASE_FEE
    n_accounts: int = 10
    balance: int = 10_000 * ETHER
    empty_blocks: bool = False
    #: ``"fast"``: py-evm with this package's lean opcode loop (:mod:`chains._interpreter`);
    #: ``"py-evm"``: py-evm's stock loop, the reference the fast one is tested against.
    interpreter: Interpreter = "fast"

    def __post_init__(self) -> None:
        if not isinstance(self.chain_id, int) or not 0 < self.chain_id < 2**64:
            raise ConfigError(
                f"chain_id must be a positive integer below 2**64, got {self.chain_id!r}"
            )
        if self.mining not in ("auto", "interval", "manual"):
            raise ConfigError(
                f"mining must be one of 'auto', 'interval', 'manual', got {self.mining!r}"
            )
        if not self.block_time > 0:
            raise ConfigError(f"block_time must be positive seconds, got {self.block_time!r}")
        if self.gas_limit < 5_000_000:
            raise ConfigError(f"gas_limit must be at least 5,000,000, got {self.gas_limit}")
        if self.base_fee < 0:
            raise ConfigError(f"base_fee must be non-negative, got {self.base_fee}")
        if self.interpreter not in ("fast", "py-evm"):
            raise ConfigError(f"interpreter must be 'fast' or 'py-evm', got {self.interpreter!r}")
        if not 1 <= self.n_accounts <= 1000:
            raise ConfigError(f"n_accounts must be between 1 and 1000, got {self.n_accounts}")


class _StockState(PragueState):
    account_db_class = DevAccountDB
    computation_class = StockComputation


class _DevState(_StockState):
    computation_class = FastComputation  # type: ignore[assignment]


class _DevVM(PragueVM):
    """Prague rules; ancestor hashes and receipts come from the chain's own records."""

    _state_class = _DevState
    ancestor_hashes: tuple[bytes, ...] = ()
    block_receipts: Sequence[Any] = ()

    @property
    def previous_hashes(self) -> tuple[bytes, ...]:  # type: ignore[override]
        return self.ancestor_hashes

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


class _StockVM(_DevVM):
    """:class:`_DevVM` on py-evm's stock opcode loop (``ChainConfig(interpreter="py-evm")``)."""

    _state_class = _StockState  # type: ignore[assignment]


_VM_CLASSES: dict[str, type[_DevVM]] = {"fast": _DevVM, "py-evm": _StockVM}


def _impersonated(tx: SignedTransactionAPI, sender: bytes) -> SignedTransactionAPI:
    inner = tx._inner  # type: ignore[attr-defined]
    # Bypass signature recovery: pin the sender and skip the signature check.
    inner.__dict__["sender"] = sender
    tx.__dict__["sender"] = sender
    tx.__dict__["_impersonated"] = True
    inner.check_signature_validity = lambda: None
    return tx


@dataclass
class _Pending:
    """The block under construction: a VM with live state plus what it has included.

    ``header`` is the template the block opened with; gas used and the logs bloom
    accumulate in plain integers and enter the header once, at sealing.
    """

    vm: _DevVM
    header: Any
    gas_used: int = 0
    bloom: int = 0
    transactions: list[SignedTransactionAPI] = field(default_factory=list)
    evm_receipts: list[Any] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)
    log_count: int = 0


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


@dataclass(frozen=True)
class CallResult:
    """Outcome of a call that was executed and then rolled back."""

    output: bytes
    gas_used: int
    gas_refund: int
    is_error: bool
    error: str | None


class Chain:
    """One EVM chain: its own id, state, blocks and dev accounts.

    Build chains through :class:`chains.Devnet`, which gives them a shared clock and
    seed; a lone ``Chain(ChainConfig(chain_id=...))`` gets a private virtual clock.
    """

    def __init__(
        self,
        config: ChainConfig,
        clock: Clock | None = None,
        *,
        seed: int = 0,
        compiler: Any = None,
    ) -> None:
        self.config = config
        self.clock = clock if clock is not None else Clock()
        self.seed = seed
        self.chain_id = config.chain_id
        self.name = config.name or str(config.chain_id)
        self._compiler = compiler
        self._vm_class = _VM_CLASSES[config.interpreter]
        self.accounts = dev_accounts(config.n_accounts)
        self._keys: dict[bytes, PrivateKey] = {
            to_canonical_address(a.address): PrivateKey(bytes(a.key)) for a in self.accounts
        }
        self.default_sender: str = self.accounts[0].address
        self._impersonated: set[bytes] = set()
        self._chain_context = ChainContext(config.chain_id)
        self._blocks: list[BlockRecord] = []
        self._tx_index: dict[bytes, tuple[int, int]] = {}
        self._pending: _Pending | None = None
        self._pending_ops: list[tuple[Any, ...]] = []
        self._next_timestamp: int | None = None
        self._seal_event: Any = None
        self._snapshots: dict[int, _Snapshot] = {}
        self._snapshot_ids = 0
        self.last_receipt: Receipt | None = None
        self._listeners: list[Callable[[BlockRecord], None]] = []
        self.abi_registry = AbiRegistry()
        self._w3: Any = None
        self._rpc: Any = None
        self._live_state: Any = None
        self._genesis()

    def __repr__(self) -> str:
        return f"<Chain {self.name} id={self.chain_id} block={self.block_number}>"

    @property
    def rpc(self) -> Any:
        """This chain's JSON-RPC method table (:class:`chains.RpcMethods`)."""
        if self._rpc is None:
            self._rpc = build_transport("rpc", self)
        return self._rpc

    @property
    def w3(self) -> Any:
        """A ``web3.Web3`` bound to this chain in-process (no sockets, no JSON encoding)."""
        if self._w3 is None:
            self._w3 = build_transport("w3", self)
        return self._w3

    # ------------------------------------------------------------------------------------
    # genesis and block production
    # ------------------------------------------------------------------------------------
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
            __name__="TestbedGenesis", vm_configuration=((0, _DevVM),), chain_id=self.chain_id
        )
        genesis_chain = klass.from_genesis(AtomicDB(), params, state)
        self._chaindb = genesis_chain.chaindb
        header = genesis_chain.get_canonical_head()
        self._blocks.append(BlockRecord(0, header.hash, header, (), (), _block_size(header, ())))

    def _prevrandao(self, number: int) -> bytes:
        # Random on a real chain; here derived from the seed so runs are reproducible.
        return keccak(b"testbed-prevrandao" + f"{self.seed}:{self.chain_id}:{number}".encode())

    def _ancestors(self, number: int | None = None) -> tuple[Hash32, ...]:
        """Hashes of the blocks before block ``number`` (default: the next one), newest first.

        What BLOCKHASH sees while block ``number`` executes: at most the last 256.
        """
        end = len(self._blocks) if number is None else number
        return tuple(
            Hash32(b.hash) for b in reversed(self._blocks[max(0, end - _MAX_ANCESTORS) : end])
        )

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
            self._live_state = None
        parent = self._blocks[-1].header
        if timestamp is None:
            timestamp = self._next_block_time()
        timestamp = max(int(timestamp), parent.timestamp + 1)
        number = parent.block_number + 1
        header = _DevVM.create_header_from_parent(
            parent,
            coinbase=ZERO_ADDRESS,
            timestamp=timestamp,
            gas_limit=self.config.gas_limit,
            mix_hash=self._prevrandao(number),
            extra_data=b"",
            parent_beacon_block_root=keccak(b"testbed-beacon" + parent.hash),
        )
        vm = self._vm_class(header, self._chaindb, self._chain_context, None)  # type: ignore[arg-type]
        vm.ancestor_hashes = self._ancestors()
        if self._live_state is not None:
            # The state persisted at the last seal is this block's starting state: keep
            # the object (and its caches), give it the new block's execution context.
            self._live_state.execution_context = _DevVM.create_execution_context(
                header, vm.ancestor_hashes, self._chain_context
            )
            vm._state = self._live_state
        else:
            self._live_state = vm.state
        vm.block_preprocessing(vm.get_block())
        self._pending = _Pending(vm=vm, header=header)
        return self._pending

    def _next_block_time(self) -> int:
        if self._next_timestamp is not None:
            return self._next_timestamp
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
        header = pending.header.copy(
            gas_used=pending.gas_used,
            bloom=pending.bloom,
            transaction_root=ordered_trie_root([tx.encode() for tx in transactions]),
            receipt_root=ordered_trie_root([r.encode() for r in pending.evm_receipts]),
        )
        vm.block_receipts = pending.evm_receipts
        block = vm.get_block().copy(header=header, transactions=transactions)
        block = vm.block_postprocessing(block)
        final = vm.finalize_block(block).block
        block_hash = final.header.hash
        receipts = tuple(
            dataclasses.replace(
                r,
                block_hash=block_hash,
                logs=tuple(dataclasses.replace(lg, block_hash=block_hash) for lg in r.logs),
            )
            for r in pending.receipts
        )
        record = BlockRecord(
            number=final.header.block_number,
            hash=block_hash,
            header=final.header,
            transactions=tuple(pending.transactions),
            receipts=receipts,
            size=_block_size(final.header, pending.transactions),
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
        self._cancel_seal()
        for listener in tuple(self._listeners):  # a listener may unsubscribe itself
            listener(record)
        return record

    def mine(self, blocks: int = 1, *, timestamp: int | None = None) -> list[BlockRecord]:
        """Seal the pending block, then empty ones until ``blocks`` were produced."""
        if blocks < 1:
            raise ValueError(f"blocks must be at least 1, got {blocks}")
        if timestamp is not None:
            self.set_next_block_timestamp(timestamp)
        out = []
        for _ in range(blocks):
            if self._pending is not None and not self._pending.transactions:
                self._replay(self._pending_ops)  # re-open at the current time
            out.append(self._seal())
        return out

    def on_block(self, listener: Callable[[BlockRecord], None]) -> Callable[[], None]:
        """Call ``listener(block)`` after every sealed block (subscriptions, relayers).

        Returns a function that unsubscribes it again (the same as :meth:`off_block`).
        """
        self._listeners.append(listener)
        return lambda: self.off_block(listener)

    @property
    def block_listeners(self) -> tuple[Callable[[BlockRecord], None], ...]:
        """The listeners :meth:`on_block` subscribed, in call order."""
        return tuple(self._listeners)

    def off_block(self, listener: Callable[[BlockRecord], None]) -> None:
        """Stop calling ``listener`` after sealed blocks (no effect if it is not subscribed)."""
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _schedule_seal(self) -> None:
        if self.config.mining != "interval" or self._seal_event is not None:
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

    # ------------------------------------------------------------------------------------
    # transactions
    # ------------------------------------------------------------------------------------
    @property
    def _state(self) -> Any:
        return self._open().vm.state

    def transact(
        self,
        *,
        sender: str | bytes | None = None,
        to: str | bytes | None = None,
        data: bytes = b"",
        value: int = 0,
        gas: int | None = None,
        max_fee_per_gas: int | None = None,
        max_priority_fee_per_gas: int | None = None,
        nonce: int | None = None,
    ) -> Receipt:
        """Sign (or impersonate) and include a transaction; return its receipt.

        Without ``gas`` the transaction gets what the pending block has left (capped at
        2**24, EIP-7825); if it then runs out of gas only because the block was nearly
        full, it is rolled back and included in a fresh block instead. Reverts raise
        :class:`TransactionReverted` carrying the mined receipt.
        """
        from_ = self._canonical(sender if sender is not None else self.default_sender)
        pending = self._open()
        base_fee = pending.header.base_fee_per_gas
        tip = DEFAULT_PRIORITY_FEE if max_priority_fee_per_gas is None else max_priority_fee_per_gas
        max_fee = base_fee * 2 + tip if max_fee_per_gas is None else max_fee_per_gas
        if nonce is None:
            nonce = pending.vm.state.get_nonce(from_)
        to_bytes = Address(b"") if to is None else self._canonical(to)
        auto_gas = gas is None
        if gas is None:
            remaining = self.config.gas_limit - pending.gas_used
            if remaining < _MIN_AUTO_GAS and pending.transactions:
                self._seal()  # block nearly full: this transaction starts the next one
                pending = self._open()
                remaining = self.config.gas_limit
            gas = min(TX_GAS_CAP, self.config.gas_limit, remaining)
            if max_fee:
                affordable = (pending.vm.state.get_balance(from_) - value) // max_fee
                gas = max(21_000, min(gas, affordable))
        tx = self._build(from_, nonce, tip, max_fee, gas, to_bytes, value, data)
        receipt = self._include(tx, retry_in_new_block=auto_gas)
        return self._finish(receipt)

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
        unsigned = _BUILDER.new_unsigned_dynamic_fee_transaction(
            self.chain_id, nonce, tip, max_fee, gas, to, value, data, []
        )
        key = self._keys.get(from_)
        if key is not None:
            tx = _sign(unsigned, key)
            # We produced this signature with the sender's key: pin the sender instead of
            # recovering it again (raw transactions from clients are still recovered).
            tx.__dict__["sender"] = from_
            return tx
        if from_ in self._impersonated:
            fake = _BUILDER.new_dynamic_fee_transaction(
                self.chain_id, nonce, tip, max_fee, gas, to, value, data, [], 0, 1, 1
            )
            return _impersonated(fake, from_)
        raise ChainError(
            f"no key for sender {to_checksum_address(from_)} on chain {self.name}: use one of "
            "chain.accounts, add_account(), or impersonate(address) first"
        )

    def send_raw_transaction(self, raw: bytes) -> Receipt:
        """Decode, verify the signature of, and include a raw signed transaction."""
        try:
            tx = _BUILDER.deserialize(raw) if raw[:1] < b"\x80" else _BUILDER.decode(raw)
        except (rlp.DecodingError, rlp.DeserializationError, ValidationError, ValueError) as exc:
            raise InvalidTransaction(f"could not decode the raw transaction: {exc}") from exc
        if getattr(tx, "type_id", None) == 3:
            raise InvalidTransaction("blob transactions (type 3) are not supported by this devnet")
        if raw[:1] >= b"\xc0" and getattr(tx, "v", 0) in (27, 28):
            pass  # pre-EIP-155 legacy transaction: accepted, as anvil does
        elif tx.chain_id != self.chain_id:
            raise InvalidTransaction(
                f"transaction is for chain id {tx.chain_id}, this chain is {self.chain_id}"
            )
        try:
            tx.check_signature_validity()
            tx.sender  # noqa: B018 - recovers and caches the sender
        except (ValidationError, BadSignature, ValueError) as exc:
            raise InvalidTransaction(f"invalid transaction signature: {exc}") from exc
        return self._finish(self._include(tx, retry_in_new_block=False))

    def _include(self, tx: SignedTransactionAPI, *, retry_in_new_block: bool) -> Receipt:
        pending = self._open()
        state = pending.vm.state
        if pending.gas_used + tx.gas > pending.header.gas_limit:
            if not pending.transactions:
                raise InvalidTransaction(
                    f"gas limit {tx.gas} exceeds the block gas limit {pending.header.gas_limit}"
                )
            self._seal()
            return self._include(tx, retry_in_new_block=retry_in_new_block)
        snapshot = state.snapshot() if retry_in_new_block and pending.transactions else None
        try:
            if tx.max_fee_per_gas < pending.header.base_fee_per_gas:
                raise ValidationError(
                    f"max fee per gas ({tx.max_fee_per_gas}) is below the block's base fee "
                    f"({pending.header.base_fee_per_gas})"
                )
            computation, evm_receipt, gas_used = self._run(pending, tx)
        except ValidationError as exc:
            raise _classify(exc) from exc
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
            return self._include(retried, retry_in_new_block=False)
        receipt = self._record(pending, tx, computation, evm_receipt, gas_used)
        self._pending_ops.append(("tx", tx))
        if self.config.mining == "auto":
            self._seal()
            receipt = self.get_receipt(receipt.tx_hash)
        else:
            self._schedule_seal()
        self.last_receipt = receipt
        return receipt

    @staticmethod
    def _run(pending: _Pending, tx: SignedTransactionAPI) -> tuple[Any, Any, int]:
        """Execute ``tx`` on the pending state: (computation, py-evm receipt, its own gas)."""
        vm, state = pending.vm, pending.vm.state
        state.lock_changes()  # a new transaction starts: earlier changes become permanent
        computation = state.apply_transaction(tx)
        # make_receipt reads only .gas_used of the header it is given
        evm_receipt = vm.make_receipt(_GasSoFar(pending.gas_used), tx, computation, state)  # type: ignore[arg-type]
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
                    address=_checksum(address),
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
            created = _checksum(computation.msg.storage_address)
        base_fee = header.base_fee_per_gas
        price = min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)
        error = None
        if computation.is_error:
            error = _error_name(computation.error)
        receipt = Receipt(
            tx_hash=tx_hash,
            transaction_index=index,
            block_number=number,
            sender=_checksum(tx.sender),
            to=_checksum(tx.to) if tx.to else None,
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

    def _finish(self, receipt: Receipt) -> Receipt:
        if not receipt.status:
            raise TransactionReverted.from_revert_data(receipt.output, receipt, error=receipt.error)
        return receipt

    def decorate(self, receipt: Receipt, *, return_value: Any) -> Receipt:
        """Attach a decoded return value; keeps ``last_receipt`` pointing at the result."""
        out = dataclasses.replace(receipt, return_value=return_value)
        if self.last_receipt is not None and self.last_receipt.tx_hash == receipt.tx_hash:
            self.last_receipt = out
        return out

    # ------------------------------------------------------------------------------------
    # contracts
    # ------------------------------------------------------------------------------------
    @property
    def compiler(self) -> Compiler:
        """The Vyper compiler (with its on-disk cache) this chain deploys with."""
        if self._compiler is None:
            self._compiler = Compiler()
        return self._compiler

    def compile(self, path: str | Any) -> CompiledContract:
        """Compile a Vyper file (cached on disk by source, imports, compiler and settings)."""
        return self.compiler.compile_file(path)

    def deploy(
        self,
        path: str | Any,
        *args: Any,
        sender: str | None = None,
        value: int = 0,
        gas: int | None = None,
    ) -> Contract:
        """Compile the Vyper file at ``path`` and deploy it with constructor ``args``."""
        compiled = self.compile(path)
        return self._deploy(
            compiled.bytecode, compiled.abi_list, args, compiled.name, sender, value, gas
        )

    def deploy_source(
        self,
        source: str,
        *args: Any,
        name: str = "Contract",
        sender: str | None = None,
        value: int = 0,
        gas: int | None = None,
    ) -> Contract:
        """Compile Vyper ``source`` text and deploy it."""
        compiled = self.compiler.compile_source(source, name=name)
        return self._deploy(compiled.bytecode, compiled.abi_list, args, name, sender, value, gas)

    def deploy_bytecode(
        self,
        bytecode: bytes | str,
        abi: Sequence[dict[str, Any]],
        *args: Any,
        name: str = "Contract",
        sender: str | None = None,
        value: int = 0,
        gas: int | None = None,
    ) -> Contract:
        """Deploy any EVM creation bytecode with its ABI (Solidity, Huff, hand-written...)."""
        if isinstance(bytecode, str):
            bytecode = bytes.fromhex(bytecode.removeprefix("0x"))
        return self._deploy(bytecode, list(abi), args, name, sender, value, gas)

    def _deploy(
        self,
        bytecode: bytes,
        abi: list[dict[str, Any]],
        args: Sequence[Any],
        name: str,
        sender: str | None,
        value: int,
        gas: int | None,
    ) -> Contract:
        from eth_abi import encode
        from eth_abi.exceptions import EncodingError

        from chains._contract import abi_type

        ctor = next((item for item in abi if item.get("type") == "constructor"), None)
        types = [abi_type(p) for p in ctor.get("inputs", [])] if ctor else []
        if len(types) != len(args):
            raise TypeError(f"{name} constructor takes {len(types)} arguments, got {len(args)}")
        try:
            data = bytecode + encode(types, list(args))
        except (EncodingError, TypeError, ValueError, OverflowError) as exc:
            raise TypeError(f"bad constructor arguments for {name}: {args!r}: {exc}") from exc
        receipt = self.transact(sender=sender, to=None, data=data, value=value, gas=gas)
        assert receipt.contract_address is not None
        contract = Contract(self, receipt.contract_address, abi, name)
        contract.deploy_receipt = receipt
        return contract

    def at(
        self,
        address: str,
        source: str | Any | None = None,
        *,
        abi: Sequence[dict[str, Any]] | None = None,
        name: str | None = None,
    ) -> Contract:
        """A handle on an existing contract, from its Vyper source file or an ABI."""
        if (source is None) == (abi is None):
            raise TypeError("give exactly one of a Vyper source path or abi=")
        if source is not None:
            compiled = self.compile(source)
            return Contract(self, address, compiled.abi_list, name or compiled.name)
        return Contract(self, address, list(abi or []), name or "Contract")

    # ------------------------------------------------------------------------------------
    # calls and estimates
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
            unsigned = _BUILDER.create_unsigned_transaction(
                nonce=nonce, gas_price=0, gas=gas, to=to_bytes, value=value, data=data
            )
            tx = _CallTransaction(unsigned, from_)
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
                error = _error_name(computation.error) if is_error else None
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

    # ------------------------------------------------------------------------------------
    # accounts and state
    # ------------------------------------------------------------------------------------
    @staticmethod
    def _canonical(address: str | bytes) -> Address:
        if isinstance(address, bytes) and len(address) == 20:
            return Address(address)
        try:
            return Address(to_canonical_address(address))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an address: {address!r}") from exc

    def add_account(self, private_key: bytes | str) -> str:
        """Register a private key so the native API can sign for it; return its address."""
        key = PrivateKey(
            bytes.fromhex(private_key.removeprefix("0x"))
            if isinstance(private_key, str)
            else private_key
        )
        address = key.public_key.to_canonical_address()
        self._keys[address] = key
        return to_checksum_address(address)

    def impersonate(self, address: str) -> None:
        """Let transactions claim ``address`` as sender without its key (anvil semantics)."""
        self._impersonated.add(self._canonical(address))

    def stop_impersonating(self, address: str) -> None:
        """Undo :meth:`impersonate`."""
        self._impersonated.discard(self._canonical(address))

    def is_impersonated(self, address: str) -> bool:
        return self._canonical(address) in self._impersonated

    def has_key(self, address: str | bytes) -> bool:
        """Whether the chain can sign for ``address``."""
        return self._canonical(address) in self._keys

    @contextlib.contextmanager
    def as_sender(self, address: str) -> Iterator[None]:
        """Make ``address`` the default sender (impersonated if needed) inside the block."""
        previous, was = self.default_sender, self.is_impersonated(address)
        if not self.has_key(address):
            self.impersonate(address)
        self.default_sender = to_checksum_address(address)
        try:
            yield
        finally:
            self.default_sender = previous
            if not was and not self.has_key(address):
                self.stop_impersonating(address)

    def get_balance(self, address: str | bytes, block: int | str = "pending") -> int:
        with self._state_at(block) as state:
            return int(state.get_balance(self._canonical(address)))

    def get_nonce(self, address: str | bytes, block: int | str = "pending") -> int:
        with self._state_at(block) as state:
            return int(state.get_nonce(self._canonical(address)))

    def get_code(self, address: str | bytes, block: int | str = "pending") -> bytes:
        with self._state_at(block) as state:
            return bytes(state.get_code(self._canonical(address)))

    def get_storage_at(self, address: str | bytes, slot: int, block: int | str = "pending") -> int:
        with self._state_at(block) as state:
            return int(state.get_storage(self._canonical(address), slot))

    def _state_op(self, op: tuple[Any, ...]) -> None:
        self._apply_op(self._open().vm.state, op)
        self._pending_ops.append(op)
        if self.config.mining == "auto":
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

    def set_balance(self, address: str | bytes, wei: int) -> None:
        """Set an account's balance (a dev control, mined into a block under automine)."""
        if wei < 0:
            raise ValueError(f"balance must be non-negative, got {wei}")
        self._state_op(("balance", self._canonical(address), int(wei)))

    def set_code(self, address: str | bytes, code: bytes) -> None:
        """Replace an account's code."""
        self._state_op(("code", self._canonical(address), bytes(code)))

    def set_nonce(self, address: str | bytes, nonce: int) -> None:
        """Set an account's nonce."""
        self._state_op(("nonce", self._canonical(address), int(nonce)))

    def set_storage_at(self, address: str | bytes, slot: int, value: int) -> None:
        """Write one storage slot."""
        self._state_op(("storage", self._canonical(address), int(slot), int(value)))

    # ------------------------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------------------------
    @property
    def block_number(self) -> int:
        """Number of the latest sealed block."""
        return self._blocks[-1].number

    @property
    def timestamp(self) -> int:
        """Timestamp of the latest sealed block."""
        return self._blocks[-1].timestamp

    @property
    def pending_block_number(self) -> int:
        return self.block_number + 1

    @property
    def pending_transactions(self) -> tuple[Receipt, ...]:
        """Receipts of transactions included in the block not yet sealed."""
        return tuple(self._pending.receipts) if self._pending is not None else ()

    @property
    def base_fee(self) -> int:
        """Base fee of the next block."""
        return int(self._open().header.base_fee_per_gas)

    @property
    def blocks(self) -> Sequence[BlockRecord]:
        """Sealed blocks, index = block number."""
        return tuple(self._blocks)

    def get_block(self, block: int | str | bytes) -> BlockRecord:
        """A sealed block by number, hash or tag (``latest``, ``earliest``, ``safe``, ...)."""
        if isinstance(block, bytes):
            for record in reversed(self._blocks):
                if record.hash == block:
                    return record
            raise UnknownBlock(f"no block with hash 0x{block.hex()} on chain {self.name}")
        if block in ("latest", "safe", "finalized", "pending"):
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

    def get_receipt(self, tx_hash: bytes) -> Receipt:
        """Receipt of a sealed transaction; raises ``KeyError`` if unknown or pending."""
        number, index = self._tx_index[tx_hash]
        return self._blocks[number].receipts[index]

    def find_transaction(self, tx_hash: bytes) -> tuple[SignedTransactionAPI, int | None, int]:
        """Return (tx, block number or None if pending, index); ``KeyError`` if unknown."""
        if tx_hash in self._tx_index:
            number, index = self._tx_index[tx_hash]
            return self._blocks[number].transactions[index], number, index
        if self._pending is not None:
            for index, receipt in enumerate(self._pending.receipts):
                if receipt.tx_hash == tx_hash:
                    return self._pending.transactions[index], None, index
        raise KeyError(tx_hash)

    def get_logs(
        self,
        *,
        from_block: int = 0,
        to_block: int | None = None,
        address: str | Sequence[str] | None = None,
        topics: Sequence[bytes | Sequence[bytes] | None] | None = None,
    ) -> list[Log]:
        """Logs of sealed blocks in ``[from_block, to_block]`` matching address and topics."""
        last = self.block_number if to_block is None else min(to_block, self.block_number)
        addresses = None
        if address is not None:
            seq = [address] if isinstance(address, str) else list(address)
            addresses = {to_checksum_address(a) for a in seq}
        out = []
        for record in self._blocks[max(0, from_block) : last + 1]:
            for receipt in record.receipts:
                for log in receipt.logs:
                    if addresses is not None and log.address not in addresses:
                        continue
                    if topics and not _topics_match(log.topics, topics):
                        continue
                    out.append(log)
        return out

    # ------------------------------------------------------------------------------------
    # time
    # ------------------------------------------------------------------------------------
    def set_next_block_timestamp(self, timestamp: int) -> None:
        """Fix the next block's timestamp (must be after the latest block's)."""
        if timestamp <= self.timestamp:
            raise ValueError(
                f"timestamp {timestamp} is not after the latest block's ({self.timestamp})"
            )
        if self._pending is not None and self._pending.transactions:
            raise ChainError("the pending block already holds transactions; mine it first")
        self._next_timestamp = int(timestamp)
        if self._pending is not None:
            self._replay(self._pending_ops)

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

    # ------------------------------------------------------------------------------------
    # snapshots
    # ------------------------------------------------------------------------------------
    def snapshot(self) -> int:
        """Record the chain's state (blocks, pending block, dev settings); return an id."""
        self._snapshot_ids += 1
        pending_ts = self._pending.header.timestamp if self._pending is not None else None
        self._snapshots[self._snapshot_ids] = _Snapshot(
            head=self.block_number,
            pending_ops=tuple(self._pending_ops),
            pending_timestamp=pending_ts if self._pending_ops else None,
            next_timestamp=self._next_timestamp,
            impersonated=frozenset(self._impersonated),
        )
        return self._snapshot_ids

    def revert(self, snapshot_id: int) -> None:
        """Return to a snapshot. Later snapshots are dropped; the id itself stays usable."""
        try:
            snap = self._snapshots[snapshot_id]
        except KeyError:
            raise SnapshotNotFound(
                f"no snapshot {snapshot_id} on chain {self.name} (reverted past, or never taken)"
            ) from None
        for sid in [s for s in self._snapshots if s > snapshot_id]:
            del self._snapshots[sid]
        for record in self._blocks[snap.head + 1 :]:
            for tx_hash in record.tx_hashes:
                self._tx_index.pop(tx_hash, None)
        del self._blocks[snap.head + 1 :]
        self._impersonated = set(snap.impersonated)
        self._next_timestamp = snap.next_timestamp
        self._replay(snap.pending_ops, snap.pending_timestamp)
        self.last_receipt = None

    @contextlib.contextmanager
    def anchor(self) -> Iterator[Chain]:
        """Snapshot on entry, revert on exit (even on error)."""
        sid = self.snapshot()
        try:
            yield self
        finally:
            self.revert(sid)


class _CallTransaction:
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
    def access_list(self) -> tuple[()]:
        return ()

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
def _signer(secret: bytes) -> coincurve.PrivateKey:
    return coincurve.PrivateKey(secret)


def _sign(unsigned: Any, key: PrivateKey) -> SignedTransactionAPI:
    """``unsigned.as_signed_transaction(key)``, the same bytes, with less around it.

    py-evm signs through eth-keys, which builds a libsecp256k1 key (deriving its public
    key) for every signature and hashes with the pure-Python-wrapped Keccak; here the
    libsecp256k1 key is kept and the hash is the C one. Both sign the same Keccak of the
    same EIP-2718 payload with libsecp256k1's deterministic RFC 6979 nonce, so the
    signature — and the transaction hash — is identical (``tests/chains/test_chain.py``).
    """
    digest = _keccak(unsigned.get_message_for_signing())
    signature = _signer(key.to_bytes()).sign_recoverable(digest, hasher=None)
    return _BUILDER.new_dynamic_fee_transaction(
        unsigned.chain_id,
        unsigned.nonce,
        unsigned.max_priority_fee_per_gas,
        unsigned.max_fee_per_gas,
        unsigned.gas,
        unsigned.to,
        unsigned.value,
        unsigned.data,
        unsigned.access_list,
        signature[64],
        int.from_bytes(signature[:32]),
        int.from_bytes(signature[32:64]),
    )


@functools.lru_cache(maxsize=4096)
def _checksum(address: bytes) -> str:
    """EIP-55 form of a 20-byte address, memoised: receipts name the same few addresses
    (sender, contract, log emitters) over and over, and each spelling costs a Keccak."""
    return str(to_checksum_address(address))


def _block_size(header: Any, transactions: Sequence[SignedTransactionAPI]) -> int:
    """RLP size of a block: header, transaction list, empty uncle and withdrawal lists."""
    body = sum(
        len(rlp.encode(tx.encode())) if getattr(tx, "type_id", None) else len(rlp.encode(tx))
        for tx in transactions
    )
    return len(rlp.encode(header)) + body + 8


def _classify(exc: ValidationError) -> ChainError:
    text = str(exc)
    lowered = text.lower()
    if "nonce" in lowered:
        numbers = [int(n) for n in re.findall(r"\d+", text)]
        if len(numbers) >= 2 and numbers[-1] < numbers[-2]:
            return NonceTooLow(f"nonce too low: {text}")
        return InvalidTransaction(f"nonce too high: {text}")
    if "balance" in lowered or "afford" in lowered:
        return InsufficientFunds(f"insufficient funds for gas * price + value: {text}")
    return InvalidTransaction(text)


def _error_name(error: Any) -> str | None:
    """``None`` for a plain REVERT, else the EVM error (OutOfGas, InvalidJumpDestination...)."""
    if isinstance(error, Revert):
        return None
    return type(error).__name__


def _topics_match(
    actual: tuple[bytes, ...], wanted: Sequence[bytes | Sequence[bytes] | None]
) -> bool:
    if len(wanted) > len(actual):
        return False
    for have, want in zip(actual, wanted, strict=False):
        if want is None:
            continue
        if isinstance(want, bytes):
            if have != want:
                return False
        elif have not in want:
            return False
    return True
