"""Root of an ordered Merkle-Patricia trie (transactions, receipts) computed in one pass.

py-evm builds these roots by inserting every item into a ``HexaryTrie`` backed by a dict,
which costs a few hundred microseconds per item. The keys of an ordered trie are
``rlp(index)``, all known up front, so the root can be computed bottom-up from the sorted
keys with no intermediate database: the same node encodings, the same hashes, once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import rlp
from eth_utils import keccak

from chains._interpreter import _keccak

__all__ = ["BLANK_ROOT", "encode_node", "ordered_trie_root"]

BLANK_ROOT = keccak(rlp.encode(b""))


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((offset + 55 + len(size),)) + size


_SHORT_STRING = [bytes((0x80 + n,)) for n in range(56)]
_SHORT_LIST = [bytes((0xC0 + n,)) for n in range(56)]


def encode_node(item: Any) -> bytes:
    """RLP of a trie node: nested lists of ``bytes`` (``rlp.encode``'s bytes, without its
    per-item sedes and ``Sequence`` checks; ``tests/chains/test_statedb.py`` compares)."""
    kind = item.__class__
    if kind is bytes:
        if len(item) == 1 and item[0] < 0x80:
            return item
        return _length_prefix(len(item), 0x80) + item
    if kind is list:
        parts = []
        for child in item:  # byte strings inline: a branch node has 17 children
            if child.__class__ is bytes:
                size = len(child)
                if size == 1 and child[0] < 0x80:
                    parts.append(child)
                elif size < 56:
                    parts.append(_SHORT_STRING[size] + child)
                else:
                    parts.append(_length_prefix(size, 0x80) + child)
            else:
                parts.append(encode_node(child))
        payload = b"".join(parts)
        size = len(payload)
        return (_SHORT_LIST[size] if size < 56 else _length_prefix(size, 0xC0)) + payload
    return bytes(rlp.codec.encode_raw(item))  # anything else (bytearray, tuples): rlp's way


def _nibbles(key: bytes) -> tuple[int, ...]:
    out: list[int] = []
    for byte in key:
        out.append(byte >> 4)
        out.append(byte & 0x0F)
    return tuple(out)


def _hex_prefix(nibbles: Sequence[int], *, is_leaf: bool) -> bytes:
    """Hex-prefix encoding (Yellow Paper, appendix C)."""
    flag = 2 if is_leaf else 0
    if len(nibbles) % 2:
        packed = [flag + 1, *nibbles]
    else:
        packed = [flag, 0, *nibbles]
    return bytes(packed[i] << 4 | packed[i + 1] for i in range(0, len(packed), 2))


@functools.lru_cache(maxsize=4096)
def _index_key(index: int) -> tuple[int, ...]:
    """The nibbles of an ordered trie's key ``rlp(index)``."""
    return _nibbles(rlp.encode(index))


def _reference(node: Any) -> Any:
    """A child is embedded when its encoding is shorter than 32 bytes, else its hash."""
    encoded = encode_node(node)
    return node if len(encoded) < 32 else _keccak(encoded)


def _build(items: Sequence[tuple[tuple[int, ...], bytes]], depth: int) -> Any:
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], is_leaf=True), value]
    first = items[0][0]
    shortest = min(len(k) for k, _ in items)
    common = depth
    while common < shortest and all(k[common] == first[common] for k, _ in items):
        common += 1
    if common > depth:
        child = _build(items, common)
        return [_hex_prefix(first[depth:common], is_leaf=False), _reference(child)]
    branch: list[Any] = [b""] * 17
    start = 0
    while start < len(items):
        key = items[start][0]
        if len(key) == depth:  # a key ending here stores its value in the branch
            branch[16] = items[start][1]
            start += 1
            continue
        nibble = key[depth]
        end = start
        while end < len(items) and len(items[end][0]) > depth and items[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_build(items[start:end], depth + 1))
        start = end
    return branch


def ordered_trie_root(values: Sequence[bytes]) -> bytes:
    """Root hash of the trie mapping ``rlp(i)`` to ``values[i]``."""
    if not values:
        return BLANK_ROOT
    items = sorted((_index_key(i), bytes(v)) for i, v in enumerate(values))
    return _keccak(encode_node(_build(items, 0)))
