"""Contract handles' ABI coding: the fast paths against eth_abi.

``_Method.encode_args`` and ``decode_output`` code head-only types (uintN, intN, address,
bool, bytes32) by hand when eth_abi would surely accept the value, and ``encode_args``
also ``bytes``, dynamic arrays and tuples of those; these tests give both paths random
types, values and words, valid and not, and expect the same bytes, the same values or the
same error.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_abi.grammar import parse as parse_abi_type
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chains import _contract
from chains._contract import _Method

_TYPES = ["uint256", "uint8", "uint128", "int256", "int8", "int64", "address", "bool", "bytes32"]

_ADDRESS = st.binary(min_size=20, max_size=20)
_VALUE = st.one_of(
    st.integers(-(2**256), 2**257),
    st.booleans(),
    _ADDRESS.map(lambda b: to_checksum_address(b)),
    _ADDRESS.map(lambda b: "0x" + b.hex()),  # lower case: eth_abi takes it too
    _ADDRESS.map(lambda b: "0x" + b.hex().upper()),  # not a checksum: eth_abi refuses
    _ADDRESS,
    st.binary(max_size=40),
    st.text(max_size=3),
    st.none(),
    st.floats(allow_nan=False),
)
_WORD = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**256 - 1).map(lambda n: n.to_bytes(32, "big")),
    st.integers(0, 2**8).map(lambda n: n.to_bytes(32, "big")),
    st.integers(-(2**63), 2**63).map(lambda n: n.to_bytes(32, "big", signed=True)),
    _ADDRESS.map(lambda b: bytes(12) + b),
)


def _method(inputs: list[str], outputs: list[str]) -> _Method:
    abi = {
        "name": "f",
        "type": "function",
        "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(inputs)],
        "outputs": [{"name": "", "type": t} for t in outputs],
        "stateMutability": "view",
    }
    return _Method.from_abi(abi)


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        value = fn(*args)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    values = value if isinstance(value, tuple) else (value,)
    return ("ok", value, [type(v) for v in values])  # bool is not int, str not bytes


def _eth_abi_only(fn: Any, *args: Any) -> Any:
    """``fn`` with the fast paths switched off: eth_abi does all the coding."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_contract, "_static_codec", lambda types: None)
        patch.setattr(_contract, "_abi_nodes", lambda types: None)
        return _outcome(fn, *args)


@given(st.lists(st.tuples(st.sampled_from(_TYPES), _VALUE), min_size=1, max_size=4))
@settings(max_examples=400, deadline=None)
def test_encode_matches_eth_abi(pairs: list[tuple[str, Any]]) -> None:
    method = _method([t for t, _ in pairs], [])
    values = [v for _, v in pairs]
    assert _outcome(method.encode_args, values) == _eth_abi_only(method.encode_args, values)


@given(
    st.lists(st.sampled_from(_TYPES), min_size=1, max_size=4),
    st.lists(_WORD, max_size=5),
    st.binary(max_size=3),
)
@settings(max_examples=400, deadline=None)
def test_decode_matches_eth_abi(types: list[str], words: list[bytes], tail: bytes) -> None:
    method = _method([], types)
    data = b"".join(words) + tail
    assert _outcome(method.decode_output, data) == _eth_abi_only(method.decode_output, data)


def test_valid_words_take_the_fast_path() -> None:
    method = _method(["uint256", "address"], ["uint256", "address", "bool"])
    holder = "0x" + "ab" * 20
    data = (5).to_bytes(32) + bytes(12) + bytes.fromhex("ab" * 20) + (1).to_bytes(32)
    assert _contract._encode_static(_contract._static_codec(method.inputs), [5, holder])
    assert method.decode_output(data) == (5, to_checksum_address(holder), True)
    assert method.encode_args([5, holder]) == method.selector + encode(
        ["uint256", "address"], [5, holder]
    )


@pytest.mark.parametrize(
    ("kind", "value"),
    [("uint256", -1), ("uint8", 256), ("address", "0xABC"), ("bool", 1), ("int8", 128)],
)
def test_encode_refuses_what_eth_abi_refuses(kind: str, value: Any) -> None:
    with pytest.raises(TypeError, match="bad arguments for f"):
        _method([kind], []).encode_args([value])


# -- dynamic arguments ----------------------------------------------------------------------

_LEAVES = [*_TYPES, "bytes", "string", "bytes16"]


def _types() -> st.SearchStrategy[str]:
    """Type strings: leaves, ``T[]``, ``T[2]`` and tuples, nested a few levels."""
    leaves = st.sampled_from(_LEAVES)
    return leaves | st.recursive(
        leaves,
        lambda inner: st.one_of(
            inner.map(lambda t: t + "[]"),
            inner.map(lambda t: t + "[2]"),
            st.lists(inner, min_size=1, max_size=3).map(lambda ts: f"({','.join(ts)})"),
        ),
        max_leaves=5,
    )


def _valid(kind: str) -> st.SearchStrategy[Any]:
    """Values eth_abi takes for ``kind`` (the fast path's cases), now and then a stray one."""
    stray = _VALUE | st.binary(max_size=40).map(bytearray)
    if kind.endswith("]"):
        inner, _, count = kind[:-1].rpartition("[")
        size = int(count) if count else None
        items = st.lists(
            _valid(inner), min_size=size or 0, max_size=size if size is not None else 3
        )
        return st.one_of(items, items.map(tuple), stray)
    if kind.startswith("("):
        parts = [component.to_type_str() for component in parse_abi_type(kind).components]
        tuples = st.tuples(*(_valid(p) for p in parts))
        return st.one_of(tuples, tuples.map(list), stray)
    valid = {
        "bytes": st.binary(max_size=70),
        "string": st.text(max_size=5),
        "bytes16": st.binary(min_size=16, max_size=16),
        "bytes32": st.binary(min_size=32, max_size=32),
        "bool": st.booleans(),
        "address": _ADDRESS.map(lambda b: to_checksum_address(b)),
    }.get(kind)
    if valid is None:  # (u)intN
        bits = int(kind.lstrip("uint") or 256)
        low = -(2 ** (bits - 1)) if kind.startswith("int") else 0
        valid = st.integers(low, low + 2**bits - 1)
    return st.one_of(valid, valid, stray)


@st.composite
def _call(draw: st.DrawFn) -> tuple[list[str], list[Any]]:
    types = draw(st.lists(_types(), min_size=1, max_size=4))
    return types, [draw(_valid(t)) for t in types]


@given(_call())
@settings(max_examples=400, deadline=None)
def test_encode_dynamic_matches_eth_abi(call: tuple[list[str], list[Any]]) -> None:
    types, values = call
    method = _method(types, [])
    assert _outcome(method.encode_args, values) == _eth_abi_only(method.encode_args, values)


def test_a_batch_of_calls_takes_the_dynamic_path() -> None:
    kind = "(address,bytes,address,uint256,uint256)[]"
    holder = to_checksum_address("0x" + "ab" * 20)
    calls = [(holder, b"\x01" * 40, holder, 5, 0), (holder, b"", holder, 0, 2**255)]
    method = _method([kind, "bytes", "uint256"], [])
    assert _contract._abi_nodes(method.inputs) is not None
    body = _contract._encode_sequence(_contract._abi_nodes(method.inputs), [calls, b"x", 7])
    assert body == encode([kind, "bytes", "uint256"], [calls, b"x", 7])
    assert method.encode_args([calls, b"x", 7]) == method.selector + body
