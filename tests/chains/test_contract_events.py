"""Event decoding: the standard-encoding fast path against eth_abi.

``AbiRegistry.decode_log`` reads a log whose topics are clean words and whose data is the
standard encoding of static words and ``bytes`` directly; anything else goes through
eth_abi (``_decode_event``). These tests give both random event ABIs and logs — encoded
by eth_abi, then often damaged (data cut or extended, a byte changed, the last byte
changed (often padding), a word made a small number (an offset, a length), a dirty or
short topic, a topic too many or too few) — and expect the same event (values and their
types) or the same ``None``.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chains import _contract
from chains._contract import AbiRegistry
from chains._types import Event, Log

_ADDRESS = st.binary(min_size=20, max_size=20).map(to_checksum_address)
_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "uint256": st.integers(0, 2**256 - 1),
    "uint8": st.integers(0, 2**8 - 1),
    "int256": st.integers(-(2**255), 2**255 - 1),
    "int16": st.integers(-(2**15), 2**15 - 1),
    "address": _ADDRESS,
    "bool": st.booleans(),
    "bytes32": st.binary(min_size=32, max_size=32),
    "bytes16": st.binary(min_size=16, max_size=16),  # not read by the fast path
    "bytes": st.binary(max_size=70),
    "string": st.text(max_size=8),
    "uint256[]": st.lists(st.integers(0, 2**256 - 1), max_size=3),
    "address[]": st.lists(_ADDRESS, max_size=3),
}
_DIRTY_WORD = st.one_of(
    st.binary(min_size=32, max_size=32),
    st.integers(0, 2**8).map(lambda n: n.to_bytes(32, "big")),
    st.integers(-(2**63), 2**63).map(lambda n: n.to_bytes(32, "big", signed=True)),
    st.binary(max_size=31),
)


def _reference(registry: AbiRegistry, log: Log) -> Event | None:
    """``decode_log`` through eth_abi only (the path every log took before the fast one)."""
    for item, _ in registry._events.get(log.topics[0], ()):
        event = _contract._decode_event(item, log)
        if event is not None:
            return event
    return None


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        event = fn(*args)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    if event is None:
        return ("none",)
    return ("ok", event, [type(v) for v in event.args.values()])


@st.composite
def _event_and_log(draw: st.DrawFn) -> tuple[AbiRegistry, Log]:
    kinds = draw(st.lists(st.sampled_from(sorted(_VALUES)), max_size=6))
    indexed = [draw(st.booleans()) for _ in kinds]
    while sum(indexed) > 3:
        indexed[indexed.index(True)] = False
    item = {
        "type": "event",
        "anonymous": False,
        "name": "E",
        "inputs": [
            {"name": f"a{i}", "type": k, "indexed": x}
            for i, (k, x) in enumerate(zip(kinds, indexed, strict=True))
        ],
    }
    registry = AbiRegistry()
    registry.register([item])
    values = [draw(_VALUES[k]) for k in kinds]
    topic0 = keccak(text=f"E({','.join(kinds)})")
    topics = [topic0]
    for kind, is_indexed, value in zip(kinds, indexed, values, strict=True):
        if not is_indexed:
            continue
        if kind in ("bytes", "string") or kind.endswith("]"):
            topics.append(draw(st.binary(min_size=32, max_size=32)))  # a hash
        else:
            topics.append(encode([kind], [value]))
    plain = [(k, v) for k, x, v in zip(kinds, indexed, values, strict=True) if not x]
    data = encode([k for k, _ in plain], [v for _, v in plain])
    damage = draw(
        st.sampled_from(["none", "none", "cut", "extend", "byte", "last", "word", "topic", "count"])
    )
    if damage == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif damage == "extend":
        data += draw(st.binary(min_size=1, max_size=40))
    elif damage == "byte" and data:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    elif damage == "last" and data:  # often a tail's padding
        data = data[:-1] + bytes([data[-1] ^ draw(st.integers(1, 255))])
    elif damage == "word" and len(data) >= 32:  # a small number: often an offset or length
        at = 32 * draw(st.integers(0, len(data) // 32 - 1))
        word = draw(st.integers(0, len(data) + 64)).to_bytes(32, "big")
        data = data[:at] + word + data[at + 32 :]
    elif damage == "topic" and len(topics) > 1:
        topics[draw(st.integers(1, len(topics) - 1))] = draw(_DIRTY_WORD)
    elif damage == "count":
        topics = topics[:-1] if len(topics) > 1 and draw(st.booleans()) else [*topics, bytes(32)]
    log = Log(
        address=to_checksum_address("0x" + "12" * 20),
        topics=tuple(topics),
        data=data,
        log_index=3,
        transaction_index=0,
        transaction_hash=bytes(32),
        block_number=1,
    )
    return registry, log


@given(_event_and_log())
@settings(max_examples=600, deadline=None)
def test_decode_log_matches_eth_abi(case: tuple[AbiRegistry, Log]) -> None:
    registry, log = case
    assert _outcome(registry.decode_log, log) == _outcome(_reference, registry, log)


_MESSAGE_SENT = {
    "type": "event",
    "name": "MessageSent",
    "inputs": [
        {"name": "id", "type": "bytes32", "indexed": True},
        {"name": "dest_chain_id", "type": "uint256", "indexed": True},
        {"name": "sender", "type": "address", "indexed": True},
        {"name": "nonce", "type": "uint256", "indexed": False},
        {"name": "target", "type": "address", "indexed": False},
        {"name": "payload", "type": "bytes", "indexed": False},
        {"name": "deadline", "type": "uint256", "indexed": False},
    ],
}
_SENDER, _TARGET = "0x" + "ab" * 20, "0x" + "cd" * 20


def _message_log(data: bytes | None = None) -> Log:
    return Log(
        address=to_checksum_address("0x" + "12" * 20),
        topics=(
            keccak(text="MessageSent(bytes32,uint256,address,uint256,address,bytes,uint256)"),
            b"\x07" * 32,
            encode(["uint256"], [31338]),
            encode(["address"], [_SENDER]),
        ),
        data=encode(["uint256", "address", "bytes", "uint256"], [4, _TARGET, b"hi", 2**255])
        if data is None
        else data,
        log_index=0,
        transaction_index=0,
        transaction_hash=bytes(32),
        block_number=1,
    )


def test_a_standard_message_log_takes_the_fast_path() -> None:
    plan = _contract._EventPlan.from_abi(_MESSAGE_SENT)
    assert plan is not None
    log = _message_log()
    event = _contract._decode_event_fast(plan, log)
    assert event == _contract._decode_event(_MESSAGE_SENT, log)
    assert event is not None and event.args == {
        "id": b"\x07" * 32,
        "dest_chain_id": 31338,
        "sender": to_checksum_address(_SENDER),
        "nonce": 4,
        "target": to_checksum_address(_TARGET),
        "payload": b"hi",
        "deadline": 2**255,
    }


_STANDARD = _message_log().data
_OFFSET = 64  # the payload's head word: its offset


@pytest.mark.parametrize(
    "data",
    [
        _STANDARD[:-1] + b"\x01",  # dirty padding after the payload
        _STANDARD + bytes(32),  # a word after the end
        _STANDARD[:-32],  # cut
        _STANDARD[:_OFFSET] + (160).to_bytes(32, "big") + _STANDARD[_OFFSET + 32 :],  # moved
        _STANDARD[:_OFFSET] + (128).to_bytes(32, "big") + _STANDARD[_OFFSET + 32 :] + bytes(64),
        _STANDARD[:128] + (40).to_bytes(32, "big") + _STANDARD[160:],  # length past the end
    ],
    ids=["dirty-padding", "trailing-word", "cut", "bad-offset", "other-layout", "long-length"],
)
def test_a_non_standard_message_log_goes_to_eth_abi(data: bytes) -> None:
    plan = _contract._EventPlan.from_abi(_MESSAGE_SENT)
    assert plan is not None
    registry = AbiRegistry()
    registry.register([_MESSAGE_SENT])
    log = _message_log(data)
    assert _contract._decode_event_fast(plan, log) is None
    assert _outcome(registry.decode_log, log) == _outcome(_reference, registry, log)


def test_events_with_other_types_have_no_plan() -> None:
    for kind, indexed in [("string", False), ("uint256[]", False), ("bytes16", True)]:
        item = {
            "type": "event",
            "name": "E",
            "inputs": [{"name": "a", "type": kind, "indexed": indexed}],
        }
        assert _contract._EventPlan.from_abi(item) is None
    hashed = {
        "type": "event",
        "name": "E",
        "inputs": [{"name": "a", "type": "string", "indexed": True}],
    }
    assert _contract._EventPlan.from_abi(hashed) is not None  # only its hash, in the topic
