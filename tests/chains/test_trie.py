"""The one-pass ordered trie root agrees with py-evm's HexaryTrie."""

from __future__ import annotations

from eth.db.trie import _make_trie_root_and_nodes
from hypothesis import given
from hypothesis import strategies as st

from chains._trie import ordered_trie_root

values = st.lists(st.binary(min_size=1, max_size=120), max_size=300)


@given(values)
def test_ordered_trie_root_matches_py_evm(items: list[bytes]) -> None:
    assert ordered_trie_root(items) == _make_trie_root_and_nodes(tuple(items))[0]


def test_boundary_sizes_match_py_evm() -> None:
    for n in (0, 1, 2, 16, 17, 127, 128, 129, 255, 256, 257):
        items = [bytes([i % 251 + 1]) * (1 + i % 40) for i in range(n)]
        assert ordered_trie_root(items) == _make_trie_root_and_nodes(tuple(items))[0], n
