"""The fast opcode loop against py-evm's stock loop: same gas, output, logs, errors, state.

Two kinds of evidence. Whole workloads (the DeFi suite's deployment and composer runs,
including reverts and out-of-gas at many depths) run on a fast chain and on a fully
stock reference (py-evm's loop and ``AccountDB``, see ``chain_reference.py``); every
block hash must match, which commits to state roots, receipt roots (status, cumulative
gas, logs) and blooms, and every receipt's output and error must match too. Then
bytecode-level differentials: edge cases for each opcode the fast loop runs inline, and
hypothesis-generated programs and raw byte strings run at full gas and at gas limits
that run out mid-way. The fast loop runs straight-line code as compiled blocks
(``chains._codegen``) from a bytecode's second frame on: the bytecode-level tests run
each program with blocks compiled at once and with blocks never compiled, so both the
block functions and the opcode-by-opcode path are compared with the stock loop.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chain_reference import ReferenceVM
from hypothesis import given, note
from hypothesis import strategies as st
from testing_helpers import push, reverts

import chains._interpreter as interpreter
from chains import Chain, ChainConfig, Devnet, TransactionReverted
from chains._codegen import BLOCK_GAS, block_starts
from chains._evm import VM_CLASSES as _VM_CLASSES
from chains._evm import CallResult
from chains._interpreter import (
    _INLINE_GAS,
    FastComputation,
    StockComputation,
    analyse_code,
    pristine_opcodes,
)
from scenarios import deploy_suite
from scenarios.bench import SUPPLY, bench_source

MAX = 2**256 - 1
CODE_ADDRESS = "0x00000000000000000000000000000000c0de0001"
CALLEE_ADDRESS = "0x00000000000000000000000000000000c0de0002"

# py-evm's stock loop warns at every SELFDESTRUCT (its semantics may change in a later
# release); with warnings as errors the stock side would raise where the fast loop, which
# does not warn, runs on. Random bytecode draws 0xff now and then.
pytestmark = pytest.mark.filterwarnings(
    "ignore:SELFDESTRUCT opcode present in computation:DeprecationWarning"
)


def return_stack(depth: int) -> bytes:
    """Code that stores the top ``depth`` stack items in memory words and returns them."""
    out = b"".join(push(32 * i) + b"\x52" for i in range(depth))
    return out + push(32 * depth) + b"\x5f\xf3"


@dataclass
class Pair:
    """The same single chain twice: stock py-evm loop and fast loop."""

    stock: Chain
    fast: Chain

    def both(self, fn: Callable[[Chain], Any]) -> tuple[Any, Any]:
        """``fn`` on each chain: its result, or the type and text of what it raised."""
        out = []
        for chain in (self.stock, self.fast):
            try:
                out.append(fn(chain))
            except Exception as exc:  # compared, not swallowed: the caller asserts equality
                out.append((type(exc), str(exc)))
        return out[0], out[1]

    def set_code(self, address: str, code: bytes) -> None:
        for chain in (self.stock, self.fast):
            chain.set_code(address, code)

    def simulate(self, code: bytes, data: bytes = b"", gas: int | None = None) -> CallResult:
        """Run ``code`` on both loops; assert identical outcomes; return it."""
        self.set_code(CODE_ADDRESS, code)
        stock, fast = self.both(lambda c: c.simulate(to=CODE_ADDRESS, data=data, gas=gas))
        assert fast == stock, f"code {code.hex()} data {data.hex()} gas {gas}"
        assert isinstance(fast, CallResult), fast
        return fast

    def simulate_below(self, code: bytes, data: bytes, gas_used: int, window: int = 12) -> None:
        """Run ``code`` at every gas limit from ``gas_used - window`` up (above intrinsic)."""
        intrinsic = 21_000 + sum(4 if b == 0 else 16 for b in data)
        for gas in range(max(intrinsic, gas_used - window), gas_used + 1):
            self.simulate(code, data=data, gas=gas)


def _chain(loop: str, mining: str = "auto") -> Chain:
    return Devnet(n_chains=1, seed=7, interpreter=loop, mining=mining).chains[0]


#: ``COMPILE_AFTER`` values: blocks from a bytecode's first frame, or never.
AT_ONCE = 0
NEVER = 10**18


@contextlib.contextmanager
def compiling(after: int) -> Iterator[None]:
    """The fast loop compiles a bytecode's blocks after ``after`` frames (AT_ONCE, NEVER)."""
    saved = interpreter.COMPILE_AFTER
    interpreter.COMPILE_AFTER = after
    try:
        yield
    finally:
        interpreter.COMPILE_AFTER = saved


@pytest.fixture(params=[AT_ONCE, NEVER], ids=["blocks", "opcodes"])
def blocks(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run the test with compiled blocks from the first frame, then without blocks."""
    with compiling(request.param):
        yield


@pytest.fixture(scope="module")
def pair() -> Pair:
    """A stock-loop and a fast-loop chain, same id and seed; code is set in a pending block."""
    return Pair(stock=_chain("py-evm", "manual"), fast=_chain("fast", "manual"))


def test_config_selects_the_loop() -> None:
    assert ChainConfig(chain_id=1).interpreter == "fast"
    with pytest.raises(ValueError, match="interpreter must be 'fast' or 'py-evm'"):
        ChainConfig(chain_id=1, interpreter="revm")  # type: ignore[arg-type]


# ------------------------------------------------------------------- whole workloads ---


@pytest.fixture
def reference(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``interpreter="py-evm"`` chains fully stock: py-evm's loop *and* AccountDB."""
    monkeypatch.setitem(_VM_CLASSES, "py-evm", ReferenceVM)


def _receipts(chain: Chain) -> list[tuple[Any, ...]]:
    return [
        (r.tx_hash, r.status, r.gas_used, r.output, r.error, r.logs)
        for block in chain.blocks
        for r in block.receipts
    ]


def _compare(workload: Callable[[Chain], None]) -> Chain:
    chains = []
    for loop in ("py-evm", "fast"):
        chain = _chain(loop)
        workload(chain)
        chains.append(chain)
    stock, fast = chains
    assert [b.hash for b in fast.blocks] == [b.hash for b in stock.blocks]
    assert _receipts(fast) == _receipts(stock)
    return fast


def _suite_workload(chain: Chain) -> None:
    suite = deploy_suite(chain)
    trader = chain.accounts[1].address
    suite.fund(trader, usdc=10**12, weth=10**21)
    for token in (suite.usdc, suite.weth, suite.dai):
        token.approve(suite.composer.address, MAX, sender=trader)
    params = [10_000 * 10**6, 0, 10**18 // 2, MAX, 3 * 10**18 // 2, MAX]
    run = suite.composer.run
    full = run.transact(params, sender=trader)
    assert full.status
    with pytest.raises(TransactionReverted):  # a deadline in the past
        run.transact([*params[:5], 0], sender=trader)
    # out of gas at many depths: inside the swap, the loan, the flash mint, the vault...
    for step in range(1, 12):
        gas = 60_000 + full.gas_used * step // 12
        with contextlib.suppress(TransactionReverted):  # compared below, receipt by receipt
            run.transact(params, sender=trader, gas=gas)
    chain.mine()


@pytest.mark.usefixtures("reference")
def test_suite_deployment_and_composer_runs_match() -> None:
    fast = _compare(_suite_workload)
    failed = [r for block in fast.blocks for r in block.receipts if not r.status]
    # the deadline revert and the sweep's runs that ran out of gas in some frame
    assert len(failed) >= 6 and len({r.gas_used for r in failed}) >= 6


def _swap_workload(chain: Chain) -> None:
    token0 = chain.deploy(bench_source("BenchToken.vy"), "Token0", "T0", SUPPLY)
    token1 = chain.deploy(bench_source("BenchToken.vy"), "Token1", "T1", SUPPLY)
    pool = chain.deploy(bench_source("BenchPool.vy"), token0.address, token1.address)
    token0.approve(pool.address, MAX)
    token1.approve(pool.address, MAX)
    pool.add_liquidity(10**24, 10**24)
    for i in range(20):
        pool.swap(10**18, i % 2 == 0, 0)
    with reverts("pool: insufficient output"):
        pool.swap(10**18, True, 10**30)


@pytest.mark.usefixtures("reference")
def test_benchmark_swaps_match() -> None:
    _compare(_swap_workload)


# ------------------------------------------------------- inline opcodes, edge cases ---

INLINE = sorted(_INLINE_GAS)
EDGE_VALUES = [0, 1, 2, 31, 32, 255, 256, 2**128, 2**255 - 1, 2**255, 2**255 + 1, MAX - 1, MAX]


@pytest.mark.parametrize("op", INLINE, ids=lambda op: f"0x{op:02x}")
@pytest.mark.usefixtures("blocks")
def test_each_inline_opcode_on_an_empty_stack(pair: Pair, op: int) -> None:
    pair.simulate(bytes([op]) + b"\x00" * 33)


@pytest.mark.parametrize("op", INLINE, ids=lambda op: f"0x{op:02x}")
@pytest.mark.usefixtures("blocks")
def test_each_inline_opcode_out_of_gas(pair: Pair, op: int) -> None:
    code = push(1) * 17 + bytes([op]) + b"\x00" * 33
    full = pair.simulate(code)
    pair.simulate_below(code, b"", full.gas_used)


@pytest.mark.parametrize("op", [op for op in INLINE if op < 0x40 or op in (0x51, 0x52, 0x53)])
@pytest.mark.usefixtures("blocks")
def test_each_inline_opcode_on_edge_values(pair: Pair, op: int) -> None:
    # operands from calldata: a on top, b under it
    code = push(32) + b"\x35\x5f\x35" + bytes([op]) + return_stack(1)
    pair.set_code(CODE_ADDRESS, code)
    for a in EDGE_VALUES:
        for b in (0, 1, 7, 255, 256, 2**255, MAX):
            data = a.to_bytes(32) + b.to_bytes(32)
            stock, fast = pair.both(lambda c, d=data: c.simulate(to=CODE_ADDRESS, data=d))
            assert fast == stock, (a, b)


@pytest.mark.parametrize("op", [0x5F, 0x60, 0x7F, 0x80, 0x8F, 0x58, 0x5A, 0x30, 0x33, 0x36])
@pytest.mark.usefixtures("blocks")
def test_stack_limit(pair: Pair, op: int) -> None:
    fill = b"\x5f" * 1023
    assert not pair.simulate(fill + bytes([op]) + b"\x00" * 32).is_error
    assert pair.simulate(fill + b"\x5f" + bytes([op]) + b"\x00" * 32).error == "FullStack"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (push(4) + b"\x56\x00\x00\x5b", "InvalidJumpDestination"),
        (push(4) + b"\x56\x00\x5b\x00", None),
        (push(4) + b"\x56\x60\x5b\x00", "InvalidInstruction"),  # a JUMPDEST in PUSH data
        (push(MAX) + b"\x56", "InvalidJumpDestination"),
        (push(100) + b"\x56", "InvalidJumpDestination"),  # past the end of the code
        (push(0) + push(100) + b"\x57\x00", None),  # JUMPI not taken: no check
        (push(1) + push(100) + b"\x57\x00", "InvalidJumpDestination"),
        (push(1) + push(6) + b"\x57\x00\x5b\x00", None),
        (b"\x7f\x01\x02", None),  # PUSH32 cut short by the end of the code
        (b"\x7f" + b"\x01" * 31, None),
        (b"\xfe", "InvalidInstruction"),
        (b"\x0c", "InvalidInstruction"),
        (push(2**64) + b"\x51", "OutOfGas"),  # memory expansion past any gas
        (push(1) + push(2**40) + b"\x52", "OutOfGas"),
        (push(1) + push(2**255) + b"\x53", "OutOfGas"),
        (push(0xABCD) + push(33) + b"\x53" + push(2000) + b"\x51" + return_stack(1), None),
        (b"\x5f\x35\x60\x1f\x35\x60\x64\x35" + return_stack(3), None),  # CALLDATALOAD ends
        (b"\x58\x5a\x58" + return_stack(3), None),  # PC and GAS
        (b"\x41\x80\x01" + return_stack(1), None),  # a py-evm push (bytes) then inline ADD
        (push(1) + push(0) + b"\x55\x5f\x54\x5f\x5d\x5f\x5c" + return_stack(1), None),
        (push(10) + push(3) + b"\x0a\x33\x80\x18" + return_stack(2), None),  # EXP, CALLER
        # SHA3: empty input anywhere, expansion to an odd size, a range past memory
        (push(0) + push(MAX) + b"\x20" + return_stack(1), None),
        (push(0xAB) + push(7) + b"\x52" + push(33) + push(5) + b"\x20" + return_stack(1), None),
        (push(2**32) + push(0) + b"\x20", "OutOfGas"),
        (push(1) + push(MAX) + b"\x20", "OutOfGas"),
        # CODECOPY: past the end of the code (zero padding), nothing at a huge offset
        (push(64) + push(3) + push(1) + b"\x39" + push(1) + b"\x51" + return_stack(1), None),
        (push(40) + push(2**200) + push(0) + b"\x39" + b"\x59" + return_stack(1), None),
        (push(0) + push(MAX) + push(MAX) + b"\x39" + b"\x59" + return_stack(1), None),
        (push(2**40) + push(0) + push(0) + b"\x39", "OutOfGas"),
        # RETURN: nothing from a huge offset; a range past memory; RETURNDATASIZE at start
        (push(0) + push(MAX) + b"\xf3", None),
        (push(0xCD) + push(0) + b"\x52" + push(70) + push(20) + b"\xf3", None),
        (push(1) + push(2**64) + b"\xf3", "OutOfGas"),
        (b"\x3d" + return_stack(1), None),
        # TLOAD/TSTORE: a value survives within the transaction, 0 reads back as 0
        (
            push(MAX) + push(7) + b"\x5d" + push(7) + b"\x5c" + push(8) + b"\x5c" + return_stack(2),
            None,
        ),
        (push(0) + push(7) + b"\x5d" + push(7) + b"\x5c" + return_stack(1), None),
        # MCOPY: overlapping both ways, nothing from a huge offset, expansion past any gas
        (
            push(0x1122)
            + push(0)
            + b"\x52"
            + push(40)
            + push(0)
            + push(3)
            + b"\x5e"
            + push(0)
            + b"\x51"
            + push(32)
            + b"\x51"
            + return_stack(2),
            None,
        ),
        (
            push(0x1122)
            + push(3)
            + b"\x52"
            + push(40)
            + push(3)
            + push(0)
            + b"\x5e"
            + push(0)
            + b"\x51"
            + return_stack(1),
            None,
        ),
        (push(0) + push(MAX) + push(MAX) + b"\x5e" + b"\x59" + return_stack(1), None),
        (push(1) + push(2**40) + push(0) + b"\x5e", "OutOfGas"),
        # CALLDATACOPY: past the end of the calldata (zero padding), a huge offset, OOG
        (push(64) + push(3) + push(1) + b"\x37" + push(1) + b"\x51" + return_stack(1), None),
        (push(40) + push(2**200) + push(0) + b"\x37" + b"\x59" + return_stack(1), None),
        (push(2**40) + push(0) + push(0) + b"\x37", "OutOfGas"),
        (b"\x42\x42\x01" + return_stack(1), None),  # TIMESTAMP
    ],
    ids=lambda v: v.hex() if isinstance(v, bytes) else str(v),
)
@pytest.mark.usefixtures("blocks")
def test_edge_programs(pair: Pair, code: bytes, error: str | None) -> None:
    result = pair.simulate(code, data=b"\xff" * 33)
    assert result.error == error
    pair.simulate_below(code, b"\xff" * 33, result.gas_used, window=40)


@pytest.mark.usefixtures("blocks")
def test_calls_into_other_code(pair: Pair) -> None:
    # the callee returns two words built inline; the caller reads them back
    callee = push(0xBEEF) + push(MAX) + return_stack(2)
    pair.set_code(CALLEE_ADDRESS, callee)
    call = (
        push(64)
        + push(0)
        + push(0)
        + push(0)
        + push(0)
        + push(int(CALLEE_ADDRESS, 16))
        + b"\x5a\xf1"  # GAS CALL
        + b"\x3d"  # RETURNDATASIZE
        + push(32)
        + b"\x51"
        + return_stack(3)
    )
    result = pair.simulate(call)
    assert not result.is_error and len(result.output) == 96
    for gas in range(21_100, result.gas_used + 200, 97):
        pair.simulate(call, gas=gas)


# ------------------------------------------------------------ storage (SLOAD/SSTORE) ---

STORE_CALLEE = "0x00000000000000000000000000000000c0de0003"
SLOTS = 4


def _store(slot: int, value: int) -> bytes:
    return push(value) + push(slot) + b"\x55"


def _frame_call(opcode: int, address: str) -> bytes:
    """``opcode`` (DELEGATECALL 0xF4 or STATICCALL 0xFA) to ``address`` with all gas."""
    return push(0) * 4 + push(int(address, 16)) + b"\x5a" + bytes([opcode])


#: The callee run by DELEGATECALL (on the caller's storage) or STATICCALL: it writes
#: slots 0 and 1, reads slot 2, then reverts if calldata is empty (always, here) only when
#: its first storage slot is odd, so some frames commit and some roll back.
_CALLEE = (
    _store(0, 7)
    + _store(1, 0)
    + push(2)
    + b"\x54"
    + b"\x50"
    + push(0)
    + b"\x54"
    + push(1)
    + b"\x16"
    + push(0x1F)  # jump over the REVERT when slot 0 is even
    + b"\x57"
    + push(0)
    + push(0)
    + b"\xfd"
).ljust(0x1F, b"\x00") + b"\x5b\x00"


@st.composite
def storage_programs(draw: st.DrawFn) -> bytes:
    """SSTOREs and SLOADs over a few slots, with inner frames that commit or revert."""
    code = b""
    depth = 0
    for _ in range(draw(st.integers(1, 16))):
        kind = draw(st.sampled_from(["store", "store", "load", "delegate", "static"]))
        if kind == "store":
            code += _store(draw(st.integers(0, SLOTS - 1)), draw(st.sampled_from([0, 1, 2, 7])))
        elif kind == "load":
            code += push(draw(st.integers(0, SLOTS - 1))) + b"\x54"
            depth += 1
        else:
            code += _frame_call(0xF4 if kind == "delegate" else 0xFA, STORE_CALLEE)
            depth += 1  # the success flag
    return code + return_stack(min(depth, 40))


@given(
    code=storage_programs(),
    initial=st.lists(st.sampled_from([0, 1, 2, 7]), min_size=SLOTS, max_size=SLOTS),
    cut=st.integers(0, 100),
    after=st.sampled_from([AT_ONCE, NEVER]),
)
def test_storage_programs_match(
    pair: Pair, code: bytes, initial: list[int], cut: int, after: int
) -> None:
    # committed values are the "original" ones of EIP-2200; every transition is exercised
    pair.set_code(STORE_CALLEE, _CALLEE)
    for chain in (pair.stock, pair.fast):
        for slot, value in enumerate(initial):
            chain.set_storage_at(CODE_ADDRESS, slot, value)
    with compiling(after):
        full = pair.simulate(code)
        note(f"gas used {full.gas_used}, refund {full.gas_refund}")
        pair.simulate(code, gas=21_000 + (full.gas_used - 21_000) * cut // 100)


@pytest.mark.parametrize(
    ("original", "current", "new"),
    [(o, c, n) for o in (0, 1, 2) for c in (0, 1, 2) for n in (0, 1, 2)],
)
@pytest.mark.usefixtures("blocks")
def test_sstore_transitions(pair: Pair, original: int, current: int, new: int) -> None:
    # every (original, current, new) of EIP-2200, cold and warm, refunds compared
    pair.set_code(STORE_CALLEE, _CALLEE)
    for chain in (pair.stock, pair.fast):
        chain.set_storage_at(CODE_ADDRESS, 3, original)
    code = _store(3, current) + _store(3, new) + push(3) + b"\x54" + return_stack(1)
    result = pair.simulate(code)
    assert result.output[-32:] == new.to_bytes(32)
    # out of gas at the last charges exactly, and on a grid through every earlier one
    pair.simulate_below(code, b"", result.gas_used, window=12)
    for gas in range(21_000, result.gas_used, 211):
        pair.simulate(code, gas=gas)


def test_sstore_needs_more_than_the_stipend(pair: Pair) -> None:
    # A CALL with little gas: the callee's SSTORE fails with <= 2300 left (EIP-2200) even
    # though this one (a no-op write, cold: 2200) would fit. Its two PUSH0s cost 4, so
    # 2304 leaves exactly 2300 at the SSTORE.
    pair.set_code(STORE_CALLEE, _store(0, 0))
    flags = []
    for gas in (2300, 2303, 2304, 2305, 2306, 25_000):
        call = push(0) * 5 + push(int(STORE_CALLEE, 16)) + push(gas) + b"\xf1"
        flags.append(pair.simulate(call + return_stack(1)).output[-1])
    assert flags == [0, 0, 0, 1, 1, 1]


def test_chains_run_py_evm_opcodes_even_after_titanoboa_patched_them() -> None:
    import boa
    from eth.vm.forks.prague.computation import PragueComputation
    from eth.vm.logic.sha3 import sha3

    boa.Env()  # wraps SHA3 and SSTORE in py-evm's shared table, in place, once more
    assert type(PragueComputation.opcodes[0x20]).__module__.startswith("boa")
    assert pristine_opcodes()[0x20].logic_fn is sha3
    assert pristine_opcodes()[0x55].logic_fn is StockComputation.opcodes[0x55].logic_fn
    assert FastComputation.opcodes is StockComputation.opcodes
    assert StockComputation.opcodes is not PragueComputation.opcodes
    assert StockComputation.opcodes[0x20].logic_fn is sha3


@pytest.mark.parametrize("loop", ["fast", "py-evm"])
def test_selfdestruct_runs_under_warnings_as_errors(loop: str) -> None:
    # py-evm wraps SELFDESTRUCT in a DeprecationWarning; under -W error (this suite's
    # setting, and a protocol team's) that was an exception mid-transaction, which a
    # devnet server answered with -32603. The chains run the opcode unwrapped.
    chain = Chain(config=ChainConfig(chain_id=31337, interpreter=loop))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = chain.simulate(to=None, data=bytes.fromhex("6000ff"))  # PUSH1 0 SELFDESTRUCT
    assert not result.is_error
    assert result.gas_used > 21_000 + 32_000


def test_analysis_decodes_push_data_and_jumpdests() -> None:
    analysis = analyse_code(b"\x61\x5b\x5b\x5b\x7f\x01")
    assert analysis.jumpdests == frozenset({3})
    assert analysis.push_values[0] == 0x5B5B
    assert analysis.push_values[4] == 0x01 << 248  # cut short: zero-padded on the right


# ------------------------------------------------------------- generated programs ---

# (opcode, pops, pushes): inline opcodes and a few py-evm ones mixed in
_OPS = [(op, 2, 1) for op in (0x01, 0x02, 0x03, 0x04, 0x06, 0x0B, 0x10, 0x11, 0x12, 0x13, 0x14)] + [
    *[(op, 2, 1) for op in (0x16, 0x17, 0x18, 0x1A, 0x1B, 0x1C, 0x1D)],
    *[(op, 2, 1) for op in (0x05, 0x07, 0x0A)],  # py-evm: SDIV, SMOD, EXP
    (0x08, 3, 1),  # py-evm: ADDMOD
    (0x15, 1, 1),
    (0x19, 1, 1),
    (0x50, 1, 0),
    (0x35, 1, 1),
    (0x33, 0, 1),
    (0x34, 0, 1),
    (0x36, 0, 1),
    (0x58, 0, 1),
    (0x5A, 0, 1),
    (0x41, 0, 1),  # py-evm: COINBASE (pushes bytes)
    (0x59, 0, 1),  # py-evm: MSIZE
    (0x20, 2, 1),  # SHA3 (mostly out of gas on these operands, compared all the same)
    (0x3D, 0, 1),
    (0x54, 1, 1),
    (0x55, 2, 0),
]


@st.composite
def programs(draw: st.DrawFn) -> bytes:
    """Straight-line programs over the inline opcodes; the final stack is returned."""
    code = b""
    depth = 0
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["push", "op", "dup", "swap", "mem"]))
        if kind == "push" or depth < 3:
            code += push(draw(st.sampled_from(EDGE_VALUES) | st.integers(0, MAX)))
            depth += 1
        elif kind == "dup":
            code += bytes([0x80 + draw(st.integers(0, min(depth, 16) - 1))])
            depth += 1
        elif kind == "swap":
            code += bytes([0x90 + draw(st.integers(0, min(depth - 1, 16) - 1))])
        elif kind == "mem":
            offset = draw(st.integers(0, 4096))
            code += push(offset) + (b"\x52" if draw(st.booleans()) else b"\x53")
            depth -= 1
            code += push(draw(st.integers(0, 4096))) + b"\x51"
            depth += 1
        else:
            op, pops, pushes = draw(st.sampled_from(_OPS))
            code += bytes([op])
            depth += pushes - pops
    return code + return_stack(min(depth, 40))


@given(
    code=programs(),
    data=st.binary(max_size=80),
    cut=st.integers(0, 100),
    after=st.sampled_from([AT_ONCE, NEVER]),
)
def test_generated_programs_match(
    pair: Pair, code: bytes, data: bytes, cut: int, after: int
) -> None:
    with compiling(after):
        full = pair.simulate(code, data=data)
        note(f"gas used {full.gas_used}")
        intrinsic = 21_000 + sum(4 if b == 0 else 16 for b in data)
        pair.simulate(code, data=data, gas=intrinsic + (full.gas_used - intrinsic) * cut // 100)


@given(
    code=st.binary(min_size=1, max_size=96),
    data=st.binary(max_size=40),
    after=st.sampled_from([AT_ONCE, NEVER]),
)
def test_random_bytes_match(pair: Pair, code: bytes, data: bytes, after: int) -> None:
    with compiling(after):
        full = pair.simulate(code, data=data, gas=200_000)
        intrinsic = 21_000 + sum(4 if b == 0 else 16 for b in data)
        pair.simulate(code, data=data, gas=max(intrinsic, full.gas_used - 3))


# ------------------------------------------------------------- compiled blocks ---


def _segment(draw: st.DrawFn, depth: int) -> tuple[bytes, int]:
    """Straight-line code over the block opcodes (some py-evm ones mixed in), stack-aware."""
    code = b""
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["push", "op", "dup", "swap", "mem", "gas", "pop"]))
        if kind == "push" or depth < 3:
            code += push(draw(st.sampled_from(EDGE_VALUES) | st.integers(0, 2**16)))
            depth += 1
        elif kind == "dup":
            code += bytes([0x80 + draw(st.integers(0, min(depth, 16) - 1))])
            depth += 1
        elif kind == "swap":
            code += bytes([0x90 + draw(st.integers(0, min(depth - 1, 16) - 1))])
        elif kind == "mem":
            offset = draw(st.sampled_from([0, 32, 64, 96, 4096, 30_000]))
            code += push(offset) + draw(st.sampled_from([b"\x52", b"\x53"]))
            depth -= 1
            code += push(draw(st.sampled_from([0, 32, 64, 100, 5000]))) + b"\x51"
            depth += 1
        elif kind == "gas":
            code += draw(st.sampled_from([b"\x5a", b"\x58", b"\x36", b"\x33", b"\x3d"]))
            depth += 1
        elif kind == "pop":
            code += b"\x50"
            depth -= 1
        else:
            op, pops, pushes = draw(st.sampled_from(_OPS))
            code += bytes([op])
            depth += pushes - pops
    return code, depth


@st.composite
def branching_programs(draw: st.DrawFn) -> bytes:
    """Segments headed by a JUMPDEST, joined by JUMPs and JUMPIs to segments (forward and
    back: a loop ends when the gas does) or to invalid places; targets are PUSH2s, so the
    layout is fixed before the targets are known. The stack, at most 40 items, is
    returned at the end."""
    n_segments = draw(st.integers(1, 6))
    bodies = []
    depth = 0
    for _ in range(n_segments):
        body, depth = _segment(draw, depth)
        exit_kind = draw(st.sampled_from(["fall", "jump", "jumpi", "jumpi"]))
        target = draw(st.integers(0, n_segments))  # n_segments: the final segment
        is_bad = draw(st.integers(0, 9)) == 0
        bodies.append((body, exit_kind, target, is_bad))  # a JUMPI tests a DUP1: depth kept
    starts = []
    pc = 0
    for body, exit_kind, _, _ in bodies:
        starts.append(pc)
        pc += 1 + len(body) + {"fall": 0, "jump": 4, "jumpi": 5}[exit_kind]
    starts.append(pc)
    code = b""
    for body, exit_kind, target, is_bad in bodies:
        code += b"\x5b" + body
        dest = starts[target] + (1 if is_bad else 0)
        if exit_kind == "jump":
            code += b"\x61" + dest.to_bytes(2) + b"\x56"
        elif exit_kind == "jumpi":
            code += b"\x80" + b"\x61" + dest.to_bytes(2) + b"\x57"  # DUP1 of the top: condition
    assert len(code) == starts[-1]
    return code + b"\x5b" + return_stack(min(max(depth, 0), 40))


@given(
    code=branching_programs(),
    data=st.binary(max_size=40),
    cut=st.integers(0, 100),
    after=st.sampled_from([AT_ONCE, NEVER]),
)
def test_branching_programs_match(
    pair: Pair, code: bytes, data: bytes, cut: int, after: int
) -> None:
    with compiling(after):
        full = pair.simulate(code, data=data, gas=100_000)
        note(f"gas used {full.gas_used}, error {full.error}")
        intrinsic = 21_000 + sum(4 if b == 0 else 16 for b in data)
        pair.simulate(code, data=data, gas=intrinsic + (full.gas_used - intrinsic) * cut // 100)


@pytest.mark.usefixtures("blocks")
@pytest.mark.parametrize(
    "code",
    [
        # an expansion inside a block that leaves less gas than the block's later opcodes
        push(1) + push(0x400) + b"\x52" + b"\x5f" * 30 + b"\x00",
        # GAS after an expansion and at the block's end; MLOAD of an expanded word
        push(0x400) + b"\x51\x5a" + push(0x800) + b"\x51\x5a" + return_stack(4),
        # a block whose JUMPI condition and target come from the stack it was entered with
        push(1) + push(8) + b"\x5b\x57" + push(0) + b"\x00\x5b\x5a" + return_stack(1),
        # a countdown loop: the same block run again and again, then left
        push(3) + b"\x5b" + push(1) + b"\x90\x03\x80" + push(2) + b"\x57" + return_stack(1),
        # deep DUP and SWAP reading entry items; a constant bad jump ends a block
        push(1) * 17 + b"\x8f\x9f\x01" + return_stack(3),
        push(1) + push(5) + b"\x56",
        push(7) + push(5) + b"\x5b\x56",
    ],
    ids=lambda v: v.hex()[:24],
)
def test_block_edges(pair: Pair, code: bytes) -> None:
    result = pair.simulate(code)
    pair.simulate_below(code, b"", result.gas_used, window=300)


@pytest.mark.usefixtures("blocks")
def test_blocks_at_the_stack_limit(pair: Pair) -> None:
    # a block that grows the stack by two, entered at 1021, 1022 and 1023 items
    for fill in (1021, 1022, 1023):
        code = b"\x5f" * fill + b"\x5b" + push(1) + push(2) + b"\x01\x5f" + b"\x00"
        pair.simulate(code)


def test_every_block_of_the_suite_compiles() -> None:
    # a block is compiled when first reached: compile every block of every deployed
    # contract of the DeFi suite here, so that a path no test takes still compiles
    from chains._codegen import _Code

    chain = _chain("fast")
    suite = deploy_suite(chain)
    compiled = 0
    addresses = {c.address for c in vars(suite).values() if hasattr(c, "address")}
    assert len(addresses) >= 5
    for address in sorted(addresses):
        analysis = analyse_code(bytes(chain.get_code(address)))
        code = _Code(analysis.code, analysis.n, analysis.push_values, analysis.jumpdests)
        for start in block_starts(analysis.code, analysis.n):
            compiled += code.compile(start) is not None
    assert compiled > 1000


def test_block_starts() -> None:
    # the start, a JUMPDEST, after a JUMPI, after an opcode a block cannot hold (SLOAD);
    # not after a JUMP or STOP, not inside PUSH data
    code = b"\x60\x5b\x57\x01\x54\x01\x56\x01\x5b\x00\x01"
    assert block_starts(code, len(code)) == [0, 3, 5, 8]
    assert 0x54 not in BLOCK_GAS and 0x57 in BLOCK_GAS
