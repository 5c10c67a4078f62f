"""Read-only execution: ``call``, ``simulate`` and ``estimate_gas`` against any block's state.

:class:`CallRunner` is the part of :class:`~chains.Chain` that runs a message and rolls
it back (geth's ``eth_call``: no nonce check, no fee, intrinsic gas counted), on the
pending block's live state or on a sealed block's state rebuilt from its root.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth._utils.address import generate_contract_address
from eth.constants import CREATE_CONTRACT_ADDRESS, EMPTY_SHA3, ZERO_ADDRESS
from eth.vm.message import Message
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

__all__ = [
    "AccountOverride",
    "AccountProof",
    "CallRunner",
    "SimBlock",
    "SimBlockResult",
    "SimCall",
    "StateOverride",
    "apply_overrides",
]

#: Reads kept by :meth:`CallRunner.simulate`'s memo before it is emptied.
_READ_MEMO_LIMIT = 4096

#: Prague's precompiles are 0x01-0x11: warm from the start, never in an access list.
_LAST_PRECOMPILE = 0x11


@dataclass(frozen=True)
class AccountProof:
    """EIP-1186: an account and some of its storage, with Merkle proofs to a state root.

    ``account_proof`` and each storage proof are the RLP-encoded trie nodes from the root
    down; ``storage`` holds ``(slot, value, proof)``.
    """

    address: bytes
    balance: int
    nonce: int
    code_hash: bytes
    storage_root: bytes
    account_proof: tuple[bytes, ...]
    storage: tuple[tuple[int, int, tuple[bytes, ...]], ...]


@dataclass(frozen=True)
class SimCall:
    """One call of :meth:`CallRunner.simulate_blocks` (an unsigned transaction)."""

    to: bytes | None
    sender: bytes | None = None
    data: bytes = b""
    value: int = 0
    gas: int | None = None
    nonce: int | None = None
    max_fee_per_gas: int | None = None


@dataclass(frozen=True)
class SimBlock:
    """One block of :meth:`CallRunner.simulate_blocks`: header fields to change, state
    overrides applied before its calls, and the calls in order."""

    calls: tuple[SimCall, ...] = ()
    state_override: StateOverride | None = None
    header: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SimBlockResult:
    """A simulated block: its header (never sealed, no hash) and each call's outcome."""

    header: Any
    results: tuple[CallResult, ...]


class _AccessRecorder:
    """Stands in for py-evm's journal of warm addresses and slots, noting each new one."""

    def __init__(self, journal: Any) -> None:
        self._journal = journal
        self.keys: list[bytes] = []

    def __contains__(self, key: bytes) -> bool:
        return key in self._journal

    def __getitem__(self, key: bytes) -> Any:
        return self._journal[key]

    def __setitem__(self, key: bytes, value: Any) -> None:
        if key not in self._journal:
            self.keys.append(bytes(key))
        self._journal[key] = value

    def __delitem__(self, key: bytes) -> None:
        del self._journal[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._journal, name)


@dataclass(frozen=True)
class AccountOverride:
    """What a call sees instead of an account's real state (geth's override object).

    ``storage`` replaces the whole storage; ``storage_diff`` changes only those slots;
    giving both is an error (as in geth).
    """

    balance: int | None = None
    nonce: int | None = None
    code: bytes | None = None
    storage: Mapping[int, int] | None = None
    storage_diff: Mapping[int, int] | None = None

    def __post_init__(self) -> None:
        if self.storage is not None and self.storage_diff is not None:
            raise ValueError("an account override takes storage or storage_diff, not both")


StateOverride = Mapping[bytes, AccountOverride]


def apply_overrides(state: Any, overrides: StateOverride) -> None:
    """Write ``overrides`` into ``state`` (inside a snapshot the caller reverts)."""
    for address, account in overrides.items():
        addr = Address(address)
        if account.balance is not None:
            state.set_balance(addr, account.balance)
        if account.nonce is not None:
            state.set_nonce(addr, account.nonce)
        if account.code is not None:
            state.set_code(addr, account.code)
        if account.storage is not None:
            state.delete_storage(addr)
            for slot, value in account.storage.items():
                state.set_storage(addr, slot, value)
        for slot, value in (account.storage_diff or {}).items():
            state.set_storage(addr, slot, value)


class ReadTransaction:
    """What py-evm's executor reads of a call's transaction (``simulate``): the unsigned
    legacy transaction with no fee that ``CallTransaction`` wraps, as plain attributes.

    Its intrinsic gas is that transaction class's own function (21,000, 4 or 16 per
    data byte, 32,000 to create), applied to these fields.
    """

    __slots__ = ("data", "gas", "intrinsic_gas", "sender", "to", "value")
    type_id = 0
    gas_price = 0
    max_fee_per_gas = 0
    max_priority_fee_per_gas = 0
    access_list = ()
    blob_versioned_hashes = ()
    authorization_list = ()

    def __init__(self, sender: Address, to: Address, value: int, data: bytes, gas: int) -> None:
        self.sender = sender
        self.to = to
        self.value = value
        self.data = data
        self.gas = gas
        self.intrinsic_gas = _INTRINSIC_GAS(self)  # type: ignore[arg-type]  # reads data, to


#: the intrinsic gas of the unsigned legacy transaction ``create_unsigned_transaction``
#: builds (Istanbul's schedule from Prague on; it reads ``data`` and ``to``)
_INTRINSIC_GAS = TX_BUILDER.legacy_unsigned.get_intrinsic_gas


def build_read(
    state: Any, executor: Any, sender: Address, to: Address, value: int, data: bytes, gas: int
) -> tuple[ReadTransaction, Message]:
    """The transaction and message of a call (``eth_call``): ``DevExecutor.build_evm_message``
    for a ``CallTransaction`` of plain values, without the steps that change nothing.

    Left out: the fee, ``delta_balance(sender, -gas × price)``, whose price is 0 for a
    call (``min(tip + base fee, max fee)`` with both fees 0) and so writes the sender's
    account unchanged; the message refund, 0 unless the transaction is a set-code one
    (type 4); and the sender's nonce increment when no code can see it (below). Raises as
    ``simulate`` did when ``gas`` is below the intrinsic gas.

    The EVM reads no nonce. A nonce shows only in: a CREATE's address by its creator
    (the sender creates only at the top level, ``to`` empty, or by code of its own,
    including an EIP-7702 delegation: both keep the increment); whether the sender is
    empty (EIP-161: EXTCODEHASH's 0, a value transfer's new-account gas, which an
    increment from 0 changes; a sender whose nonce is already above 0 is never empty,
    with or without it); and a CREATE's collision check at the sender's address, which
    would need a Keccak preimage of it. A sender with a nonce above 0 and no code, called
    with a recipient, therefore gets no increment: its account is not rewritten (and then
    rolled back) for each read.
    """
    tx = ReadTransaction(sender, to, value, data, gas)
    if gas < tx.intrinsic_gas:
        raise InvalidTransaction(f"gas {gas} is below the intrinsic gas {tx.intrinsic_gas}")
    if state.logger.show_debug2:  # py-evm's own message set-up, with its debug lines
        return tx, executor.build_evm_message(tx)
    if (
        to == CREATE_CONTRACT_ADDRESS
        or state.get_nonce(sender) == 0
        or state.get_code_hash(sender) != EMPTY_SHA3
    ):
        state.increment_nonce(sender)
    if to == CREATE_CONTRACT_ADDRESS:
        create_address = generate_contract_address(sender, state.get_nonce(sender) - 1)
        message = Message(
            gas=gas - tx.intrinsic_gas,
            to=to,
            sender=sender,
            value=value,
            data=b"",
            code=data,
            create_address=create_address,
            refund=0,
            is_delegation=False,
        )
    else:
        code, delegation_address = executor.get_code_at_address(to)
        message = Message(
            gas=gas - tx.intrinsic_gas,
            to=to,
            sender=sender,
            value=value,
            data=data,
            code=code,
            create_address=None,  # type: ignore[arg-type]
            refund=0,
            is_delegation=delegation_address is not None,
        )
    return tx, message


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
        state_override: StateOverride | None = None,
    ) -> bytes:
        """Execute without committing (``eth_call``); return the output or raise on revert.

        ``state_override`` changes accounts for this call only (see :meth:`simulate`)."""
        result = self.simulate(
            to=to,
            data=data,
            sender=sender,
            value=value,
            gas=gas,
            block=block,
            state_override=state_override,
        )
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
        computation_class: type | None = None,
        state_override: StateOverride | None = None,
        access_list: Sequence[tuple[bytes, Sequence[int]]] = (),
        recorder: list[_AccessRecorder] | None = None,
    ) -> CallResult:
        """Run a message against a block's state and roll it back; report the outcome.

        Like ``eth_call`` in geth: no nonce check, no fee charged, intrinsic gas counted.
        ``computation_class`` replaces the state's for this one run (tracing).
        ``state_override`` maps an address to :class:`AccountOverride` values (geth's
        ``balance``, ``nonce``, ``code``, ``state`` — the whole storage — or
        ``stateDiff``), applied before the message and rolled back with it.
        """
        from_ = self._canonical(sender) if sender is not None else ZERO_ADDRESS
        to_bytes = Address(b"") if to is None else self._canonical(to)
        gas = self.config.gas_limit if gas is None else gas
        # a call of plain values: its message is built directly (``build_read``)
        is_plain = (
            data.__class__ is bytes
            and value.__class__ is int
            and gas.__class__ is int
            and not access_list
        )
        is_memoisable = (
            is_plain and computation_class is None and not state_override and recorder is None
        )
        memo_key = None
        if is_memoisable:
            # Before the state: a known read needs no state opened (nor a pending block
            # re-timed, nor a sealed block's state rebuilt).
            state_key = self._read_state_key(block, is_opened=False)
            if state_key is not None:
                memo_key = (state_key, from_, to_bytes, data, value, gas)
                known = self._read_memo.get(memo_key)
                if known is not None:
                    return known
        if memo_key is not None:
            # the key was known before opening: the pending block is open and current
            # (``_open`` would return it as it is), or the block is a sealed one
            state = self._state_at(block, is_current=True)
        else:
            state = self._state_at(block)
            if is_memoisable:
                # the pending block was opened (or re-timed) just now: its key is known
                state_key = self._read_state_key(block)
                if state_key is not None:
                    memo_key = (state_key, from_, to_bytes, data, value, gas)
                    known = self._read_memo.get(memo_key)
                    if known is not None:
                        return known
        tx: Any = None
        if not is_plain:
            nonce = state.get_nonce(from_)
            unsigned: Any
            if access_list:
                unsigned = TX_BUILDER.new_unsigned_access_list_transaction(
                    self.chain_id,
                    nonce,
                    0,
                    gas,
                    to_bytes,
                    value,
                    data,
                    list(access_list),  # type: ignore[arg-type]
                )
            else:
                unsigned = TX_BUILDER.create_unsigned_transaction(
                    nonce=nonce, gas_price=0, gas=gas, to=to_bytes, value=value, data=data
                )
            tx = CallTransaction(unsigned, from_)
        state.lock_changes()  # a new transaction: nothing is warm from the last one
        snapshot = state.snapshot()
        if computation_class is not None:
            state.computation_class = computation_class
        try:
            if state_override:
                apply_overrides(state, state_override)
            if state.get_balance(from_) < value:
                raise InsufficientFunds(
                    f"sender {to_checksum_address(from_)} has less than the call's value"
                )
            executor = state.get_transaction_executor()
            if is_plain:
                tx, message = build_read(state, executor, from_, to_bytes, value, data, gas)
            else:
                if gas < tx.intrinsic_gas:
                    raise InvalidTransaction(
                        f"gas {gas} is below the intrinsic gas {tx.intrinsic_gas}"
                    )
                message = executor.build_evm_message(tx)
            account_db = state._account_db
            journal = account_db._journal_accessed_state
            if recorder is not None:
                recorder.append(_AccessRecorder(journal))
                account_db._journal_accessed_state = recorder[-1]
            try:
                computation = executor.build_computation(message, tx)
            finally:
                account_db._journal_accessed_state = journal
            used = computation.get_gas_used() + tx.intrinsic_gas
            refund = computation.get_gas_refund()
            is_error = computation.is_error
            output = bytes(computation.output)
            logs = tuple(computation.get_log_entries())
            error = error_name(computation.error) if is_error else None
        finally:
            state.revert(snapshot)
            if computation_class is not None:
                del state.computation_class
        result = CallResult(output, used, refund, is_error, error, logs)
        if memo_key is not None:
            if len(self._read_memo) >= _READ_MEMO_LIMIT:
                self._read_memo.clear()
            self._read_memo[memo_key] = result
        return result

    def _read_state_key(
        self, block: int | str, *, is_opened: bool = True
    ) -> tuple[Any, ...] | None:
        """What fixes the state and block context a read at ``block`` runs against, or
        ``None`` when no such key is known (a pending block with transactions or dev
        writes in it).

        ``is_opened=False`` asks before the pending block is opened for the read: the key
        is then known only if an empty pending block is open and ``_open`` would keep it
        as it is (the clock has not moved past its timestamp); else ``None``.

        A sealed block's state and context are its hash's: the hash commits to the state
        root, the header and, through the parent hashes, every ancestor BLOCKHASH sees.
        A pending block without operations is the head's state plus what
        ``block_preprocessing`` writes from the pending header (EIP-4788's beacon root,
        EIP-2935's parent hash), run in that header's context: the head's hash and the
        header's fields fix it. The VM class (the interpreter) is part of the key too.
        """
        if block != "pending":
            return (self._vm_class, self.get_block(block).hash)
        pending = self._pending
        if pending is None or pending.transactions or self._pending_ops:
            return None
        if not is_opened and pending.header.timestamp != max(
            self._next_block_time(), self._blocks[-1].timestamp + 1
        ):
            return None  # ``_open`` re-times it (the same test as there)
        if pending.read_key is None:
            pending.read_key = (self._vm_class, self._blocks[-1].hash, tuple(pending.header))
        return pending.read_key

    def estimate_gas(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        block: int | str = "pending",
        state_override: StateOverride | None = None,
    ) -> int:
        """Gas limit that makes this transaction succeed: two EVM runs, not a bisection.

        Run once at the cap to learn the gas used and refunded; try the optimistic limit
        ``(used + refund + 2300) × 64/63`` (geth's first guess, covering the 63/64 call
        rule and stipends); only if that fails, bisect between used and the cap.
        """
        kw: dict[str, Any] = {"block": block, "state_override": state_override}
        first = self.simulate(to=to, data=data, sender=sender, value=value, **kw)
        if first.is_error:
            raise TransactionReverted.from_revert_data(first.output, error=first.error)
        cap = min(self.config.gas_limit, TX_GAS_CAP)
        guess = min(cap, (first.gas_used + first.gas_refund + 2300) * 64 // 63)
        if not self.simulate(
            to=to, data=data, sender=sender, value=value, gas=guess, **kw
        ).is_error:
            return guess
        low, high = first.gas_used, cap
        while high - low > max(1000, low // 100):
            mid = (low + high) // 2
            failed = self.simulate(
                to=to, data=data, sender=sender, value=value, gas=mid, **kw
            ).is_error
            low, high = (mid, high) if failed else (low, mid)
        return high

    def create_access_list(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        gas: int | None = None,
        block: int | str = "pending",
        state_override: StateOverride | None = None,
    ) -> tuple[tuple[tuple[bytes, tuple[int, ...]], ...], CallResult]:
        """The accounts and slots a call touches (``eth_createAccessList``) and the outcome
        of the call with that list attached (its gas counts the list, EIP-2930).

        Left out, as in geth: the sender, the recipient, the precompiles and the block's
        coinbase, which are warm anyway. Runs until the list stops changing (a list can
        change the gas left for a branch), at most three times.
        """
        from_ = self._canonical(sender) if sender is not None else ZERO_ADDRESS
        skip = {bytes(from_), bytes(self._canonical(to)) if to is not None else b""}
        skip.add(bytes(self.get_block("latest").header.coinbase))
        kw: dict[str, Any] = {"block": block, "state_override": state_override, "gas": gas}
        listed: tuple[tuple[bytes, tuple[int, ...]], ...] = ()
        for _ in range(3):
            recorder: list[_AccessRecorder] = []
            self.simulate(
                to=to,
                data=data,
                sender=sender,
                value=value,
                access_list=listed,
                recorder=recorder,
                **kw,
            )
            slots: dict[bytes, list[int]] = {}
            for key in recorder[0].keys if recorder else []:
                address, slot = key[:20], key[20:]
                if address in skip or int.from_bytes(address, "big") <= _LAST_PRECOMPILE:
                    continue
                keys = slots.setdefault(address, [])
                if len(key) > 20:
                    keys.append(int.from_bytes(slot, "big"))
            for address, _keys in listed:
                slots.setdefault(address, [])
            found = tuple((a, tuple(sorted(set(k)))) for a, k in slots.items())
            if found == listed:
                break
            listed = found
        result = self.simulate(
            to=to, data=data, sender=sender, value=value, access_list=listed, **kw
        )
        return listed, result

    def simulate_blocks(
        self,
        blocks: Sequence[SimBlock],
        *,
        block: int | str = "latest",
        validation: bool = False,
    ) -> list[SimBlockResult]:
        """Run calls in simulated blocks on top of ``block`` (eth_simulateV1).

        State carries from call to call and block to block (nonces advance, contracts
        deployed by one call are there for the next); nothing is kept afterwards. Each
        block follows the previous one: number + 1, timestamp + 1 s, base fee per
        EIP-1559 (or what ``header`` sets: ``number``, ``timestamp``, ``gas_limit``,
        ``coinbase``, ``base_fee_per_gas``, ``mix_hash``). Without ``validation`` no
        fee is charged and nonces are not checked (geth's default); with it, a call
        must carry its sender's nonce (if given) and afford ``value + gas × max fee``.
        ``pending`` starts from the latest sealed block.
        """
        from chains._evm import DevVM

        record = self.get_block("latest" if block == "pending" else block)
        parent = record.header
        ancestors = list(self._ancestors(record.number + 1))
        state = self._vm_class.build_state(
            self._chaindb.db, parent, self._chain_context, tuple(ancestors)
        )
        out = []
        for sim in blocks:
            header = DevVM.create_header_from_parent(
                parent,
                coinbase=parent.coinbase,
                timestamp=parent.timestamp + 1,
                gas_limit=parent.gas_limit,
                mix_hash=parent.mix_hash,
                extra_data=b"",
                parent_beacon_block_root=parent.parent_beacon_block_root,
            )
            if sim.header:
                header = header.copy(**dict(sim.header))
            state.execution_context = DevVM.create_execution_context(
                header, tuple(ancestors), self._chain_context
            )
            if sim.state_override:
                apply_overrides(state, sim.state_override)
            results = []
            used = 0
            for call in sim.calls:
                result = self._sim_call(state, call, header, header.gas_limit - used, validation)
                used += result.gas_used - min(result.gas_refund, result.gas_used // 5)
                results.append(result)
            header = header.copy(gas_used=used)
            out.append(SimBlockResult(header, tuple(results)))
            ancestors.insert(0, header.hash)
            parent = header
        return out

    def _sim_call(
        self, state: Any, call: SimCall, header: Any, gas_left: int, validation: bool
    ) -> CallResult:
        from_ = self._canonical(call.sender) if call.sender is not None else ZERO_ADDRESS
        to_bytes = Address(b"") if call.to is None else self._canonical(call.to)
        gas = min(gas_left, TX_GAS_CAP) if call.gas is None else call.gas
        nonce = state.get_nonce(from_)
        if validation:
            if call.nonce is not None and call.nonce != nonce:
                word = "low" if call.nonce < nonce else "high"
                raise InvalidTransaction(f"nonce too {word}: the sender's nonce is {nonce}")
            fee = header.base_fee_per_gas if call.max_fee_per_gas is None else call.max_fee_per_gas
            if fee < header.base_fee_per_gas:
                raise InvalidTransaction(
                    f"max fee per gas ({fee}) is below the block's base fee "
                    f"({header.base_fee_per_gas})"
                )
            if state.get_balance(from_) < call.value + gas * fee:
                raise InsufficientFunds(
                    f"insufficient funds for gas * price + value: sender "
                    f"{to_checksum_address(from_)}"
                )
        unsigned = TX_BUILDER.create_unsigned_transaction(
            nonce=nonce, gas_price=0, gas=gas, to=to_bytes, value=call.value, data=call.data
        )
        tx = CallTransaction(unsigned, from_)
        state.lock_changes()
        if state.get_balance(from_) < call.value:
            raise InsufficientFunds(
                f"sender {to_checksum_address(from_)} has less than the call's value"
            )
        if gas < tx.intrinsic_gas:
            raise InvalidTransaction(f"gas {gas} is below the intrinsic gas {tx.intrinsic_gas}")
        executor = state.get_transaction_executor()
        message = executor.build_evm_message(tx)
        computation = executor.build_computation(message, tx)
        used = computation.get_gas_used() + tx.intrinsic_gas
        if computation.is_error:
            return CallResult(
                bytes(computation.output), used, 0, True, error_name(computation.error)
            )
        return CallResult(
            bytes(computation.output),
            used,
            computation.get_gas_refund(),
            False,
            None,
            tuple(computation.get_log_entries()),
        )

    def get_proof(
        self, address: str | bytes, slots: Sequence[int], block: int | str = "latest"
    ) -> AccountProof:
        """EIP-1186 proofs of an account and storage slots against a sealed block's state
        root (``pending`` means the latest block: the pending state has no root yet)."""
        import rlp
        from eth.rlp.accounts import Account
        from eth_utils import keccak
        from trie import HexaryTrie

        record = self.get_block("latest" if block == "pending" else block)
        addr = bytes(self._canonical(address))
        db = self._chaindb.db
        state_trie = HexaryTrie(db, record.header.state_root)
        key = keccak(addr)
        encoded = state_trie.get(key)
        account = rlp.decode(encoded, sedes=Account) if encoded else Account()
        account_proof = tuple(rlp.encode(node) for node in state_trie.get_proof(key))
        storage_trie = HexaryTrie(db, account.storage_root)
        storage = []
        for slot in slots:
            slot_key = keccak(int(slot).to_bytes(32, "big"))
            raw = storage_trie.get(slot_key)
            value = rlp.decode(raw, sedes=rlp.sedes.big_endian_int) if raw else 0
            proof = tuple(rlp.encode(node) for node in storage_trie.get_proof(slot_key))
            storage.append((int(slot), int(value), proof))
        return AccountProof(
            address=addr,
            balance=int(account.balance),
            nonce=int(account.nonce),
            code_hash=bytes(account.code_hash),
            storage_root=bytes(account.storage_root),
            account_proof=account_proof,
            storage=tuple(storage),
        )

    def _state_at(self, block: int | str, *, is_current: bool = False) -> Any:
        """The state a read at ``block`` runs on (callers only read it or roll back what
        they ran). ``is_current``: the caller has just found the pending block open and
        current (``_read_state_key``), so ``_open`` need not check it again."""
        if block == "pending":
            pending = self._pending
            if is_current and pending is not None:
                return pending.vm.state
            return self._open().vm.state
        record = self.get_block(block)
        if (
            record.number == self.block_number
            and self._pending is None
            and self._live_state is not None
        ):
            # Nothing opened since the last seal: the live state is the one that block
            # persisted, with that block's execution context, and its caches are warm.
            # An open pending block, even an empty one, has the next block's context
            # (number, timestamp, system-contract writes), so the head is then rebuilt.
            return self._live_state
        return self._vm_class.build_state(
            self._chaindb.db, record.header, self._chain_context, self._ancestors(record.number)
        )
