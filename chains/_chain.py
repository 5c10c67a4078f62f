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
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import rlp
from eth.abc import SignedTransactionAPI
from eth.constants import SECPK1_N
from eth.exceptions import UnrecognizedTransactionType
from eth.vm.chain_context import ChainContext
from eth_keys.datatypes import PrivateKey
from eth_keys.exceptions import BadSignature
from eth_typing import Address
from eth_utils import ValidationError, to_canonical_address, to_checksum_address

from chains._accounts import dev_accounts
from chains._blocks import _block_size, _Pending, _Snapshot
from chains._clock import Clock
from chains._compiler import CompiledContract, Compiler
from chains._config import ChainConfig, MiningMode
from chains._contract import AbiRegistry, Contract
from chains._dev import DevControls
from chains._errors import (
    ChainError,
    InvalidTransaction,
    SnapshotNotFound,
    TransactionReverted,
)
from chains._evm import (
    DEFAULT_PRIORITY_FEE,
    TX_BUILDER,
    TX_GAS_CAP,
    VM_CLASSES,
)
from chains._pool import TxPool, TxQueue, check_replacement
from chains._reorg import Reorganizer
from chains._tracing import TraceRunner
from chains._transports import build_transport
from chains._types import BlockRecord, ChainState, Log, Receipt, Reorg

__all__ = ["Chain", "ChainConfig", "MiningMode"]

logger = logging.getLogger(__name__)

#: Below this much gas left in the pending block, an auto-gas transaction opens a new one.
_MIN_AUTO_GAS = 1_000_000


class Chain(TraceRunner, DevControls, Reorganizer):
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
        self._vm_class = VM_CLASSES[config.interpreter]
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
        #: While true (a devnet bundle in progress) transactions stay in the pending block
        #: whatever the mining mode; the bundle seals it.
        self._is_holding = False
        self._snapshots: dict[int, _Snapshot] = {}
        self._snapshot_ids = 0
        self.last_receipt: Receipt | None = None
        self._listeners: list[Callable[[BlockRecord], None]] = []
        self._tx_listeners: list[Callable[[SignedTransactionAPI], None]] = []
        self._queue = TxQueue()
        self.txpool = TxPool(self)
        self._reorg_listeners: list[Callable[[Reorg], None]] = []
        self._orphans: list[tuple[int, tuple[BlockRecord, ...]]] = []
        #: reorgs made before the journal began (a restored state's count)
        self._reorg_base = 0
        self.abi_registry = AbiRegistry()
        self._w3: Any = None
        self._rpc: Any = None
        self._live_state: Any = None
        self._read_memo: dict[tuple[Any, ...], Any] = {}
        self._ancestors_memo: tuple[Any, tuple[Any, ...]] = (None, ())
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

    # ------------------------------------------------------------------------------------
    # transactions
    # ------------------------------------------------------------------------------------
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
        :class:`TransactionReverted` carrying the mined receipt. A nonce ahead of the
        sender's is refused ("nonce too high"): :meth:`submit_transaction` queues it.
        """
        tx, auto_gas = self._prepare(
            sender, to, data, value, gas, max_fee_per_gas, max_priority_fee_per_gas, nonce
        )
        receipt = self._include(tx, retry_in_new_block=auto_gas)
        return self._finish(receipt)

    def submit_transaction(self, **fields: Any) -> bytes:
        """Sign (or impersonate) a transaction and hand it to the pool; return its hash.

        Takes :meth:`sign_transaction`'s fields. Unlike :meth:`transact`, a future nonce
        waits in the queue, a nonce already waiting is a replacement (10 % fee bump), and
        a revert is not raised (the receipt says status 0).
        """
        return self.submit(self.sign_transaction(**fields))

    def sign_transaction(
        self,
        *,
        sender: str | bytes | None = None,
        to: str | bytes | None = None,
        data: bytes = b"",
        value: int = 0,
        gas: int | None = None,
        max_fee_per_gas: int | None = None,
        max_priority_fee_per_gas: int | None = None,
        gas_price: int | None = None,
        nonce: int | None = None,
        access_list: Sequence[tuple[bytes, Sequence[int]]] = (),
        authorization_list: Sequence[Any] = (),
        tx_type: int | None = None,
    ) -> SignedTransactionAPI:
        """Build and sign (or impersonate) a transaction without sending it.

        The type: ``tx_type`` if given; else 4 with an ``authorization_list`` (EIP-7702),
        0 (legacy) with only ``gas_price``, 1 with ``gas_price`` and an ``access_list``,
        else 2. Missing fees: the next base fee × 2 + 1 gwei tip (type 2), the next base
        fee + 1 gwei (types 0 and 1). Missing nonce: the sender's, counting the pending
        block. Missing gas: the per-transaction cap (2**24) or the block gas limit.
        """
        from_ = self._canonical(sender if sender is not None else self.default_sender)
        if tx_type is None:
            if authorization_list:
                tx_type = 4
            elif gas_price is not None:
                tx_type = 1 if access_list else 0
            else:
                tx_type = 2
        if tx_type not in (0, 1, 2, 4):
            raise InvalidTransaction(f"transaction type {tx_type} cannot be signed here")
        if tx_type < 2 and (max_fee_per_gas is not None or max_priority_fee_per_gas is not None):
            raise InvalidTransaction(
                f"a type {tx_type} transaction takes gas_price, not EIP-1559 fees"
            )
        if tx_type == 0 and access_list:
            raise InvalidTransaction("a legacy (type 0) transaction has no access list")
        if tx_type == 4 and (not authorization_list or to is None):
            raise InvalidTransaction(
                "a set-code (type 4) transaction needs a recipient and authorizations"
            )
        if nonce is None:
            nonce = self._pool_nonce(from_)
        to_bytes = Address(b"") if to is None else self._canonical(to)
        if gas is None:
            gas = min(TX_GAS_CAP, self.config.gas_limit)
        base_fee = self.base_fee
        if tx_type < 2:
            price = base_fee + DEFAULT_PRIORITY_FEE if gas_price is None else gas_price
            if tx_type == 0:
                return self._build_legacy(from_, nonce, price, gas, to_bytes, value, data)
            unsigned = TX_BUILDER.new_unsigned_access_list_transaction(
                self.chain_id,
                nonce,
                price,
                gas,
                to_bytes,
                value,
                data,
                list(access_list),  # type: ignore[arg-type]
            )
            return self._build_typed(from_, unsigned)
        if gas_price is not None:
            max_fee_per_gas = max_priority_fee_per_gas = gas_price
        tip = DEFAULT_PRIORITY_FEE if max_priority_fee_per_gas is None else max_priority_fee_per_gas
        max_fee = base_fee * 2 + tip if max_fee_per_gas is None else max_fee_per_gas
        if tx_type == 2:
            if not access_list:
                return self._build(from_, nonce, tip, max_fee, gas, to_bytes, value, data)
            unsigned = TX_BUILDER.new_unsigned_dynamic_fee_transaction(
                self.chain_id,
                nonce,
                tip,
                max_fee,
                gas,
                to_bytes,
                value,
                data,
                list(access_list),  # type: ignore[arg-type]
            )
            return self._build_typed(from_, unsigned)
        unsigned = TX_BUILDER.new_unsigned_set_code_transaction(
            self.chain_id,
            nonce,
            tip,
            max_fee,
            gas,
            to_bytes,
            value,
            data,
            list(access_list),  # type: ignore[arg-type]
            list(authorization_list),
        )
        return self._build_typed(from_, unsigned)

    def _pool_nonce(self, sender: bytes) -> int:
        """The sender's next nonce counting the pending block (not the queue), as geth."""
        return int(self._open().vm.state.get_nonce(Address(sender)))

    def _prepare(
        self,
        sender: str | bytes | None,
        to: str | bytes | None,
        data: bytes,
        value: int,
        gas: int | None,
        max_fee_per_gas: int | None,
        max_priority_fee_per_gas: int | None,
        nonce: int | None,
    ) -> tuple[SignedTransactionAPI, bool]:
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
        return self._build(from_, nonce, tip, max_fee, gas, to_bytes, value, data), auto_gas

    def send_raw_transaction(self, raw: bytes) -> Receipt:
        """Decode, verify the signature of, and include a raw signed transaction."""
        return self._finish(
            self._include(self.decode_raw_transaction(raw), retry_in_new_block=False)
        )

    def submit_raw_transaction(self, raw: bytes) -> bytes:
        """Decode and verify a raw signed transaction and hand it to the pool (:meth:`submit`)."""
        return self.submit(self.decode_raw_transaction(raw))

    def submit(self, tx: SignedTransactionAPI) -> bytes:
        """The pool's entrance: include, queue or replace a signed transaction; its hash.

        Its sender's next nonce: included in the pending block (sealed at once under
        automine, with any queued transactions it unblocks). A later nonce: queued.
        A nonce already waiting (queued, or in the pending block): a replacement, which
        must raise both fees by 10 % ("replacement transaction underpriced"). An earlier
        nonce: "nonce too low". A revert is not an error here; the receipt has status 0.
        """
        sender = bytes(tx.sender)
        next_nonce = self._pool_nonce(sender)
        queued = self._queue.get(sender, tx.nonce)
        if queued is not None and tx.nonce == next_nonce:
            # a stale queue entry (the nonce was set since): replace it and include now
            check_replacement(queued, tx)
            self._queue.take(sender, tx.nonce)
            queued = None
        if tx.nonce > next_nonce or queued is not None:
            self._queue.put(tx)
            for listener in tuple(self._tx_listeners):
                listener(tx)
            return bytes(tx.hash)
        if tx.nonce < next_nonce and self._replace_waiting(tx):
            for listener in tuple(self._tx_listeners):
                listener(tx)
            return bytes(tx.hash)
        return self._include(tx, retry_in_new_block=False).tx_hash

    def drop_transaction(self, tx_hash: bytes) -> bool:
        """Take a waiting transaction out of the pool (anvil_dropTransaction).

        From the queue it just goes; from the pending block, the block is rebuilt
        without it and its sender's later transactions return to the queue.
        """
        if self._queue.drop(tx_hash) is not None:
            return True
        ops = [op for op in self._pending_ops if not (op[0] == "tx" and op[1].hash == tx_hash)]
        if len(ops) == len(self._pending_ops):
            return False
        assert self._pending is not None
        self._replay_checked(ops, self._pending.header.timestamp)
        return True

    def drop_all_transactions(self) -> int:
        """Empty the pool: the queue, and every transaction of the pending block."""
        count = len(self._queue) + len(self._pending_transactions())
        self._queue.clear()
        ops = [op for op in self._pending_ops if op[0] != "tx"]
        if len(ops) != len(self._pending_ops):
            assert self._pending is not None
            self._replay_checked(ops, self._pending.header.timestamp)
        return count

    def _pending_transactions(self) -> tuple[SignedTransactionAPI, ...]:
        return tuple(op[1] for op in self._pending_ops if op[0] == "tx")

    def on_pending_transaction(
        self, listener: Callable[[SignedTransactionAPI], None]
    ) -> Callable[[], None]:
        """Call ``listener(tx)`` when a transaction enters the pool (pending or queued).

        Returns a function that unsubscribes it again.
        """
        self._tx_listeners.append(listener)

        def off() -> None:
            with contextlib.suppress(ValueError):
                self._tx_listeners.remove(listener)

        return off

    def decode_raw_transaction(self, raw: bytes) -> SignedTransactionAPI:
        """Decode a raw signed transaction, check its chain id and recover its sender."""
        try:
            tx = TX_BUILDER.deserialize(raw) if raw[:1] < b"\x80" else TX_BUILDER.decode(raw)
        except UnrecognizedTransactionType as exc:
            raise InvalidTransaction(
                f"transaction type not supported: 0x{raw[0]:02x} (this devnet takes legacy, "
                "EIP-2930 (0x01), EIP-1559 (0x02) and EIP-7702 (0x04) transactions)"
            ) from exc
        except (rlp.DecodingError, rlp.DeserializationError, ValidationError, ValueError) as exc:
            raise InvalidTransaction(f"could not decode the raw transaction: {exc}") from exc
        if getattr(tx, "type_id", None) == 3:
            raise InvalidTransaction(
                "transaction type not supported: blob transactions (0x03) need a blob pool, "
                "which this devnet does not have"
            )
        if raw[:1] >= b"\xc0" and getattr(tx, "v", 0) in (27, 28):
            pass  # pre-EIP-155 legacy transaction: accepted, as anvil does
        elif tx.chain_id != self.chain_id:
            raise InvalidTransaction(
                f"transaction is for chain id {tx.chain_id}, this chain is {self.chain_id}"
            )
        if not 0 < tx.s <= SECPK1_N // 2:
            raise InvalidTransaction(
                "invalid transaction signature: s must be in (0, secp256k1n/2] (EIP-2)"
            )
        try:
            tx.check_signature_validity()
            tx.sender  # noqa: B018 - recovers and caches the sender
        except (ValidationError, BadSignature, ValueError) as exc:
            raise InvalidTransaction(f"invalid transaction signature: {exc}") from exc
        return tx

    def _finish(self, receipt: Receipt) -> Receipt:
        if not receipt.status:
            exc = TransactionReverted.from_revert_data(receipt.output, receipt, error=receipt.error)
            exc.explain = functools.partial(self._explain_transaction, receipt.tx_hash)
            raise exc
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
    ) -> Contract[Chain]:
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
    ) -> Contract[Chain]:
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
    ) -> Contract[Chain]:
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
    ) -> Contract[Chain]:
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
    ) -> Contract[Chain]:
        """A handle on an existing contract, from its Vyper source file or an ABI."""
        if (source is None) == (abi is None):
            raise TypeError("give exactly one of a Vyper source path or abi=")
        if source is not None:
            compiled = self.compile(source)
            return Contract(self, address, compiled.abi_list, name or compiled.name)
        return Contract(self, address, list(abi or []), name or "Contract")

    # ------------------------------------------------------------------------------------
    # accounts and state
    # ------------------------------------------------------------------------------------
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
        return self.is_auto_impersonating or self._canonical(address) in self._impersonated

    def has_key(self, address: str | bytes) -> bool:
        """Whether the chain can sign for ``address``."""
        return self._canonical(address) in self._keys

    def sign_hash(self, address: str | bytes, digest: bytes) -> bytes:
        """Sign a 32-byte digest with a dev (or added) key: ``r . s . v`` (v 27 or 28).

        What eth_sign, personal_sign and eth_signTypedData_v4 sign, after hashing the
        message their way. An impersonated account has no key and cannot sign.
        """
        if len(digest) != 32:
            raise ValueError(f"a digest is 32 bytes, got {len(digest)}")
        key = self._keys.get(self._canonical(address))
        if key is None:
            raise ChainError(
                f"no key for {to_checksum_address(self._canonical(address))} on chain "
                f"{self.name}: only dev accounts and add_account() keys can sign messages"
            )
        signature = key.sign_msg_hash(digest)
        return signature.to_bytes()[:64] + bytes([signature.v + 27])

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
        state = self._state_at(block)
        return int(state.get_balance(self._canonical(address)))

    def get_nonce(self, address: str | bytes, block: int | str = "pending") -> int:
        state = self._state_at(block)
        return int(state.get_nonce(self._canonical(address)))

    def get_code(self, address: str | bytes, block: int | str = "pending") -> bytes:
        state = self._state_at(block)
        return bytes(state.get_code(self._canonical(address)))

    def get_storage_at(self, address: str | bytes, slot: int, block: int | str = "pending") -> int:
        state = self._state_at(block)
        return int(state.get_storage(self._canonical(address), slot))

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
    def pending_block(self) -> BlockRecord:
        """The block being built, as a record: number latest+1, gas used so far, its
        transactions and receipts; ``hash`` is empty (it has none until sealed) and the
        header's roots are the parent's until then."""
        pending = self._open()
        header = pending.header.copy(gas_used=pending.gas_used, bloom=pending.bloom)
        return BlockRecord(
            number=header.block_number,
            hash=b"",
            header=header,
            transactions=tuple(pending.transactions),
            receipts=tuple(pending.receipts),
            size=_block_size(header, pending.transactions),
        )

    @property
    def base_fee(self) -> int:
        """Base fee of the next block."""
        return int(self._open().header.base_fee_per_gas)

    @property
    def blocks(self) -> Sequence[BlockRecord]:
        """Sealed blocks, index = block number."""
        return tuple(self._blocks)

    def find_transaction(self, tx_hash: bytes) -> tuple[SignedTransactionAPI, int | None, int]:
        """Return (tx, block number or None if waiting, index); ``KeyError`` if unknown.

        A queued transaction (nonce ahead) has index -1."""
        if tx_hash in self._tx_index:
            number, index = self._tx_index[tx_hash]
            return self._blocks[number].transactions[index], number, index
        if self._pending is not None:
            for index, receipt in enumerate(self._pending.receipts):
                if receipt.tx_hash == tx_hash:
                    return self._pending.transactions[index], None, index
        queued = self._queue.find(tx_hash)
        if queued is not None:
            return queued, None, -1
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

    @property
    def has_next_timestamp(self) -> bool:
        """Whether the next block's timestamp was fixed (set_next_block_timestamp)."""
        return self._next_timestamp is not None

    # ------------------------------------------------------------------------------------
    # snapshots
    # ------------------------------------------------------------------------------------
    def snapshot(self) -> int:
        """Record the chain's state (blocks, pending block, dev settings); return an id."""
        self._snapshot_ids += 1
        self._snapshots[self._snapshot_ids] = self._capture()
        return self._snapshot_ids

    def revert(self, snapshot_id: int, *, keep: bool = True) -> None:
        """Return to a snapshot. Later snapshots are dropped; the id itself stays usable
        unless ``keep=False`` (``evm_revert`` consumes it, as anvil does).

        Blocks replaced by a reorg since the snapshot come back (the reorg journal is
        unwound first), so a snapshot taken before a reorg reverts to the old history.
        """
        try:
            snap = self._snapshots[snapshot_id]
        except KeyError:
            raise SnapshotNotFound(
                f"no snapshot {snapshot_id} on chain {self.name} (reverted past, or never taken)"
            ) from None
        for sid in [s for s in self._snapshots if s > snapshot_id or not keep and s == snapshot_id]:
            del self._snapshots[sid]
        self._restore(snap)

    def _capture(self) -> _Snapshot:
        pending_ts = self._pending.header.timestamp if self._pending is not None else None
        return _Snapshot(
            head=self.block_number,
            pending_ops=tuple(self._pending_ops),
            pending_timestamp=pending_ts if self._pending_ops else None,
            next_timestamp=self._next_timestamp,
            impersonated=frozenset(self._impersonated),
            queue=self._queue.copy(),
            dev=self._dev_settings(),
            reorgs=len(self._orphans),
        )

    def _restore(self, snap: _Snapshot) -> None:
        self._cancel_seal()
        self._unwind_orphans(snap.reorgs)
        self._truncate(snap.head)
        self._impersonated = set(snap.impersonated)
        self._next_timestamp = snap.next_timestamp
        self._queue = snap.queue.copy()
        if snap.dev is not None:
            self._restore_dev_settings(snap.dev)
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

    # ------------------------------------------------------------------------------------
    # state export and restore (the state file, chains/_state.py)
    # ------------------------------------------------------------------------------------
    def export_state(self) -> ChainState:
        """Everything a state file keeps of this chain (see :class:`ChainState`)."""
        pending = self._pending
        return ChainState(
            db=dict(self._memory_db()),
            blocks=tuple(self._blocks),
            pending_ops=tuple(self._pending_ops),
            pending_timestamp=(
                pending.header.timestamp if pending is not None and self._pending_ops else None
            ),
            next_timestamp=self._next_timestamp,
            impersonated=frozenset(self._impersonated),
            queued=tuple(self._queue),
            reorg_count=self._reorg_base + len(self._orphans),
        )

    def restore_state(self, state: ChainState) -> None:
        """Replace this chain's state with an exported one (same config expected).

        Snapshots are dropped and ``last_receipt`` is cleared; the pending block is
        rebuilt by replaying its operations.
        """
        for i, record in enumerate(state.blocks):
            if record.number != i:
                raise ChainError(f"chain {self.name}: block {i} is numbered {record.number}")
        kv = self._memory_db()
        kv.clear()
        kv.update(state.db)
        self._cancel_seal()
        self._blocks = list(state.blocks)
        self._tx_index = {
            r.tx_hash: (record.number, index)
            for record in self._blocks
            for index, r in enumerate(record.receipts)
        }
        self._snapshots = {}
        self._orphans = []
        self._reorg_base = state.reorg_count
        self.last_receipt = None
        self._impersonated = set(state.impersonated)
        self._next_timestamp = state.next_timestamp
        self._queue = TxQueue()
        for tx in state.queued:
            self._queue.put(tx)
        self._replay(list(state.pending_ops), state.pending_timestamp)


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
