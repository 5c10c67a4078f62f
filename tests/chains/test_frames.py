"""Call frames on the fast loop (``chains._frames``) against py-evm's own call path.

The fast loop opens CALL, CALLCODE, DELEGATECALL and STATICCALL frames through its own
mirror of py-evm's ``BaseCall.__call__`` -> ``apply_message``; the stock chain runs
py-evm's opcode classes. Random call trees — four contracts calling each other (each only
the ones after it, so trees stay shallow), precompiles, empty and funded accounts,
EIP-7702 delegations (to code, to a precompile, to another delegation), value transfers
that succeed or exceed the balance, static contexts that write, reverts, invalid opcodes
and out-of-gas at each point — are sent as transactions on both chains: every receipt
(status, gas, output, error type, logs) and the blocks' state and receipts roots
must match, and so must the same calls as reads.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import eth
import pytest
from eth import constants
from hypothesis import given, note
from hypothesis import strategies as st
from testing_helpers import push

import chains._frames as frames
import chains._interpreter as interpreter
from chains import Chain, Devnet, Receipt, TransactionReverted
from chains._frames import frame_table
from chains._interpreter import FastComputation, StockComputation

MAX = 2**256 - 1
CONTRACTS = [0xC0DE1000 + i for i in range(4)]
EMPTY = 0xDEAD0001  # no account
FUNDED = 0xFEED0001  # an account with a balance and no code
DELEGATED = 0xDE1E0001  # EIP-7702: delegates to CONTRACTS[3]
DELEGATED_PRECOMPILE = 0xDE1E0002  # delegates to the identity precompile
DELEGATED_TWICE = 0xDE1E0003  # delegates to DELEGATED (its code is a designation)
PRECOMPILES = [0x01, 0x02, 0x04, 0x05, 0x0B]
OTHERS = [EMPTY, FUNDED, DELEGATED, DELEGATED_PRECOMPILE, DELEGATED_TWICE, *PRECOMPILES]
GAS: list[bytes | int] = [b"\x5a", 0, 100, 2_300, 2_600, 9_000, 40_000, MAX]
VALUES = [0, 0, 1, 10**15, MAX]

pytestmark = pytest.mark.filterwarnings(
    "ignore:SELFDESTRUCT opcode present in computation:DeprecationWarning"
)


def _designation(target: int) -> bytes:
    return b"\xef\x01\x00" + target.to_bytes(20)


def _chain(loop: str) -> Chain:
    return Devnet(n_chains=1, seed=11, interpreter=loop).chains[0]


@st.composite
def calls(draw: st.DrawFn, index: int) -> bytes:
    """One call from contract ``index``: opcode, target, gas, value, memory regions."""
    op = draw(st.sampled_from([0xF1, 0xF1, 0xF2, 0xF4, 0xFA]))
    targets = CONTRACTS[index + 1 :] + OTHERS
    target = draw(st.sampled_from(targets))
    gas = draw(st.sampled_from(GAS))
    in_off, in_size = draw(st.sampled_from([(0, 0), (0, 32), (5, 64), (0, 200), (MAX, 0)]))
    out_off, out_size = draw(st.sampled_from([(0, 0), (0, 32), (64, 96), (31, 1), (2**40, 1)]))
    code = push(out_size) + push(out_off) + push(in_size) + push(in_off)
    if op in (0xF1, 0xF2):
        code += push(draw(st.sampled_from(VALUES)))
    code += push(target) + (gas if isinstance(gas, bytes) else push(gas)) + bytes([op])
    return code


@st.composite
def actions(draw: st.DrawFn, index: int) -> bytes:
    kind = draw(
        st.sampled_from(["call", "call", "call", "call", "store", "tstore", "log", "mstore", "rd"])
    )
    if kind == "call":
        return draw(calls(index)) + push(draw(st.integers(0, 3))) + b"\x55"  # flag -> slot
    if kind == "store":
        return push(draw(st.sampled_from([0, 1, 9]))) + push(draw(st.integers(0, 3))) + b"\x55"
    if kind == "tstore":
        return push(draw(st.sampled_from([0, 5]))) + push(draw(st.integers(0, 1))) + b"\x5d"
    if kind == "log":
        return push(0xAB) + push(32) + push(0) + b"\xa1"
    if kind == "mstore":
        return push(draw(st.integers(0, MAX))) + push(draw(st.sampled_from([0, 32, 64]))) + b"\x52"
    # RETURNDATASIZE, and a RETURNDATACOPY that may run past the return data
    size = draw(st.sampled_from([0, 1, 32]))
    return b"\x3d\x50" + push(size) + push(0) + push(0) + b"\x3e"


@st.composite
def contracts(draw: st.DrawFn, index: int) -> bytes:
    code = b"".join(draw(st.lists(actions(index), min_size=1, max_size=6)))
    code += push(0) + b"\x5c" + push(96) + b"\x52"  # TLOAD 0 into memory: seen by callers
    # the caller's view: its balance and the gas left, returned with the memory
    code += b"\x47" + push(128) + b"\x52" + b"\x5a" + push(160) + b"\x52"  # SELFBALANCE, GAS
    end = draw(st.sampled_from(["return", "return", "return", "stop", "revert", "invalid"]))
    if end == "return":
        return code + push(draw(st.sampled_from([0, 32, 192]))) + push(0) + b"\xf3"
    if end == "revert":
        return code + push(64) + push(96) + b"\xfd"
    return code + (b"\x00" if end == "stop" else b"\xfe")


def _setup(chain: Chain) -> None:
    """The accounts every test calls into (codes of the tree's contracts are per test)."""
    for address in CONTRACTS:
        chain.set_balance(address.to_bytes(20), 10**18)
    chain.set_balance(FUNDED.to_bytes(20), 10**18)
    chain.set_code(DELEGATED.to_bytes(20), _designation(CONTRACTS[3]))
    chain.set_code(DELEGATED_PRECOMPILE.to_bytes(20), _designation(0x04))
    chain.set_code(DELEGATED_TWICE.to_bytes(20), _designation(DELEGATED))


@pytest.fixture(scope="module")
def pair() -> tuple[Chain, Chain]:
    """A stock-loop and a fast-loop chain (automine), same id and seed, accounts set up."""
    chains = _chain("py-evm"), _chain("fast")
    for chain in chains:
        _setup(chain)
    return chains


INTRINSIC = 21_000 + 40 * 16


def _outcome(chain: Chain, gas: int, value: int, send: bool) -> tuple[Any, ...]:
    to = CONTRACTS[0].to_bytes(20)
    sender = chain.accounts[0].address
    read = chain.simulate(to=to, sender=sender, data=b"\x01" * 40, value=value, gas=gas)
    if not send:
        return (read,)
    receipt: Receipt | None
    try:
        receipt = chain.transact(to=to, sender=sender, data=b"\x01" * 40, value=value, gas=gas)
    except TransactionReverted as exc:
        receipt = exc.receipt
    assert receipt is not None
    header = chain.blocks[-1].header
    return (
        read,
        receipt.status,
        receipt.gas_used,
        receipt.output,
        receipt.error,
        receipt.logs,
        # the state root and the receipts root (status, gas, logs)
        header.state_root,
        header.receipt_root,
    )


@contextlib.contextmanager
def _evm_stack() -> Iterator[None]:
    """The recursion limit py-evm sets for 1024 call frames, for the length of a run.

    Hypothesis runs each example under a limit of its own (the caller's depth + 2,000),
    below py-evm's: a tree that recurses a few hundred frames deep (contract 3 calling
    its own delegation) then raised RecursionError on the stock loop, which spends more
    Python frames per call frame than the fast one, and the two outcomes differed for
    that reason alone. The limit is put back before Hypothesis looks at it again."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, eth.EVM_RECURSION_LIMIT))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def _compare(
    pair: tuple[Chain, Chain], codes: list[bytes], gas: int, value: int, send: bool = True
) -> Any:
    """The same codes, read and transaction on both chains, each rolled back after."""
    outcomes = []
    for chain in pair:
        with _evm_stack(), chain.anchor():
            for address, code in zip(CONTRACTS, codes, strict=False):
                chain.set_code(address.to_bytes(20), code)
            outcomes.append(_outcome(chain, gas, value, send))
    stock, fast = outcomes
    assert fast == stock, [code.hex() for code in codes]
    return fast


#: Callees of the fixed grid: one returns its context (CALLER, CALLVALUE, ADDRESS, the
#: call data's first word) after a write (refused under STATICCALL), one reverts with
#: data, one hits an invalid opcode.
_CONTEXT = (
    b"\x33\x5f\x52\x34\x60\x20\x52\x30\x60\x40\x52\x5f\x35\x60\x60\x52"
    + push(1) + push(0) + b"\x55" + push(128) + push(0) + b"\xf3"
)  # fmt: skip
_REVERTS = push(0xFEED) + push(0) + b"\x52" + push(32) + push(0) + b"\xfd"
_INVALID = b"\xfe"
GRID_TARGETS = [*CONTRACTS[1:], *OTHERS]


def _grid_caller(op: int, target: int, gas: bytes, value: int) -> bytes:
    code = push(0x1234) + push(0) + b"\x52"  # call data word
    code += push(96) + push(0) + push(32) + push(0)
    code += push(value) if op in (0xF1, 0xF2) else b""
    code += push(target) + gas + bytes([op])
    # flag, RETURNDATASIZE, GAS, SELFBALANCE after the call, then the output region
    code += push(128) + b"\x52\x3d" + push(160) + b"\x52\x5a" + push(192) + b"\x52"
    return code + b"\x47" + push(224) + b"\x52" + push(256) + push(0) + b"\xf3"


@pytest.mark.parametrize("target", GRID_TARGETS, ids=hex)
@pytest.mark.parametrize("op", [0xF1, 0xF2, 0xF4, 0xFA], ids=hex)
def test_call_grid_matches(pair: tuple[Chain, Chain], op: int, target: int) -> None:
    """Each call opcode into each kind of account, with each value and gas kind, and out
    of gas at the points where the call's own charges fall."""
    callees = [_CONTEXT, _REVERTS, _INVALID]
    values = [0, 1, MAX] if op in (0xF1, 0xF2) else [0]
    sent = 3 if op == 0xF4 else 0  # DELEGATECALL passes on the frame's value
    for value in values:
        for gas in (b"\x5a", push(0), push(2_300), push(30_000)):
            code = _grid_caller(op, target, gas, value)
            used = _compare(pair, [code, *callees], 300_000, sent)[2]
            for cut in (1, 99, 100, 101, 2_600, 2_700, 9_000, 25_000, 34_100):
                if used - cut > INTRINSIC:
                    _compare(pair, [code, *callees], used - cut, sent, send=False)


@given(
    codes=st.tuples(*(contracts(i) for i in range(4))),
    value=st.sampled_from([0, 3]),
    cut=st.integers(1, 100),
    after=st.sampled_from([0, 10**18]),
)
def test_random_call_trees_match(
    pair: tuple[Chain, Chain], codes: tuple[bytes, ...], value: int, cut: int, after: int
) -> None:
    saved = interpreter.COMPILE_AFTER
    interpreter.COMPILE_AFTER = after
    try:
        full = _compare(pair, list(codes), 2_000_000, value)
        used = full[2]
        note(f"gas used {used}")
        # out of gas at some point of the tree: a cut of what the full run used
        _compare(pair, list(codes), INTRINSIC + (used - INTRINSIC) * cut // 100, value)
    finally:
        interpreter.COMPILE_AFTER = saved


def _recursive(op: int, value: int) -> bytes:
    """Calls itself with all gas and ``value``, then stores the flag in slot 0 + depth."""
    code = push(0) * 4 + (push(value) if op in (0xF1, 0xF2) else b"")
    code += b"\x30\x5a" + bytes([op])  # ADDRESS GAS CALL
    return code + b"\x5f\x5c\x01" + b"\x5f\x5d"  # flag + TLOAD 0 -> TSTORE 0 (counts)


@pytest.fixture
def shallow_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A call depth limit of 6 on both paths (py-evm reads its constant at each call)."""
    monkeypatch.setattr(constants, "STACK_DEPTH_LIMIT", 6)
    monkeypatch.setattr(frames, "_DEPTH_LIMIT", 6)
    yield


@pytest.mark.usefixtures("shallow_limit")
@pytest.mark.parametrize("op", [0xF1, 0xF2, 0xF4, 0xFA])
@pytest.mark.parametrize("value", [0, 1])
def test_depth_limit_matches(pair: tuple[Chain, Chain], op: int, value: int) -> None:
    code = _recursive(op, value) + push(0) + b"\x5c" + push(0) + b"\x52" + push(32) + b"\x5f\xf3"
    codes = [code, b"\x00", b"\x00", b"\x00"]
    out = _compare(pair, codes, 3_000_000, 0)
    assert out[1] and out[3]


def test_insufficient_balance_fails_the_call_not_the_frame(pair: tuple[Chain, Chain]) -> None:
    # CALL with more value than the contract holds: the call pushes 0, the frame goes on
    code = push(0) * 4 + push(2 * 10**18) + push(FUNDED) + b"\x5a\xf1"
    code += b"\x3d" + push(32) + b"\x52" + push(0) + b"\x52" + push(64) + b"\x5f\xf3"
    out = _compare(pair, [code, b"\x00", b"\x00", b"\x00"], 200_000, 0)
    assert out[1] and out[3] == bytes(64)


def test_the_fast_loop_uses_the_mirror() -> None:
    table = frame_table(FastComputation, FastComputation.opcodes)
    assert {table[op].__name__ for op in (0xF1, 0xF2, 0xF4, 0xFA)} == {
        "_call",
        "_callcode",
        "_delegatecall",
        "_staticcall",
    }
    assert table[0xF0] is FastComputation.opcodes[0xF0]  # CREATE: py-evm's


def test_a_class_that_changes_the_path_keeps_py_evm_opcodes() -> None:
    class Custom(FastComputation):
        @classmethod
        def apply_message(cls, *args: Any, **kwargs: Any) -> Any:
            return super().apply_message(*args, **kwargs)

    assert frame_table(Custom, Custom.opcodes) is Custom.opcodes
    assert frame_table(StockComputation, {0xF1: object()})[0xF1] is not frames._call
