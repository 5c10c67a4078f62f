"""Memory expansion: ``FastComputation.extend_memory`` against py-evm's.

The fast loop's expansion is ``BaseComputation.extend_memory`` and ``Memory.extend`` in
one function. Random expansions (start and size from zero to past 2**256, memory of any
length including lengths that are not whole words, gas that runs out at the expansion
or just covers it, a ``memoryview`` holding the buffer) run on both: the same gas left,
the same memory bytes, the same error type; the memory written before survives.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.gas_meter import GasMeter
from eth.vm.memory import Memory
from hypothesis import given, note
from hypothesis import strategies as st

from chains._interpreter import FastComputation

MAX = 2**256 - 1

positions = st.one_of(
    st.integers(0, 4_200),
    st.integers(0, 2**17),
    st.sampled_from([0, 1, 31, 32, 33, 2**32, MAX - 32, MAX - 1, MAX]),
    st.sampled_from([MAX + 1, -1, True, 3.0, None]),
)


def _computation(cls: type, memory: bytes, gas: int) -> Any:
    """A computation with just what ``extend_memory`` reads: its memory and gas meter."""
    computation = cls.__new__(cls)
    computation._memory = Memory()
    computation._memory._bytes = bytearray(memory)
    computation._gas_meter = GasMeter(gas)
    return computation


def _expand(computation: Any, start: Any, size: Any, is_viewed: bool) -> tuple[Any, ...]:
    view = memoryview(computation._memory._bytes) if is_viewed else None
    try:
        computation.extend_memory(start, size)
        error = None
    except Exception as exc:
        error = type(exc)
    finally:
        if view is not None:
            view.release()
    return error, computation._gas_meter.gas_remaining, bytes(computation._memory._bytes)


@given(
    memory=st.one_of(st.binary(max_size=200), st.integers(0, 40).map(lambda w: b"\x07" * 32 * w)),
    start=positions,
    size=positions,
    gas=st.one_of(st.integers(0, 3_000), st.sampled_from([0, 3, 6, 99, 10**9, 10**9])),
    is_viewed=st.booleans(),
)
def test_extend_memory_matches_py_evm(
    memory: bytes, start: Any, size: Any, gas: int, is_viewed: bool
) -> None:
    stock = _expand(_computation(PragueComputation, memory, gas), start, size, is_viewed)
    fast = _expand(_computation(FastComputation, memory, gas), start, size, is_viewed)
    note(f"stock {stock[:2]}, fast {fast[:2]}")
    assert fast == stock


@given(start=st.integers(0, 2**17), size=st.integers(1, 2**17), spare=st.integers(-5, 5))
def test_extend_memory_at_the_exact_gas(start: int, size: int, spare: int) -> None:
    """Gas that covers the expansion to the unit, or falls a few short."""
    probe = _computation(PragueComputation, b"", 10**9)
    probe.extend_memory(start, size)
    gas = max(10**9 - probe._gas_meter.gas_remaining + spare, 0)
    stock = _expand(_computation(PragueComputation, b"", gas), start, size, False)
    fast = _expand(_computation(FastComputation, b"", gas), start, size, False)
    assert fast == stock


def test_extend_memory_charges_and_grows() -> None:
    computation = _computation(FastComputation, b"", 1_000)
    computation.extend_memory(0, 33)  # two words: 2 * 3 + 4 // 512
    assert computation._gas_meter.gas_remaining == 994
    assert bytes(computation._memory._bytes) == bytes(64)
    computation.extend_memory(10, 0)  # nothing for a zero size
    computation.extend_memory(40, 20)  # inside the memory: free
    assert computation._gas_meter.gas_remaining == 994
    assert len(computation._memory._bytes) == 64


@pytest.mark.parametrize("cls", [PragueComputation, FastComputation], ids=["py-evm", "fast"])
def test_extend_memory_with_a_view_on_the_buffer(cls: type) -> None:
    """A ``memoryview`` of the buffer stops it from growing in place: a new buffer."""
    computation = _computation(cls, b"\x01" * 32, 1_000)
    view = memoryview(computation._memory._bytes)
    computation.extend_memory(32, 1)
    assert bytes(computation._memory._bytes) == b"\x01" * 32 + bytes(32)
    assert bytes(view) == b"\x01" * 32  # the old buffer, untouched
    view.release()


def test_extend_memory_out_of_gas() -> None:
    from eth.exceptions import OutOfGas

    computation = _computation(FastComputation, b"", 5)
    with pytest.raises(OutOfGas):
        computation.extend_memory(0, 64)  # 6 gas
    assert computation._gas_meter.gas_remaining == 5
    assert bytes(computation._memory._bytes) == b""
