"""A lean EVM execution loop for py-evm's Prague computation: same semantics, less overhead.

py-evm runs every opcode through several layers: ``CodeStream`` iteration, an ``Opcode``
object whose ``__call__`` charges gas through ``Computation.consume_gas`` and
``GasMeter.consume_gas``, then a logic function that pops through ``Stack.pop_ints``
(validation, int/bytes conversion) and pushes through ``Stack.push_int`` (validation
again). Jump destinations are re-analysed for every message. About three quarters of a
token swap's time goes there.

:class:`FastComputation` keeps py-evm's computation object, message handling, state,
precompiles and every opcode implementation; it replaces only the loop in
``apply_computation``:

- the code is analysed once per distinct bytecode (bounded memo): PUSH data decoded to
  integers, valid ``JUMPDEST`` positions collected;
- the hottest opcodes — PUSH/DUP/SWAP/POP, arithmetic, comparison and bitwise ops,
  JUMP/JUMPI/JUMPDEST/PC/GAS, MLOAD/MSTORE/MSTORE8/MCOPY, CALLDATALOAD/CALLDATACOPY,
  TLOAD/TSTORE, TIMESTAMP and the cheap context reads — run inline on the stack's list
  with their static gas charged inline;
- every other opcode (SLOAD, SSTORE, CALL*, CREATE*, LOG*, SHA3, RETURN, REVERT, EXP,
  copies, ...) runs py-evm's own implementation, with the gas meter, the program counter
  and the stack synchronised before and after, so its semantics are py-evm's; CALL,
  CALLCODE, DELEGATECALL and STATICCALL go through :mod:`chains._frames`, a mirror of
  py-evm's call path (same steps, gas and errors, without its layers);
- from a bytecode's second frame on (``COMPILE_AFTER``), its straight-line runs of
  stack, arithmetic and memory opcodes run as compiled basic blocks
  (:mod:`chains._codegen`): one Python function per block, its static gas charged at
  once, its stack items in local variables. A block runs only when it cannot fail for
  want of gas or stack; otherwise its opcodes run one by one as above.

Every 4096 taken jumps (or blocks run) and at every frame start the loop checks the
thread's execution deadline (:mod:`chains._deadline`: call timeouts, shutdown): one
counter decrement per taken jump on the hot path.

Observable behaviour is identical to the stock loop: gas used and refunded, output,
logs, state changes and the error *type* of a failed frame (``OutOfGas``,
``InsufficientStack``, ``FullStack``, ``InvalidJumpDestination``, ``InvalidInstruction``).
Where several checks fail in one instruction they are made in py-evm's order (static gas
first). Only the free-text messages inside exceptions may differ; nothing reads them.
``tests/chains/test_interpreter.py`` runs the same transactions on both loops and
compares receipts and state roots.

Stack invariant inside the loop: every item is an ``int``. py-evm's stack may hold
``bytes`` too (its PUSH, MLOAD, CALLER... push bytes); after a py-evm opcode runs, the
item it pushed (at most one) is converted, so the fast paths never test types.
"""

from __future__ import annotations

import functools
from typing import Any

from eth.constants import GAS_MEMORY, GAS_MEMORY_QUADRATIC_DENOMINATOR
from eth.db.account import IS_PRESENT_VALUE
from eth.exceptions import (
    FullStack,
    Halt,
    InsufficientStack,
    OutOfGas,
    WriteProtection,
)
from eth.vm.computation import NO_RESULT
from eth.vm.forks.berlin.constants import COLD_SLOAD_COST, WARM_STORAGE_READ_COST
from eth.vm.forks.berlin.logic import sload_eip2929, sstore_eip2929_generic
from eth.vm.forks.london.storage import GAS_SCHEDULE_EIP3529
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.logic.invalid import InvalidOpcode
from eth_utils import int_to_big_endian

from chains._codegen import BLOCK_GAS, BlockFn, bad_jump, compile_blocks
from chains._deadline import CHECK_EVERY, check_deadline
from chains._frames import frame_table

try:  # the C Keccak (a dependency of titanoboa's stack, usually present): ~6x eth-hash's
    from sha3 import keccak_256 as _keccak_256
except ImportError:  # pragma: no cover - depends on the installed packages
    from Crypto.Hash.keccak import new as _keccak_new

    def _keccak_256(data: bytes) -> Any:
        return _keccak_new(digest_bits=256, data=data)


def _keccak(data: bytes) -> bytes:
    return bytes(_keccak_256(data).digest())


__all__ = ["FastComputation", "StockComputation", "analyse_code", "pristine_opcodes"]

_M = 2**256 - 1
_SIGN = 2**255
_MAX_STACK = 1024
#: PUSH data past the end of the code reads as zeros; the padding also makes the byte
#: after the last instruction a STOP, as py-evm's ``CodeStream`` yields.
_PAD = b"\x00" * 33

#: Static gas of the opcodes run inline, checked against py-evm's table at import.
_INLINE_GAS = {
    0x01: 3, 0x02: 5, 0x03: 3, 0x04: 5, 0x06: 5, 0x0B: 5,
    0x10: 3, 0x11: 3, 0x12: 3, 0x13: 3, 0x14: 3, 0x15: 3, 0x16: 3, 0x17: 3, 0x18: 3,
    0x19: 3, 0x1A: 3, 0x1B: 3, 0x1C: 3, 0x1D: 3, 0x20: 30,
    0x30: 2, 0x32: 2, 0x33: 2, 0x34: 2, 0x35: 3, 0x36: 2, 0x37: 3, 0x39: 3, 0x3D: 2,
    0x42: 2,
    0x50: 2, 0x51: 3, 0x52: 3, 0x53: 3, 0x56: 8, 0x57: 10, 0x58: 2, 0x5A: 2, 0x5B: 1,
    0x5C: 100, 0x5D: 100, 0x5E: 3, 0x5F: 2,
    **dict.fromkeys(range(0x60, 0xA0), 3),
    0xF3: 0,
}  # fmt: skip

#: Opcodes run inline whose gas is dynamic (no static part): SLOAD, SSTORE. Their py-evm
#: implementations are checked at import (:func:`_check_table`) to be the ones mirrored.
_INLINE_DYNAMIC = (0x54, 0x55)

# EIP-2929/2200/3529 storage gas, from py-evm's own schedule.
_SLOAD_WARM = WARM_STORAGE_READ_COST
_SLOAD_COLD = COLD_SLOAD_COST
_SSTORE_NOOP = GAS_SCHEDULE_EIP3529.sload_gas
_SSTORE_SET = GAS_SCHEDULE_EIP3529.sstore_set_gas
_SSTORE_RESET = GAS_SCHEDULE_EIP3529.sstore_reset_gas
_SSTORE_CLEARS = GAS_SCHEDULE_EIP3529.sstore_clears_schedule
#: EIP-2200: SSTORE fails when no more than the call stipend is left.
_SSTORE_STIPEND = 2300


class _Analysis:
    """What the loop needs to know about one bytecode, computed once."""

    __slots__ = ("blocks", "code", "jumpdests", "n", "push_values", "runs")

    def __init__(self, code: bytes, push_values: list[int], jumpdests: frozenset[int]):
        self.code = code
        self.n = len(code) - len(_PAD)
        self.push_values = push_values
        self.jumpdests = jumpdests
        self.runs = 0  # frames that ran this code
        self.blocks: list[BlockFn | None] | None = None  # compiled on demand

    def get_blocks(self) -> list[BlockFn | None]:
        """The compiled blocks (:mod:`chains._codegen`) once the code has run in more than
        ``COMPILE_AFTER`` frames; until then none (the loop runs opcode by opcode)."""
        self.runs += 1
        if self.runs <= COMPILE_AFTER:
            return [None] * len(self.code)
        if self.blocks is None:
            self.blocks = compile_blocks(self.code, self.n, self.push_values, self.jumpdests)
        return self.blocks


#: Frames a bytecode runs opcode by opcode before its blocks are compiled: code run once
#: (a deployment's init code, a one-off call) is not worth compiling.
COMPILE_AFTER = 1


@functools.lru_cache(maxsize=512)
def analyse_code(code: bytes) -> _Analysis:
    """Decode PUSH data and find valid jump destinations (bounded memo, keyed by content).

    ``push_values[pc]`` is the value the PUSH at ``pc`` pushes (zero-padded on the right
    if the code ends inside its data, as py-evm reads it); other entries are 0.
    """
    n = len(code)
    push_values = [0] * (n + 1)
    jumpdests = []
    pc = 0
    while pc < n:
        op = code[pc]
        if 0x60 <= op <= 0x7F:
            size = op - 0x5F
            push_values[pc] = int.from_bytes(code[pc + 1 : pc + 1 + size].ljust(size, b"\x00"))
            pc += size + 1
        else:
            if op == 0x5B:
                jumpdests.append(pc)
            pc += 1
    return _Analysis(code + _PAD, push_values, frozenset(jumpdests))


def _sstore_cost(original: int, current: int, value: int) -> tuple[int, int]:
    """EIP-2200 net gas metering with EIP-2929/3529 figures: (gas, refund change).

    The same branches as py-evm's ``net_sstore`` over ``GAS_SCHEDULE_EIP3529``.
    """
    if current == value:
        return _SSTORE_NOOP, 0
    if original == current:
        if original == 0:
            return _SSTORE_SET, 0
        return _SSTORE_RESET, (_SSTORE_CLEARS if value == 0 else 0)
    refund = 0
    if original != 0:
        if current == 0:
            refund -= _SSTORE_CLEARS
        if value == 0:
            refund += _SSTORE_CLEARS
    if original == value:
        if original == 0:
            refund += _SSTORE_SET - _SSTORE_NOOP
        else:
            refund += _SSTORE_RESET - _SSTORE_NOOP
    return _SSTORE_NOOP, refund


def _out_of_gas(meter: Any, remaining: int, needed: int, op: int) -> OutOfGas:
    meter.gas_remaining = remaining
    mnemonic = PragueComputation.opcodes[op].mnemonic
    return OutOfGas(f"Out of gas: Needed {needed} - Remaining {remaining} - Reason: {mnemonic}")


class _ForeignIndexError(Exception):
    """An ``IndexError`` raised inside a py-evm opcode: re-raised as it was, not mapped."""


def _execute(computation: Any) -> None:
    """Run ``computation``'s code to completion (or raise the frame's ``VMError``)."""
    msg = computation.msg
    analysis = analyse_code(msg.code)
    code = analysis.code
    n = analysis.n
    blocks = analysis.get_blocks()
    push_values = analysis.push_values
    jumpdests = analysis.jumpdests
    stack: list[Any] = computation._stack.values  # ints only, see the module docstring
    append = stack.append
    pop = stack.pop
    meter = computation._gas_meter
    memory = computation._memory
    stream = computation.code
    table = frame_table(type(computation), computation.opcodes)  # call frames: chains._frames
    calldata = msg.data_as_bytes
    state = computation.state
    account_db = state._account_db
    storage_address = msg.storage_address
    gas = meter.gas_remaining
    pc = 0
    budget = CHECK_EVERY  # taken jumps until the next deadline check (chains._deadline)
    try:
        while True:
            block = blocks[pc]
            if block is not None:
                ran = block(stack, gas, computation, calldata)
                if ran is not None:  # else: run the block's opcodes one by one, below
                    pc, gas = ran
                    budget -= 1  # a block ends in at most one taken jump
                    if not budget:
                        budget = CHECK_EVERY
                        check_deadline()
                    continue
            op = code[pc]
            if op >= 0x60:
                if op < 0x80:  # PUSH1..PUSH32
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    if len(stack) >= _MAX_STACK:
                        raise FullStack("Stack limit reached")
                    append(push_values[pc])
                    pc += op - 0x5E
                    continue
                if op < 0x90:  # DUP1..DUP16
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    if len(stack) >= _MAX_STACK:
                        raise FullStack("Stack limit reached")
                    append(stack[0x7F - op])
                    pc += 1
                    continue
                if op < 0xA0:  # SWAP1..SWAP16
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    i = 0x8E - op
                    stack[-1], stack[i] = stack[i], stack[-1]
                    pc += 1
                    continue
                if op == 0xF3:  # RETURN
                    start = pop()
                    size = pop()
                    if size and start + size > len(memory._bytes):
                        meter.gas_remaining = gas
                        computation.extend_memory(start, size)
                        gas = meter.gas_remaining
                    computation.output = bytes(memory._bytes[start : start + size])
                    break
            elif op >= 0x50:
                if op == 0x5B:  # JUMPDEST
                    if gas < 1:
                        raise _out_of_gas(meter, gas, 1, op)
                    gas -= 1
                    pc += 1
                    continue
                if op == 0x57:  # JUMPI
                    if gas < 10:
                        raise _out_of_gas(meter, gas, 10, op)
                    gas -= 10
                    dest = pop()
                    if pop():
                        if dest not in jumpdests:
                            raise bad_jump(code, dest, n)
                        pc = dest
                        budget -= 1
                        if not budget:
                            budget = CHECK_EVERY
                            check_deadline()
                    else:
                        pc += 1
                    continue
                if op == 0x56:  # JUMP
                    if gas < 8:
                        raise _out_of_gas(meter, gas, 8, op)
                    gas -= 8
                    dest = pop()
                    if dest not in jumpdests:
                        raise bad_jump(code, dest, n)
                    pc = dest
                    budget -= 1
                    if not budget:
                        budget = CHECK_EVERY
                        check_deadline()
                    continue
                if op == 0x50:  # POP
                    if gas < 2:
                        raise _out_of_gas(meter, gas, 2, op)
                    gas -= 2
                    pop()
                    pc += 1
                    continue
                if op == 0x51:  # MLOAD
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    start = stack[-1]
                    end = start + 32
                    if end > len(memory._bytes):
                        meter.gas_remaining = gas
                        computation.extend_memory(start, 32)
                        gas = meter.gas_remaining
                    stack[-1] = int.from_bytes(memory._bytes[start:end])
                    pc += 1
                    continue
                if op == 0x52:  # MSTORE
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    start = pop()
                    value = pop()
                    end = start + 32
                    if end > len(memory._bytes):
                        meter.gas_remaining = gas
                        computation.extend_memory(start, 32)
                        gas = meter.gas_remaining
                    memory._bytes[start:end] = value.to_bytes(32)
                    pc += 1
                    continue
                if op == 0x54:  # SLOAD, EIP-2929: cold 2100, warm 100
                    slot = stack[-1]
                    key = storage_address + int_to_big_endian(slot)
                    accessed = account_db._journal_accessed_state
                    if key in accessed:
                        cost = _SLOAD_WARM
                    else:
                        accessed[key] = IS_PRESENT_VALUE
                        cost = _SLOAD_COLD
                    if gas < cost:
                        raise _out_of_gas(meter, gas, cost, op)
                    gas -= cost
                    stack[-1] = account_db._get_address_store(storage_address).get(slot)
                    pc += 1
                    continue
                if op == 0x55:  # SSTORE, EIP-2200 net metering, EIP-2929/3529 figures
                    if msg.is_static:
                        raise WriteProtection(
                            "Cannot modify state while inside of a STATICCALL context"
                        )
                    if gas <= _SSTORE_STIPEND:
                        meter.gas_remaining = gas
                        raise OutOfGas(
                            "Net-metered SSTORE always fails below 2300 gas, per EIP-2200", gas
                        )
                    slot = pop()
                    value = pop()
                    store = account_db._get_address_store(storage_address)
                    current = store.get(slot)
                    original = store.get(slot, False)
                    cost, refund = _sstore_cost(original, current, value)
                    if gas < cost:
                        raise _out_of_gas(meter, gas, cost, op)
                    gas -= cost
                    if refund:
                        meter.refund_gas(refund)
                    account_db._dirty_accounts.add(storage_address)
                    store.set(slot, value)
                    key = storage_address + int_to_big_endian(slot)
                    accessed = account_db._journal_accessed_state
                    if key not in accessed:
                        accessed[key] = IS_PRESENT_VALUE
                        if gas < _SLOAD_COLD:
                            raise _out_of_gas(meter, gas, _SLOAD_COLD, op)
                        gas -= _SLOAD_COLD
                    pc += 1
                    continue
                if op == 0x5F:  # PUSH0
                    if gas < 2:
                        raise _out_of_gas(meter, gas, 2, op)
                    gas -= 2
                    if len(stack) >= _MAX_STACK:
                        raise FullStack("Stack limit reached")
                    append(0)
                    pc += 1
                    continue
                if op == 0x5C:  # TLOAD (EIP-1153)
                    if gas < 100:
                        raise _out_of_gas(meter, gas, 100, op)
                    gas -= 100
                    stored = state.get_transient_storage(storage_address, stack[-1])
                    stack[-1] = int.from_bytes(stored)
                    pc += 1
                    continue
                if op == 0x5D:  # TSTORE (EIP-1153): the value stored as py-evm's stack bytes
                    if gas < 100:
                        raise _out_of_gas(meter, gas, 100, op)
                    gas -= 100
                    if msg.is_static:
                        raise WriteProtection(
                            "Cannot modify state while inside of a STATICCALL context"
                        )
                    slot = pop()
                    value = pop()
                    state.set_transient_storage(storage_address, slot, int_to_big_endian(value))
                    pc += 1
                    continue
                if op == 0x5E:  # MCOPY (EIP-5656): 3 + 3 per word + memory expansion
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    dest = pop()
                    start = pop()
                    size = pop()
                    meter.gas_remaining = gas
                    computation.extend_memory(max(start, dest), size)
                    gas = meter.gas_remaining
                    cost = 3 * ((size + 31) // 32)
                    if gas < cost:
                        raise _out_of_gas(meter, gas, cost, op)
                    gas -= cost
                    if size:  # a slice of a bytearray is a copy: overlapping ranges are safe
                        memory._bytes[dest : dest + size] = memory._bytes[start : start + size]
                    pc += 1
                    continue
                if op == 0x53:  # MSTORE8
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    start = pop()
                    value = pop()
                    if start + 1 > len(memory._bytes):
                        meter.gas_remaining = gas
                        computation.extend_memory(start, 1)
                        gas = meter.gas_remaining
                    memory._bytes[start] = value & 0xFF
                    pc += 1
                    continue
                if op == 0x58 or op == 0x5A:  # PC, GAS
                    if gas < 2:
                        raise _out_of_gas(meter, gas, 2, op)
                    gas -= 2
                    if len(stack) >= _MAX_STACK:
                        raise FullStack("Stack limit reached")
                    append(pc if op == 0x58 else gas)
                    pc += 1
                    continue
            elif op < 0x20:
                if op == 0x00:  # STOP
                    break
                if op == 0x15:  # ISZERO
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    stack[-1] = 0 if stack[-1] else 1
                    pc += 1
                    continue
                if op == 0x01:  # ADD
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = (a + stack[-1]) & _M
                    pc += 1
                    continue
                if op == 0x03:  # SUB
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = (a - stack[-1]) & _M
                    pc += 1
                    continue
                if op == 0x14:  # EQ
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = 1 if a == stack[-1] else 0
                    pc += 1
                    continue
                if op == 0x10:  # LT
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = 1 if a < stack[-1] else 0
                    pc += 1
                    continue
                if op == 0x11:  # GT
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = 1 if a > stack[-1] else 0
                    pc += 1
                    continue
                if op == 0x16:  # AND
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = a & stack[-1]
                    pc += 1
                    continue
                if op == 0x17:  # OR
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = a | stack[-1]
                    pc += 1
                    continue
                if op == 0x18:  # XOR
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    stack[-1] = a ^ stack[-1]
                    pc += 1
                    continue
                if op == 0x19:  # NOT
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    stack[-1] = _M - stack[-1]
                    pc += 1
                    continue
                if op == 0x1C:  # SHR
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    shift = pop()
                    stack[-1] = stack[-1] >> shift if shift < 256 else 0
                    pc += 1
                    continue
                if op == 0x1B:  # SHL
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    shift = pop()
                    stack[-1] = (stack[-1] << shift) & _M if shift < 256 else 0
                    pc += 1
                    continue
                if op == 0x02:  # MUL
                    if gas < 5:
                        raise _out_of_gas(meter, gas, 5, op)
                    gas -= 5
                    a = pop()
                    stack[-1] = (a * stack[-1]) & _M
                    pc += 1
                    continue
                if op == 0x04:  # DIV
                    if gas < 5:
                        raise _out_of_gas(meter, gas, 5, op)
                    gas -= 5
                    a = pop()
                    b = stack[-1]
                    stack[-1] = a // b if b else 0
                    pc += 1
                    continue
                if op == 0x06:  # MOD
                    if gas < 5:
                        raise _out_of_gas(meter, gas, 5, op)
                    gas -= 5
                    a = pop()
                    b = stack[-1]
                    stack[-1] = a % b if b else 0
                    pc += 1
                    continue
                if op == 0x12 or op == 0x13:  # SLT, SGT
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    a = pop()
                    b = stack[-1]
                    if a & _SIGN:
                        a -= 1 << 256
                    if b & _SIGN:
                        b -= 1 << 256
                    stack[-1] = (1 if a < b else 0) if op == 0x12 else (1 if a > b else 0)
                    pc += 1
                    continue
                if op == 0x1D:  # SAR
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    shift = pop()
                    b = stack[-1]
                    if b & _SIGN:
                        b -= 1 << 256
                    stack[-1] = (b >> min(shift, 256)) & _M
                    pc += 1
                    continue
                if op == 0x1A:  # BYTE
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    position = pop()
                    b = stack[-1]
                    stack[-1] = (b >> (8 * (31 - position))) & 0xFF if position < 32 else 0
                    pc += 1
                    continue
                if op == 0x0B:  # SIGNEXTEND
                    if gas < 5:
                        raise _out_of_gas(meter, gas, 5, op)
                    gas -= 5
                    bits = pop()
                    b = stack[-1]
                    if bits <= 31:
                        sign_bit = 1 << (bits * 8 + 7)
                        if b & sign_bit:
                            stack[-1] = b | ((1 << 256) - sign_bit)
                        else:
                            stack[-1] = b & (sign_bit - 1)
                    pc += 1
                    continue
            elif op < 0x40:
                if op == 0x20:  # SHA3: 30 + 6 per word + memory expansion
                    if gas < 30:
                        raise _out_of_gas(meter, gas, 30, op)
                    gas -= 30
                    start = pop()
                    size = stack[-1]
                    if size and start + size > len(memory._bytes):
                        meter.gas_remaining = gas
                        computation.extend_memory(start, size)
                        gas = meter.gas_remaining
                    cost = 6 * ((size + 31) // 32)
                    if gas < cost:
                        raise _out_of_gas(meter, gas, cost, op)
                    gas -= cost
                    stack[-1] = int.from_bytes(_keccak(bytes(memory._bytes[start : start + size])))
                    pc += 1
                    continue
                if op == 0x39:  # CODECOPY: 3 + 3 per word + memory expansion
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    dest = pop()
                    start = pop()
                    size = pop()
                    if size and dest + size > len(memory._bytes):
                        meter.gas_remaining = gas
                        computation.extend_memory(dest, size)
                        gas = meter.gas_remaining
                    cost = 3 * ((size + 31) // 32)
                    if gas < cost:
                        raise _out_of_gas(meter, gas, cost, op)
                    gas -= cost
                    if size:
                        chunk = msg.code[start : start + size]
                        if len(chunk) < size:
                            chunk = chunk.ljust(size, b"\x00")
                        memory._bytes[dest : dest + size] = chunk
                    pc += 1
                    continue
                if op == 0x37:  # CALLDATACOPY: 3 + 3 per word + memory expansion
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    dest = pop()
                    start = pop()
                    size = pop()
                    meter.gas_remaining = gas
                    computation.extend_memory(dest, size)
                    gas = meter.gas_remaining
                    cost = 3 * ((size + 31) // 32)
                    if gas < cost:
                        raise _out_of_gas(meter, gas, cost, op)
                    gas -= cost
                    if size:
                        chunk = calldata[start : start + size]
                        if len(chunk) < size:
                            chunk = chunk.ljust(size, b"\x00")
                        memory._bytes[dest : dest + size] = chunk
                    pc += 1
                    continue
                if op == 0x3D:  # RETURNDATASIZE
                    if gas < 2:
                        raise _out_of_gas(meter, gas, 2, op)
                    gas -= 2
                    if len(stack) >= _MAX_STACK:
                        raise FullStack("Stack limit reached")
                    append(len(computation.return_data))
                    pc += 1
                    continue
                if op == 0x35:  # CALLDATALOAD
                    if gas < 3:
                        raise _out_of_gas(meter, gas, 3, op)
                    gas -= 3
                    start = stack[-1]
                    word = calldata[start : start + 32]
                    stack[-1] = int.from_bytes(word.ljust(32, b"\x00") if len(word) < 32 else word)
                    pc += 1
                    continue
                if 0x32 <= op <= 0x34 or op == 0x30 or op == 0x36:
                    # ORIGIN, CALLER, CALLVALUE, ADDRESS, CALLDATASIZE
                    if gas < 2:
                        raise _out_of_gas(meter, gas, 2, op)
                    gas -= 2
                    if len(stack) >= _MAX_STACK:
                        raise FullStack("Stack limit reached")
                    if op == 0x33:
                        append(int.from_bytes(msg.sender))
                    elif op == 0x34:
                        append(msg.value)
                    elif op == 0x36:
                        append(len(msg.data))
                    elif op == 0x30:
                        append(int.from_bytes(msg.storage_address))
                    else:
                        append(int.from_bytes(computation.transaction_context.origin))
                    pc += 1
                    continue

            elif op == 0x42:  # TIMESTAMP
                if gas < 2:
                    raise _out_of_gas(meter, gas, 2, op)
                gas -= 2
                if len(stack) >= _MAX_STACK:
                    raise FullStack("Stack limit reached")
                append(state.timestamp)
                pc += 1
                continue

            # Everything else: py-evm's own implementation of the opcode.
            fn = table.get(op)
            if fn is None:
                fn = InvalidOpcode(op)
            meter.gas_remaining = gas
            stream.program_counter = pc + 1
            try:
                fn(computation=computation)
            except Halt:
                gas = meter.gas_remaining
                break
            except IndexError as exc:
                raise _ForeignIndexError() from exc
            gas = meter.gas_remaining
            pc = stream.program_counter
            if stack and stack[-1].__class__ is not int:
                stack[-1] = int.from_bytes(stack[-1])
    except IndexError:
        # A pop or peek below the bottom of the stack in an inline opcode.
        meter.gas_remaining = gas
        raise InsufficientStack(f"Insufficient stack items for opcode 0x{op:x}") from None
    except _ForeignIndexError as wrapper:
        raise wrapper.__cause__ from None  # type: ignore[misc]
    # Other errors raised inline (FullStack, bad jumps) leave the meter at its last sync:
    # they burn the frame's gas, so only a non-negative remainder matters there.
    meter.gas_remaining = gas
    stream.program_counter = pc + 1


def _unwrap(entry: Any) -> Any:
    """py-evm's opcode object under any third-party wrappers around it.

    titanoboa patches py-evm's shared Prague opcode table *in place* to trace SHA3
    preimages and SSTOREs: every ``boa.Env()`` wraps entries 0x20 and 0x55 once more in
    an object that keeps the wrapped opcode in an attribute and has its mnemonic. Such a
    wrapper is peeled off here; a py-evm opcode (``logic_fn`` or an ``Opcode`` class
    instance) is returned as it is.

    py-evm's own ``deprecate_method`` wrapper goes too: since Cancun it wraps SELFDESTRUCT
    to emit a ``DeprecationWarning`` at every execution. SELFDESTRUCT is a valid opcode
    (EIP-6780), and under ``-W error`` (a test suite's usual setting) that warning is an
    exception in the middle of a transaction — a devnet served to such a suite answered
    ``-32603`` to any call that reached one.
    """
    for _ in range(10_000):
        if getattr(entry, "__qualname__", "") == "deprecate_method.<locals>.deprecated_func":
            entry = entry.__wrapped__
            continue
        if hasattr(entry, "logic_fn") or not hasattr(entry, "__dict__"):
            return entry
        mnemonic = getattr(entry, "mnemonic", None)
        inner = [
            v
            for v in vars(entry).values()
            if callable(v) and getattr(v, "mnemonic", None) == mnemonic and v is not entry
        ]
        if len(inner) != 1:
            return entry  # not a recognisable wrapper: py-evm's own (or unknown) opcode
        entry = inner[0]
    raise RuntimeError("opcode wrappers nested beyond any sane depth")


def pristine_opcodes() -> dict[int, Any]:
    """A private copy of py-evm's Prague opcode table, third-party wrappers removed.

    The chains' computations use their own copy, so a tool in the same process that
    patches py-evm's table (titanoboa does, at every ``boa.Env()``) neither slows them
    down nor sees their execution — and both loops run py-evm's opcodes as shipped.
    """
    return {op: _unwrap(entry) for op, entry in PragueComputation.opcodes.items()}


class StockComputation(PragueComputation):
    """py-evm's Prague computation and stock loop, on :func:`pristine_opcodes`."""

    opcodes = pristine_opcodes()

    @classmethod
    def apply_computation(
        cls,
        state: Any,
        message: Any,
        transaction_context: Any,
        parent_computation: Any = None,
    ) -> Any:
        check_deadline()  # at frame starts only: the stock loop is py-evm's, untouched
        return super().apply_computation(state, message, transaction_context, parent_computation)


class FastComputation(PragueComputation):
    """py-evm's Prague computation with :func:`_execute` as its opcode loop."""

    opcodes = StockComputation.opcodes

    def extend_memory(self, start_position: int, size: int) -> None:
        """py-evm's memory expansion, ``BaseComputation.extend_memory`` then
        ``Memory.extend`` in one function: the same gas (``memory_gas_cost`` of the size
        in words after minus before: 3 per word + words² // 512), charged only when the
        word count grows, the same growth (to the end rounded up to 32 bytes, zeros,
        a new buffer if a ``memoryview`` holds the old one), nothing for a zero size —
        without the gas meter's reason string ("Expanding memory a -> b") and the calls
        between. Anything but two ints in [0, 2**256) whose sum is too, and debug
        logging, go to py-evm's. Only the ``OutOfGas`` message differs.
        ``tests/chains/test_memory.py`` compares with py-evm's on random expansions."""
        if (
            start_position.__class__ is not int
            or size.__class__ is not int
            or start_position < 0
            or size < 0
            or start_position + size > _M
            or self.logger.show_debug2
        ):
            super().extend_memory(start_position, size)  # validation, debug logging
            return
        if not size:
            return
        memory: Any = self._memory
        current = len(memory._bytes)
        words = (start_position + size + 31) >> 5  # ceil32(end) // 32
        before = (current + 31) >> 5
        if words > before:
            fee = (
                (words - before) * GAS_MEMORY
                + words * words // GAS_MEMORY_QUADRATIC_DENOMINATOR
                - before * before // GAS_MEMORY_QUADRATIC_DENOMINATOR
            )
            meter = self._gas_meter
            if fee > meter.gas_remaining:
                raise OutOfGas(
                    f"Out of gas: Needed {fee} - Remaining {meter.gas_remaining} - "
                    "Reason: Expanding memory"
                )
            meter.gas_remaining -= fee
        grow = (words << 5) - current
        if grow > 0:
            try:
                memory._bytes.extend(bytes(grow))
            except BufferError:  # Memory.extend's case: a memoryview holds the buffer
                memory._bytes = memory._bytes + bytearray(grow)

    @classmethod
    def apply_computation(
        cls,
        state: Any,
        message: Any,
        transaction_context: Any,
        parent_computation: Any = None,
    ) -> Any:
        if cls.logger.show_debug2:
            # Opcode-level debug logging lives in the stock loop: use it.
            return super().apply_computation(
                state, message, transaction_context, parent_computation
            )
        check_deadline()
        # The frame set-up below is py-evm's BaseComputation.apply_computation, verbatim.
        with cls(state, message, transaction_context) as computation:
            if computation.is_origin_computation:
                computation.contracts_created = []
                if message.is_create:
                    cls.consume_initcode_gas_cost(computation)
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)
            precompile = computation.precompiles.get(message.code_address, NO_RESULT)
            if precompile is not NO_RESULT:
                if not message.is_delegation:
                    precompile(computation)
                return computation
            _execute(computation)
        return computation


def _check_table() -> None:
    """The inline opcodes must be py-evm's opcodes with the gas rules used here."""
    table = FastComputation.opcodes
    for op, gas in (*_INLINE_GAS.items(), *BLOCK_GAS.items()):
        actual = getattr(table[op], "gas_cost", None)
        if actual != gas:
            raise RuntimeError(
                f"py-evm's gas for opcode 0x{op:x} is {actual}, the fast loop "
                f"charges {gas}: the installed py-evm does not match this interpreter"
            )
    sload = table[0x54].logic_fn
    sstore = getattr(table[0x55].logic_fn, "__wrapped__", None)
    mirrored = (
        all(table[op].gas_cost == 0 for op in _INLINE_DYNAMIC)
        and sload is sload_eip2929
        and getattr(sstore, "func", None) is sstore_eip2929_generic
        and getattr(sstore, "args", None) == (GAS_SCHEDULE_EIP3529,)
        and (_SSTORE_NOOP, _SSTORE_SET, _SSTORE_RESET, _SSTORE_CLEARS) == (100, 20000, 2900, 4800)
    )
    if not mirrored:
        raise RuntimeError(
            "py-evm's SLOAD/SSTORE are not the EIP-2929/3529 implementations the fast loop "
            "mirrors: the installed py-evm does not match this interpreter"
        )


_check_table()
