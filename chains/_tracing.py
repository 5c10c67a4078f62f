"""Execution tracing: geth's struct logger and call tracer on py-evm computations.

A traced execution runs on its own computation class, built per trace
(:func:`traced_computation`), set on the state for that one transaction and removed
after; the untraced path (:class:`~chains._interpreter.FastComputation`) is unchanged
and checks nothing. Two tracers:

- :class:`CallTracer` (geth's ``callTracer``) only needs frame boundaries, so it keeps
  the fast opcode loop and hooks ``apply_computation`` (one hook per call frame);
- :class:`StructLogger` (geth's default opcode logger) needs every step, so it runs a
  copy of py-evm's stock loop with a hook before and after each opcode.

Frames record the py-evm computation objects and read their outcome (gas left, output,
error, logs) once the whole transaction has run: a CREATE's code-deposit charge and
error come after its frame's loop ends.

Geth's figures: ``gasCost`` of a CALL/CREATE step includes the gas forwarded to the
child (without the 2300 stipend), read as ``gas before − caller's gas when the child
starts``; ``refund`` is the transaction's refund counter so far (refunds of frames that
failed are dropped, as py-evm drops them); ``depth`` starts at 1.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from eth._utils.address import generate_contract_address
from eth.exceptions import (
    ContractCreationCollision,
    FullStack,
    Halt,
    InsufficientStack,
    InvalidInstruction,
    InvalidJumpDestination,
    OutOfBoundsRead,
    OutOfGas,
    Revert,
    StackDepthLimit,
    VMError,
    WriteProtection,
)
from eth.vm.logic.invalid import InvalidOpcode

from chains._blocks import _Pending
from chains._calls import AccountOverride, CallRunner
from chains._deadline import check_deadline
from chains._errors import (
    ConfigError,
    TransactionReverted,
    UnknownTransaction,
    decode_revert_reason,
)
from chains._evm import DevVM, checksum
from chains._interpreter import FastComputation, StockComputation
from chains._trace_types import CallFrame, CallLog, StructLog, StructTrace, TraceOptions
from chains._types import BlockRecord

__all__ = [
    "CallFrame",
    "CallLog",
    "CallTracer",
    "StructLog",
    "StructLogger",
    "StructTrace",
    "TraceOptions",
    "TraceRunner",
    "Tracer",
    "geth_error",
    "traced_computation",
]

#: geth's wording of the EVM errors (``core/vm/errors.go``); others fall back to the
#: py-evm exception's name.
_GETH_ERRORS: dict[type[Exception], str] = {
    Revert: "execution reverted",
    OutOfGas: "out of gas",
    InvalidJumpDestination: "invalid jump destination",
    InsufficientStack: "stack underflow",
    FullStack: "stack limit reached 1024",
    WriteProtection: "write protection",
    StackDepthLimit: "max call depth exceeded",
    ContractCreationCollision: "contract address collision",
    OutOfBoundsRead: "return data out of bounds",
    InvalidInstruction: "invalid opcode",
}


def geth_error(error: BaseException | None) -> str | None:
    """geth's message for a py-evm ``VMError`` (``None`` for success)."""
    if error is None:
        return None
    for kind, text in _GETH_ERRORS.items():
        if isinstance(error, kind):
            return text
    return type(error).__name__


logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------
# tracers
# --------------------------------------------------------------------------------------
@dataclass
class _Frame:
    """A frame under construction: its message, computation and children."""

    message: Any
    kind: str
    depth: int
    computation: Any = None
    children: list[_Frame] = field(default_factory=list)
    child_marks: list[int] = field(default_factory=list)  # own logs before each child
    refund_base: int = 0  # the transaction's refund counter when the frame started
    child_refunds: int = 0  # refunds of children that finished without error
    gas_mark: int | None = None  # the frame's gas when its current step's child started


class Tracer:
    """Frame bookkeeping shared by both tracers (the hooks the computation calls)."""

    wants_steps = False

    def __init__(self, options: TraceOptions | None = None) -> None:
        self.options = options or TraceOptions()
        self.frames: list[_Frame] = []  # the open frames, innermost last
        self.root: _Frame | None = None

    def enter(self, message: Any, state: Any, context: Any, parent: Any) -> None:
        kind = _call_kind(message, state, parent)
        frame = _Frame(message, kind, message.depth)
        if self.frames:
            outer = self.frames[-1]
            outer.children.append(frame)
            outer.child_marks.append(len(parent._log_entries))
            outer.gas_mark = parent.get_gas_remaining()
            frame.refund_base = self._refund_now(outer, parent)
        else:
            self.root = frame
        self.frames.append(frame)

    def exit(self, computation: Any) -> None:
        frame = self.frames.pop()
        frame.computation = computation
        if self.frames and not computation.is_error:
            self.frames[-1].child_refunds += (
                computation._gas_meter.gas_refunded + frame.child_refunds
            )

    @staticmethod
    def _refund_now(frame: _Frame, computation: Any) -> int:
        return frame.refund_base + frame.child_refunds + computation._gas_meter.gas_refunded


class CallTracer(Tracer):
    """geth's ``callTracer``: the tree of call frames (see :class:`CallFrame`)."""

    def result(self, top_gas: int, top_gas_used: int) -> CallFrame:
        assert self.root is not None
        return self._build(self.root, top_gas, top_gas_used)

    def _build(
        self, frame: _Frame, gas: int | None = None, gas_used: int | None = None
    ) -> CallFrame:
        comp = frame.computation
        msg = frame.message
        failure = comp.error if comp.is_error else None
        is_revert = isinstance(failure, Revert)
        output = bytes(comp.output) if failure is None or is_revert else b""
        calls: tuple[CallFrame, ...] = ()
        if not self.options.only_top_call:
            calls = tuple(self._build(child) for child in frame.children)
        logs: tuple[CallLog, ...] = ()
        if self.options.with_log and not comp.is_error:
            logs = tuple(
                CallLog(
                    address=checksum(address),
                    topics=tuple(t.to_bytes(32, "big") for t in topics),
                    data=bytes(data),
                    position=sum(1 for mark in frame.child_marks if mark <= index),
                )
                for index, (_, address, topics, data) in enumerate(comp._log_entries)
            )
        sender = msg.sender
        if frame.kind == "DELEGATECALL" or frame.kind == "CALLCODE":
            # geth: from is the contract that delegated (whose storage the code runs on)
            to: str | None = checksum(msg.code_address)
            sender = msg.storage_address
        else:
            to = checksum(msg.storage_address)
        return CallFrame(
            type=frame.kind,
            sender=checksum(sender),
            to=to,
            value=None if frame.kind == "STATICCALL" else msg.value,
            gas=msg.gas if gas is None else gas,
            gas_used=(msg.gas - comp.get_gas_remaining()) if gas_used is None else gas_used,
            input=bytes(msg.code if msg.is_create else msg.data),
            output=output,
            error=geth_error(failure),
            revert_reason=decode_revert_reason(output) if is_revert else None,
            calls=calls,
            logs=logs,
            depth=frame.depth,
        )


class StructLogger(Tracer):
    """geth's default opcode logger: one :class:`StructLog` per executed opcode."""

    wants_steps = True

    def __init__(self, options: TraceOptions | None = None) -> None:
        super().__init__(options)
        self.logs: list[StructLog] = []
        self._storage: dict[bytes, dict[int, int]] = {}

    def is_full(self) -> bool:
        return bool(self.options.limit) and len(self.logs) >= self.options.limit

    def result(self, gas_used: int, computation: Any) -> StructTrace:
        return StructTrace(
            gas=gas_used,
            failed=bool(computation.is_error),
            return_value=bytes(computation.output),
            struct_logs=tuple(self.logs),
        )


# --------------------------------------------------------------------------------------
# computations
# --------------------------------------------------------------------------------------
def _call_kind(message: Any, state: Any, parent: Any) -> str:
    """The opcode that opened this frame, read from the message (CALL for the top)."""
    if message.is_create:
        if parent is None:
            return "CREATE"
        nonce = state.get_nonce(message.sender) - 1
        if generate_contract_address(message.sender, nonce) == message.storage_address:
            return "CREATE"
        return "CREATE2"
    if parent is None:
        return "CALL"
    if message.code_address != message.storage_address:
        # the callee's code runs on the caller's storage
        return "CALLCODE" if message.should_transfer_value else "DELEGATECALL"
    if message.is_static and not message.should_transfer_value:
        return "STATICCALL"
    return "CALL"


class _FrameHooks:
    """Mixed in before a computation class: the tracer sees each frame begin and end."""

    tracer: Tracer

    @classmethod
    def apply_computation(
        cls,
        state: Any,
        message: Any,
        transaction_context: Any,
        parent_computation: Any = None,
    ) -> Any:
        tracer = cls.tracer
        tracer.enter(message, state, transaction_context, parent_computation)
        computation = super().apply_computation(  # type: ignore[misc]
            state, message, transaction_context, parent_computation
        )
        tracer.exit(computation)
        return computation


class _FrameTracingComputation(_FrameHooks, FastComputation):
    """The fast loop, with frame hooks: what :class:`CallTracer` runs on."""


class _SteppingComputation(_FrameHooks, StockComputation):
    """py-evm's stock loop with a hook around every opcode: what :class:`StructLogger`
    runs on. The frame set-up is py-evm's ``BaseComputation.apply_computation``."""

    tracer: StructLogger

    @classmethod
    def apply_computation(
        cls,
        state: Any,
        message: Any,
        transaction_context: Any,
        parent_computation: Any = None,
    ) -> Any:
        tracer = cls.tracer
        tracer.enter(message, state, transaction_context, parent_computation)
        with cls(state, message, transaction_context) as computation:
            if computation.is_origin_computation:
                computation.contracts_created = []
                if message.is_create:
                    cls.consume_initcode_gas_cost(computation)
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)
            precompile = computation.precompiles.get(message.code_address)
            if precompile is not None:
                if not message.is_delegation:
                    precompile(computation)
            else:
                _step_loop(computation, tracer)
        tracer.exit(computation)
        return computation


def _step_loop(computation: Any, tracer: StructLogger) -> None:
    options = tracer.options
    frame = tracer.frames[-1]
    depth = computation.msg.depth + 1
    address = computation.msg.storage_address
    table = computation.opcodes
    code = computation.code
    meter = computation._gas_meter
    stack = computation._stack.values
    memory = computation._memory
    iterator = iter(code)
    steps = 0
    while True:
        # A traced call runs under the same wall-clock deadline as eth_call (the stock
        # loop has no jump counter of its own): a clock read every 4096 steps.
        steps += 1
        if not steps & 0xFFF:
            check_deadline()
        pc = code.program_counter
        opcode = next(iterator)
        opcode_fn = table.get(opcode)
        if opcode_fn is None:
            opcode_fn = InvalidOpcode(opcode)
        gas = meter.gas_remaining
        full = tracer.is_full()
        if not full:
            stack_now = None
            if not options.disable_stack:
                stack_now = tuple(
                    v if isinstance(v, int) else int.from_bytes(v, "big") for v in stack
                )
            memory_now = bytes(memory._bytes) if options.enable_memory else None
            storage_now = None
            if not options.disable_storage and opcode in (0x54, 0x55) and stack:
                slots = tracer._storage.setdefault(address, {})
                slot = _as_int(stack[-1])
                if opcode == 0x54:
                    slots[slot] = computation.state.get_storage(address, slot)
                elif len(stack) >= 2:
                    slots[slot] = _as_int(stack[-2])
                storage_now = dict(slots)
            refund = tracer._refund_now(frame, computation)
            return_data = bytes(computation.return_data) if options.enable_return_data else None
            # The step is logged before a child frame's steps, its cost known after.
            index = len(tracer.logs)
            tracer.logs.append(None)  # type: ignore[arg-type]
        frame.gas_mark = None
        error: str | None = None
        halted = False
        try:
            opcode_fn(computation=computation)
        except Halt:
            halted = True
        except VMError as exc:
            if not isinstance(exc, Revert):
                error = geth_error(exc)
            raise
        finally:
            if not full:
                tracer.logs[index] = StructLog(
                    pc, _mnemonic(opcode_fn, opcode), gas, _cost(frame, gas, meter),
                    depth, stack_now, memory_now, storage_now, refund, error, return_data,
                )  # fmt: skip
        if halted:
            return


def _cost(frame: _Frame, gas: int, meter: Any) -> int:
    if frame.gas_mark is not None:
        return gas - frame.gas_mark
    return gas - meter.gas_remaining


def _as_int(value: int | bytes) -> int:
    return value if isinstance(value, int) else int.from_bytes(value, "big")


def _mnemonic(opcode_fn: Any, opcode: int) -> str:
    name = getattr(opcode_fn, "mnemonic", None)
    if name is None:
        wrapped = getattr(opcode_fn, "__wrapped__", None)
        name = getattr(wrapped, "mnemonic", None)
    if name is None or isinstance(opcode_fn, InvalidOpcode):
        return f"opcode 0x{opcode:x} not defined"
    return str(name)


def traced_computation(tracer: Tracer) -> type:
    """A computation class bound to ``tracer`` (set it as a state's ``computation_class``)."""
    base = _SteppingComputation if tracer.wants_steps else _FrameTracingComputation
    return type(base.__name__, (base,), {"tracer": tracer})


# --------------------------------------------------------------------------------------
# the Chain capability
# --------------------------------------------------------------------------------------
TracerName = Literal["call", "struct"]
_TRACERS: dict[str, type[CallTracer] | type[StructLogger]] = {
    "call": CallTracer,
    "struct": StructLogger,
}


class TraceRunner(CallRunner):
    """Tracing of :class:`~chains.Chain`: re-execute a transaction or a call with a tracer."""

    @overload
    def trace_transaction(
        self,
        tx_hash: bytes | str,
        *,
        tracer: Literal["call"] = "call",
        options: TraceOptions | None = None,
    ) -> CallFrame: ...

    @overload
    def trace_transaction(
        self,
        tx_hash: bytes | str,
        *,
        tracer: Literal["struct"],
        options: TraceOptions | None = None,
    ) -> StructTrace: ...

    def trace_transaction(
        self,
        tx_hash: bytes | str,
        *,
        tracer: TracerName = "call",
        options: TraceOptions | None = None,
    ) -> CallFrame | StructTrace:
        """Re-execute a mined (or pending) transaction with a tracer.

        ``tracer="call"`` gives the call tree (:class:`CallFrame`, geth's ``callTracer``),
        ``tracer="struct"`` every opcode (:class:`StructTrace`, geth's default logger).
        The block is rebuilt on its parent's state with the same header fields and the
        transactions before this one are re-run untraced. A sealed block keeps its
        transactions but not dev state writes (``set_balance``...) made between them under
        manual or interval mining; the pending block keeps both, so a pending transaction
        replays exactly. If the replay's gas differs from the receipt's (such a write
        changed the outcome), a warning is logged.
        """
        make = _pick_tracer(tracer)
        key = bytes.fromhex(tx_hash.removeprefix("0x")) if isinstance(tx_hash, str) else tx_hash
        if key in self._tx_index:
            number, index = self._tx_index[key]
            record = self._blocks[number]
            pending = self._replay_block(record)
            earlier: list[tuple[Any, ...]] = [("tx", t) for t in record.transactions[:index]]
            tx = record.transactions[index]
            expected = record.receipts[index].gas_used
        else:
            pending_block = self._pending
            ops = list(self._pending_ops)
            position = next(
                (i for i, op in enumerate(ops) if op[0] == "tx" and op[1].hash == key),
                None,
            )
            if pending_block is None or position is None:
                raise UnknownTransaction(f"unknown transaction 0x{key.hex()} on chain {self.name}")
            pending = self._replay_pending(pending_block.header)
            earlier, tx = ops[:position], ops[position][1]
            expected = next(r.gas_used for r in pending_block.receipts if r.tx_hash == key)
        vm, state = pending.vm, pending.vm.state
        for op in earlier:
            if op[0] == "tx":
                self._run(pending, op[1])
            else:
                self._apply_op(state, op)
        tracer_obj = make(options)
        state.computation_class = traced_computation(tracer_obj)
        try:
            computation, _, gas_used = self._run(pending, tx)
        finally:
            del state.computation_class
        if gas_used != expected:
            logger.warning(
                "replay of 0x%s used %d gas, its receipt says %d: a dev state write between "
                "transactions of its block is not replayed",
                key.hex(),
                gas_used,
                expected,
            )
        del vm
        if isinstance(tracer_obj, CallTracer):
            return tracer_obj.result(tx.gas, gas_used)
        return tracer_obj.result(gas_used, computation)

    @overload
    def trace_call(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        gas: int | None = None,
        block: int | str = "pending",
        tracer: Literal["call"] = "call",
        options: TraceOptions | None = None,
    ) -> CallFrame: ...

    @overload
    def trace_call(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        gas: int | None = None,
        block: int | str = "pending",
        tracer: Literal["struct"],
        options: TraceOptions | None = None,
    ) -> StructTrace: ...

    def trace_call(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        gas: int | None = None,
        block: int | str = "pending",
        tracer: TracerName = "call",
        options: TraceOptions | None = None,
    ) -> CallFrame | StructTrace:
        """Trace a call (``eth_call`` semantics, see :meth:`simulate`) and roll it back."""
        tracer_obj = _pick_tracer(tracer)(options)
        result = self.simulate(
            to=to,
            data=data,
            sender=sender,
            value=value,
            gas=gas,
            block=block,
            computation_class=traced_computation(tracer_obj),
        )
        if isinstance(tracer_obj, CallTracer):
            gas_limit = self.config.gas_limit if gas is None else gas
            return tracer_obj.result(gas_limit, result.gas_used)
        assert tracer_obj.root is not None
        return tracer_obj.result(result.gas_used, tracer_obj.root.computation)

    def call(
        self,
        *,
        to: str | bytes | None,
        data: bytes = b"",
        sender: str | bytes | None = None,
        value: int = 0,
        gas: int | None = None,
        block: int | str = "pending",
        state_override: Mapping[bytes, AccountOverride] | None = None,
    ) -> bytes:
        """Execute without committing (``eth_call``); return the output or raise on revert.

        The :class:`TransactionReverted` raised can trace the call on demand
        (``exc.trace``): it re-runs the call against ``block`` as it is then (not for a
        call with state overrides, which a trace does not take).
        """
        try:
            return super().call(
                to=to,
                data=data,
                sender=sender,
                value=value,
                gas=gas,
                block=block,
                state_override=state_override,
            )
        except TransactionReverted as exc:
            if exc.explain is None and not state_override:
                exc.explain = functools.partial(
                    self._explain_call,
                    {
                        "to": to,
                        "data": data,
                        "sender": sender,
                        "value": value,
                        "gas": gas,
                        "block": block,
                    },
                )
            raise

    def _explain_transaction(self, tx_hash: bytes) -> tuple[CallFrame, str]:
        frame = self.trace_transaction(tx_hash, options=TraceOptions(with_log=True))
        return frame, self._format(frame)

    def _explain_call(self, args: dict[str, Any]) -> tuple[CallFrame, str]:
        frame = self.trace_call(**args, options=TraceOptions(with_log=True))
        return frame, self._format(frame)

    def _format(self, frame: CallFrame) -> str:
        from chains.trace import format_trace

        return format_trace(frame, self)  # type: ignore[arg-type]

    def _replay_block(self, record: BlockRecord) -> _Pending:
        """A fresh pending block equal to ``record``'s at its start (no transactions)."""
        parent = self._blocks[record.number - 1].header
        header = record.header
        opened = DevVM.create_header_from_parent(
            parent,
            coinbase=header.coinbase,
            timestamp=header.timestamp,
            gas_limit=header.gas_limit,
            mix_hash=header.mix_hash,
            extra_data=header.extra_data,
            parent_beacon_block_root=header.parent_beacon_block_root,
        )
        return self._replay_pending(opened, record.number)

    def _replay_pending(self, header: Any, number: int | None = None) -> _Pending:
        vm = self._vm_class(header, self._chaindb, self._chain_context, None)  # type: ignore[arg-type]
        vm.ancestor_hashes = self._ancestors(number)
        vm.block_preprocessing(vm.get_block())
        return _Pending(vm=vm, header=header)


def _pick_tracer(name: str) -> type[CallTracer] | type[StructLogger]:
    try:
        return _TRACERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown tracer {name!r}: use 'call' (the call tree) or 'struct' (every opcode)"
        ) from None
