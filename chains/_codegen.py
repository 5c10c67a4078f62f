"""Basic blocks of EVM code compiled to Python functions, for the fast loop.

A *block* is a straight run of opcodes whose only gas is static and whose only side effects
are on the stack and memory: PUSH/DUP/SWAP/POP, arithmetic, comparison and bitwise ops,
PC, GAS, MLOAD/MSTORE/MSTORE8 (memory expansion is their dynamic gas), CALLDATALOAD and
the cheap context reads, a leading JUMPDEST, and a final JUMP or JUMPI. For each distinct
bytecode the loop (:mod:`chains._interpreter`) compiles every block into one Python
function, in which the stack items live in local variables (a symbolic stack: a PUSH is a
constant, a DUP or SWAP moves a name, constant operands are folded), the block's static gas
is charged once, and the real stack list is written once, at the end.

A block function runs only when nothing in it can fail for want of gas or stack:
the gas left covers the block's summed static gas, and the stack holds at least the items
the block reads below its entry top and has room for the most it grows. Otherwise it
returns ``None`` and the loop runs the block's opcodes one by one, so every ``OutOfGas``,
``InsufficientStack`` and ``FullStack`` is raised where and in the order py-evm raises it.
What can still fail inside a block is dynamic:

- a memory expansion the gas left cannot pay: ``OutOfGas``, as in py-evm;
- a memory expansion that leaves less than the rest of the block's static gas: py-evm
  would run on and raise ``OutOfGas`` at a later opcode of the same block, at the latest
  at its last, which charges before it checks anything; the block raises it at once.
  Both burn the frame's gas, and nothing between the two points is observable (the
  frame's stack and memory are discarded with it);
- a jump to an invalid destination, checked after the jump's gas as py-evm does.

``GAS`` pushes the gas left after the opcodes before it in the block (entry gas minus
their static gas and any expansion paid), exactly py-evm's figure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth.exceptions import InvalidInstruction, InvalidJumpDestination, OutOfGas

__all__ = ["BLOCK_GAS", "BlockFn", "compile_blocks"]

_M = 2**256 - 1
_SIGN = 2**255
_MAX_STACK = 1024

#: A compiled block: (stack, gas, computation, calldata) -> (next pc, gas left), or
#: ``None`` when the block must run opcode by opcode (see the module docstring).
BlockFn = Callable[[list[int], int, Any, bytes], "tuple[int, int] | None"]

#: Static gas of every opcode a block may hold (checked against py-evm's table by
#: :mod:`chains._interpreter` at import).
BLOCK_GAS = {
    0x01: 3, 0x02: 5, 0x03: 3, 0x04: 5, 0x06: 5, 0x0B: 5,
    0x10: 3, 0x11: 3, 0x12: 3, 0x13: 3, 0x14: 3, 0x15: 3, 0x16: 3, 0x17: 3, 0x18: 3,
    0x19: 3, 0x1A: 3, 0x1B: 3, 0x1C: 3, 0x1D: 3,
    0x30: 2, 0x32: 2, 0x33: 2, 0x34: 2, 0x35: 3, 0x36: 2, 0x3D: 2, 0x42: 2,
    0x50: 2, 0x51: 3, 0x52: 3, 0x53: 3, 0x56: 8, 0x57: 10, 0x58: 2, 0x5A: 2, 0x5B: 1,
    0x5F: 2,
    **dict.fromkeys(range(0x60, 0xA0), 3),
}  # fmt: skip

#: Opcodes after which the next instruction is reached only by a jump.
_TERMINAL = frozenset({0x00, 0x56, 0xF3, 0xFD, 0xFE, 0xFF})


def bad_jump(code: bytes, dest: int, n: int) -> Exception:
    """The error py-evm raises for a jump to ``dest``, which is not a valid destination.

    py-evm's order: not a JUMPDEST byte -> InvalidJumpDestination; a JUMPDEST byte inside
    PUSH data -> InvalidInstruction.
    """
    if dest < n and code[dest] == 0x5B:
        return InvalidInstruction("Jump resulted in invalid instruction")
    return InvalidJumpDestination("Invalid Jump Destination")


def _expand(c: Any, start: int, size: int, g: int, charged: int, total: int) -> int:
    """Expand memory inside a block: py-evm's gas, with ``charged`` static gas paid.

    ``g`` is the block's gas before its static gas (``total``); returns the new ``g``.
    """
    meter = c._gas_meter
    meter.gas_remaining = g - charged
    c.extend_memory(start, size)
    g = meter.gas_remaining + charged
    if g < total:  # a later opcode of this block runs out of gas (module docstring)
        meter.gas_remaining = max(g - charged, 0)
        raise OutOfGas("Out of gas: memory expansion leaves less than the block's gas")
    return g


def _slt(a: int, b: int) -> int:
    if a & _SIGN:
        a -= 1 << 256
    if b & _SIGN:
        b -= 1 << 256
    return 1 if a < b else 0


def _sar(shift: int, b: int) -> int:
    if b & _SIGN:
        b -= 1 << 256
    return (b >> min(shift, 256)) & _M


def _byte(position: int, b: int) -> int:
    return (b >> (8 * (31 - position))) & 0xFF if position < 32 else 0


def _signextend(bits: int, b: int) -> int:
    if bits <= 31:
        sign_bit = 1 << (bits * 8 + 7)
        return b | ((1 << 256) - sign_bit) if b & sign_bit else b & (sign_bit - 1)
    return b


#: Binary opcodes: (template over the top item ``a`` and the one under it ``b``, fold).
#: Operands are names or literals, so a template may use one twice.
_BINARY: dict[int, tuple[str, Callable[[int, int], int]]] = {
    0x01: ("({a} + {b}) & M", lambda a, b: (a + b) & _M),
    0x02: ("({a} * {b}) & M", lambda a, b: (a * b) & _M),
    0x03: ("({a} - {b}) & M", lambda a, b: (a - b) & _M),
    0x04: ("{a} // {b} if {b} else 0", lambda a, b: a // b if b else 0),
    0x06: ("{a} % {b} if {b} else 0", lambda a, b: a % b if b else 0),
    0x0B: ("_signextend({a}, {b})", _signextend),
    0x10: ("1 if {a} < {b} else 0", lambda a, b: 1 if a < b else 0),
    0x11: ("1 if {a} > {b} else 0", lambda a, b: 1 if a > b else 0),
    0x12: ("_slt({a}, {b})", _slt),
    0x13: ("_slt({b}, {a})", lambda a, b: _slt(b, a)),
    0x14: ("1 if {a} == {b} else 0", lambda a, b: 1 if a == b else 0),
    0x16: ("{a} & {b}", lambda a, b: a & b),
    0x17: ("{a} | {b}", lambda a, b: a | b),
    0x18: ("{a} ^ {b}", lambda a, b: a ^ b),
    0x1A: ("_byte({a}, {b})", _byte),
    0x1B: ("({b} << {a}) & M if {a} < 256 else 0", lambda a, b: (b << a) & _M if a < 256 else 0),
    0x1C: ("{b} >> {a} if {a} < 256 else 0", lambda a, b: b >> a if a < 256 else 0),
    0x1D: ("_sar({a}, {b})", _sar),
}

#: Opcodes that push a value read from the frame.
_CONTEXT = {
    0x30: "int.from_bytes(c.msg.storage_address)",
    0x32: "int.from_bytes(c.transaction_context.origin)",
    0x33: "int.from_bytes(c.msg.sender)",
    0x34: "c.msg.value",
    0x36: "len(cd)",
    0x3D: "len(c.return_data)",
    0x42: "c.state.timestamp",
}


def block_starts(code: bytes, n: int) -> list[int]:
    """Where blocks begin: the code's start, every JUMPDEST, and every instruction after
    a JUMPI or after an opcode a block cannot hold (the loop runs those itself)."""
    starts = []
    is_start = True
    pc = 0
    while pc < n:
        op = code[pc]
        if is_start or op == 0x5B:
            starts.append(pc)
        is_start = (op not in BLOCK_GAS or op == 0x57) and op not in _TERMINAL
        pc += op - 0x5E if 0x60 <= op < 0x80 else 1
    return starts


class _Block:
    """Generates one block's function: a symbolic stack over the real stack ``s``.

    The stack during the block is ``s[: len(s) - low] + sym``: ``low`` entry items are
    consumed, ``sym`` holds the items above as names (``t3``), literals, or references to
    entry items (``s[-2]``; the real list is not changed until the block ends).
    """

    def __init__(self, start: int) -> None:
        self.start = start
        self.lines: list[str] = []
        self.sym: list[str] = []
        self.low = 0
        self.need = 0  # entry items read
        self.grow = 0  # highest stack above the entry height
        self.gas = 0  # static gas charged so far
        self.temps = 0
        self.uses_memory = False
        self.memory_known = 0  # memory is at least this long here (checked in the block)

    def _entry(self, depth: int) -> str:
        self.need = max(self.need, depth)
        return f"s[-{depth}]"

    def pop(self) -> str:
        if self.sym:
            return self.sym.pop()
        self.low += 1
        return self._entry(self.low)

    def peek(self, depth: int) -> str:
        if depth <= len(self.sym):
            return self.sym[-depth]
        return self._entry(self.low + depth - len(self.sym))

    def push(self, item: str) -> None:
        self.sym.append(item)
        self.grow = max(self.grow, len(self.sym) - self.low)

    def assign(self, expr: str) -> str:
        self.temps += 1
        name = f"t{self.temps}"
        self.lines.append(f"{name} = {expr}")
        return name

    def local(self, item: str) -> str:
        """``item`` as a name or literal that stays valid after ``s`` is written."""
        return self.assign(item) if item.startswith("s[") else item

    def memory(self, start: str, size: int) -> None:
        self.uses_memory = True
        if start.isdigit():
            end: int | str = int(start) + size
            if int(end) <= self.memory_known:
                return  # memory never shrinks: checked (or expanded) earlier in the block
            self.memory_known = int(end)
        else:
            end = f"{start} + {size}"
        self.lines.append(f"if {end} > len(mb):")
        self.lines.append(f"    g = _expand(c, {start}, {size}, g, {self.gas}, TOTAL)")
        self.lines.append("    mb = c._memory._bytes")

    def writeback(self) -> None:
        sym, low = self.sym, self.low
        while low and sym and sym[0] == f"s[-{low}]":  # entry items left where they were
            sym.pop(0)
            low -= 1
        if not low:
            if len(sym) == 1:
                self.lines.append(f"s.append({sym[0]})")
            elif sym:
                self.lines.append(f"s.extend(({', '.join(sym)}))")
        elif not sym:
            self.lines.append(f"del s[-{low}:]")
        elif len(sym) == 1 and low == 1:
            self.lines.append(f"s[-1] = {sym[0]}")
        else:
            self.lines.append(f"s[-{low}:] = ({', '.join(sym)},)")

    def op(self, pc: int, op: int, push_value: int) -> None:
        self.gas += BLOCK_GAS[op]
        if op >= 0x5F:
            if op < 0x80:  # PUSH0..PUSH32
                self.push(str(push_value))
            elif op < 0x90:  # DUPn
                self.push(self.peek(op - 0x7F))
            else:  # SWAPn: both items become symbolic
                depth = op - 0x8E
                while len(self.sym) < depth:
                    self.low += 1
                    self.sym.insert(0, self._entry(self.low))
                self.sym[-1], self.sym[-depth] = self.sym[-depth], self.sym[-1]
        elif op in _BINARY:
            a, b = self.pop(), self.pop()
            template, fold = _BINARY[op]
            if a.isdigit() and b.isdigit():
                self.push(str(fold(int(a), int(b))))
            elif op in (0x1B, 0x1C) and a.isdigit():  # a shift by a constant
                if int(a) >= 256:
                    self.push("0")
                else:
                    shift = f"({b} << {a}) & M" if op == 0x1B else f"{b} >> {a}"
                    self.push(self.assign(shift))
            elif op in (0x04, 0x06) and b.isdigit():  # DIV, MOD by a constant
                self.push(self.assign(f"{a} {'//' if op == 0x04 else '%'} {b}") if int(b) else "0")
            else:
                self.push(self.assign(template.format(a=a, b=b)))
        elif op == 0x15:  # ISZERO
            a = self.pop()
            self.push(str(int(not int(a))) if a.isdigit() else self.assign(f"0 if {a} else 1"))
        elif op == 0x19:  # NOT
            a = self.pop()
            self.push(str(_M - int(a)) if a.isdigit() else self.assign(f"M - {a}"))
        elif op == 0x50:  # POP
            self.pop()
        elif op == 0x51:  # MLOAD
            start = self.local(self.pop())
            self.memory(start, 32)
            self.push(self.assign(f"int.from_bytes(mb[{start}:{start} + 32])"))
        elif op == 0x52 or op == 0x53:  # MSTORE, MSTORE8
            start, value = self.local(self.pop()), self.pop()
            self.memory(start, 32 if op == 0x52 else 1)
            if op == 0x52:
                word = repr(int(value).to_bytes(32)) if value.isdigit() else f"{value}.to_bytes(32)"
                self.lines.append(f"mb[{start}:{start} + 32] = {word}")
            else:
                self.lines.append(f"mb[{start}] = {value} & 255")
        elif op == 0x35:  # CALLDATALOAD
            a = self.pop()
            self.push(self.assign(f'int.from_bytes(cd[{a}:{a} + 32].ljust(32, b"\\x00"))'))
        elif op in _CONTEXT:
            self.push(self.assign(_CONTEXT[op]))
        elif op == 0x58:  # PC
            self.push(str(pc))
        elif op == 0x5A:  # GAS: what py-evm's meter holds after this opcode's charge
            self.push(self.assign(f"g - {self.gas}"))
        elif op not in (0x5B, 0x56, 0x57):  # JUMPDEST starts a block; JUMP, JUMPI end it
            raise AssertionError(f"opcode 0x{op:x} in a block")

    def source(self, next_pc: int, jumpdests: frozenset[int], end_op: int | None) -> str:
        """The function's text; ``end_op`` is the JUMP or JUMPI ending the block, if any."""
        tail: list[str] = []
        if end_op is not None:
            dest = self.local(self.pop())
            cond = self.local(self.pop()) if end_op == 0x57 else "1"
            if dest.isdigit():
                check = [] if int(dest) in jumpdests else [f"raise bad_jump(CODE, {dest}, N)"]
            else:
                check = [f"if {dest} not in JD:", f"    raise bad_jump(CODE, {dest}, N)"]
            taken = [*check, f"return {dest}, g - TOTAL"]
            if cond == "1" or (cond.isdigit() and int(cond)):
                tail = taken
            elif cond.isdigit():
                tail = [f"return {next_pc}, g - TOTAL"]
            else:
                tail = [f"if {cond}:", *("    " + line for line in taken)]
                tail.append(f"return {next_pc}, g - TOTAL")
        else:
            tail = [f"return {next_pc}, g - TOTAL"]
        self.writeback()
        failed = [f"g < {self.gas}"]
        if self.need and self.grow:
            failed.append(f"not {self.need} <= len(s) <= {_MAX_STACK - self.grow}")
        elif self.need:
            failed.append(f"len(s) < {self.need}")
        elif self.grow:
            failed.append(f"len(s) > {_MAX_STACK - self.grow}")
        guard = [f"if {' or '.join(failed)}:", "    return None"]
        if self.uses_memory:
            guard.append("mb = c._memory._bytes")
        body = [*guard, *self.lines, *tail]
        text = "\n".join("    " + line.replace("TOTAL", str(self.gas)) for line in body)
        return f"def b{self.start}(s, g, c, cd):\n{text}\n"


class _Code:
    """One bytecode's compilation state: the namespace its block functions share."""

    def __init__(
        self, code: bytes, n: int, push_values: list[int], jumpdests: frozenset[int]
    ) -> None:
        self.code = code
        self.n = n
        self.push_values = push_values
        self.jumpdests = jumpdests
        self.namespace: dict[str, Any] = {
            "M": _M,
            "JD": jumpdests,
            "CODE": code,
            "N": n,
            "bad_jump": bad_jump,
            "_expand": _expand,
            "_slt": _slt,
            "_sar": _sar,
            "_byte": _byte,
            "_signextend": _signextend,
        }

    def compile(self, start: int) -> BlockFn | None:
        """The block beginning at ``start`` as a function; ``None`` if not worth one."""
        code, n = self.code, self.n
        block = _Block(start)
        pc, end_op, count = start, None, 0
        while pc < n:
            op = code[pc]
            if op not in BLOCK_GAS or (op == 0x5B and pc != start):
                break
            count += 1
            block.op(pc, op, self.push_values[pc])
            pc += op - 0x5E if 0x60 <= op < 0x80 else 1
            if op == 0x56 or op == 0x57:
                end_op = op
                break
        if count < 2:
            return None  # nothing a block would save
        source = block.source(pc, self.jumpdests, end_op)
        defined: dict[str, BlockFn] = {}  # not the shared namespace: threads may compile too
        exec(compile(source, f"<evm block {start}>", "exec"), self.namespace, defined)
        return defined[f"b{start}"]


def _lazy(blocks: list[BlockFn | None], code: _Code, start: int) -> BlockFn:
    """A stand-in that compiles the block at ``start`` when first reached, puts it in
    ``blocks`` in its own place, and runs it."""

    def first_run(s: list[int], g: int, c: Any, cd: bytes) -> tuple[int, int] | None:
        fn = blocks[start] = code.compile(start)
        return None if fn is None else fn(s, g, c, cd)

    return first_run


def compile_blocks(
    code: bytes, n: int, push_values: list[int], jumpdests: frozenset[int]
) -> list[BlockFn | None]:
    """The blocks of ``code`` (its first ``n`` bytes; the rest is padding), each at the
    index of its first opcode (``None`` where no block begins). A block is compiled when
    first reached: only the paths a bytecode takes cost compilation."""
    blocks: list[BlockFn | None] = [None] * len(code)
    shared = _Code(code, n, push_values, jumpdests)
    for start in block_starts(code, n):
        blocks[start] = _lazy(blocks, shared, start)
    return blocks
