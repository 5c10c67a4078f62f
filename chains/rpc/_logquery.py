"""A parsed log filter, shared by ``eth_getLogs``/filters and ``eth_subscribe("logs")``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from eth_utils import to_checksum_address

from chains.rpc._wire import (
    check_object,
    invalid,
    parse_address,
    parse_block_id,
    parse_hash,
)

_MAX_TOPICS: Final = 4
_FILTER_FIELDS: Final = frozenset({"fromBlock", "toBlock", "blockHash", "address", "topics"})


@dataclass(frozen=True, slots=True)
class LogQuery:
    """A parsed log filter: a block range (or one block hash), addresses and topics."""

    from_block: int | str
    to_block: int | str
    block_hash: bytes | None
    addresses: tuple[str, ...] | None
    topics: tuple[bytes | tuple[bytes, ...] | None, ...]


def parse_log_query(value: Any, name: str) -> LogQuery:
    """Parse a log filter object; the message names the bad field."""
    obj = check_object(value, name, _FILTER_FIELDS)
    block_hash = None
    if obj.get("blockHash") is not None:
        if obj.get("fromBlock") is not None or obj.get("toBlock") is not None:
            raise invalid(name, "cannot have both blockHash and fromBlock/toBlock")
        block_hash = parse_hash(obj["blockHash"], f"{name}.blockHash")
    raw = obj.get("fromBlock")
    from_block = (
        "latest" if raw is None else parse_block_id(raw, f"{name}.fromBlock", allow_hash=False)
    )
    raw = obj.get("toBlock")
    to_block = "latest" if raw is None else parse_block_id(raw, f"{name}.toBlock", allow_hash=False)
    assert not isinstance(from_block, bytes) and not isinstance(to_block, bytes)
    addresses = None
    raw = obj.get("address")
    if raw is not None:
        seq = raw if isinstance(raw, list | tuple) else [raw]
        addresses = tuple(to_checksum_address(parse_address(a, f"{name}.address")) for a in seq)
    topics: list[bytes | tuple[bytes, ...] | None] = []
    raw = obj.get("topics")
    if raw is not None:
        if not isinstance(raw, list | tuple):
            raise invalid(f"{name}.topics", "must be a list")
        if len(raw) > _MAX_TOPICS:
            raise invalid(f"{name}.topics", f"has {len(raw)} positions, at most 4")
        for i, item in enumerate(raw):
            where = f"{name}.topics[{i}]"
            if item is None:
                topics.append(None)
            elif isinstance(item, list | tuple):
                options = tuple(
                    parse_hash(t, f"{where}[{j}]") for j, t in enumerate(item) if t is not None
                )
                # an empty or null-containing OR-list matches anything, as in geth
                wildcard = not options or any(t is None for t in item)
                topics.append(None if wildcard else options)
            else:
                topics.append(parse_hash(item, where))
    return LogQuery(from_block, to_block, block_hash, addresses, tuple(topics))


def in_range(number: int, query: LogQuery) -> bool:
    if isinstance(query.from_block, int) and number < query.from_block:
        return False
    return not (isinstance(query.to_block, int) and number > query.to_block)
