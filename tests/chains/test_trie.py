"""The one-pass ordered trie root agrees with py-evm's HexaryTrie; the state tries'
memoised trie, node encoder and account encoder agree with py-trie and rlp."""

from __future__ import annotations

import random
from typing import Any

import pytest
import rlp
from eth.db.trie import _make_trie_root_and_nodes
from eth.rlp.accounts import Account
from hypothesis import given
from hypothesis import strategies as st
from trie import HexaryTrie
from trie.constants import BLANK_NODE_HASH

from chains._statedb import _encode_account, _PlainTrie, clear_trie_memo
from chains._trie import encode_node, ordered_trie_root

values = st.lists(st.binary(min_size=1, max_size=120), max_size=300)


@given(values)
def test_ordered_trie_root_matches_py_evm(items: list[bytes]) -> None:
    assert ordered_trie_root(items) == _make_trie_root_and_nodes(tuple(items))[0]


def test_boundary_sizes_match_py_evm() -> None:
    for n in (0, 1, 2, 16, 17, 127, 128, 129, 255, 256, 257):
        items = [bytes([i % 251 + 1]) * (1 + i % 40) for i in range(n)]
        assert ordered_trie_root(items) == _make_trie_root_and_nodes(tuple(items))[0], n


# -- the state tries' memoised trie (chains/_statedb.py) against py-trie -----------------

#: keys of one length per trie (as in the state tries), from a small alphabet so that keys
#: share prefixes and every node shape (extension splits, branch values) occurs
_writes = st.integers(1, 4).flatmap(
    lambda length: st.lists(
        st.tuples(
            st.binary(min_size=length, max_size=length).map(
                lambda b: bytes(x % 5 * 0x11 for x in b)
            ),
            st.sampled_from([b"", b"\x01", b"\x7f", b"\x80", b"x" * 33]),
        ),
        min_size=1,
        max_size=80,
    )
)


@given(_writes, st.booleans())
def test_memoised_trie_matches_py_trie(writes: list[tuple[bytes, bytes]], clear: bool) -> None:
    """Same root after every write and delete, same reads, with the memos warm or emptied
    midway (they are process-wide and content-addressed)."""
    reference, memoised = HexaryTrie({}), _PlainTrie({})
    for i, (key, value) in enumerate(writes):
        reference[key] = value
        memoised[key] = value
        assert memoised.root_hash == reference.root_hash
        if clear and i == len(writes) // 2:
            clear_trie_memo()
        probe = writes[(i * 7) % len(writes)][0]
        assert memoised[probe] == reference[probe]


def test_memoised_trie_32_byte_keys_match_py_trie() -> None:
    rnd = random.Random(7)
    reference, memoised = HexaryTrie({}), _PlainTrie({})
    keys = [rnd.randbytes(32) for _ in range(300)]
    for step in range(1500):
        key = rnd.choice(keys)
        value = rnd.choice([b"", rnd.randbytes(rnd.randint(1, 40))])
        reference[key] = value
        memoised[key] = value
        assert memoised.root_hash == reference.root_hash, step
    assert all(memoised[k] == reference[k] for k in keys)
    # a second trie on the same database reads the same values from any earlier root
    assert _PlainTrie(memoised.db, memoised.root_hash)[keys[0]] == reference[keys[0]]


@given(st.recursive(st.binary(max_size=80), lambda inner: st.lists(inner, max_size=17)))
def test_node_encoding_matches_rlp(node: Any) -> None:
    assert encode_node(node) == rlp.encode(node)


@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**256 - 1),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_account_encoding_matches_rlp(nonce: int, balance: int, root: bytes, code: bytes) -> None:
    account = Account(nonce, balance, root, code)
    assert _encode_account(account) == rlp.encode(account, sedes=Account)


def _nodes(db: dict[bytes, bytes], root: bytes) -> dict[bytes, bytes]:
    """Every node reachable from ``root`` by hash (the root is stored even if short)."""
    found: dict[bytes, bytes] = {}
    pending: list[Any] = [root]
    while pending:
        ref = pending.pop()
        if ref == b"" or ref == BLANK_NODE_HASH:
            continue
        node = ref
        if isinstance(ref, bytes):
            found[ref] = db[ref]
            node = rlp.decode(db[ref])
        if len(node) == 17:
            pending.extend(node[:16])
        elif node[0][0] >> 4 < 2:  # an extension
            pending.append(node[1])
    return found


#: several blocks of writes to one trie, all its keys of one length (as in the state tries)
_blocks = st.integers(1, 4).flatmap(
    lambda length: st.lists(
        st.lists(
            st.tuples(
                st.binary(min_size=length, max_size=length).map(
                    lambda b: bytes(x % 5 * 0x11 for x in b)
                ),
                st.sampled_from([b"", b"\x01", b"\x7f", b"\x80", b"x" * 33]),
            ),
            max_size=40,
        ),
        min_size=1,
        max_size=6,
    )
)


@given(_blocks, st.booleans())
def test_batched_writes_match_py_trie(blocks: list[list[tuple[bytes, bytes]]], clear: bool) -> None:
    """A block's writes and deletes applied at once (``update_many``) against py-trie's
    key by key: the same root after every block, and the same nodes reachable from it."""
    reference, batched = HexaryTrie({}), _PlainTrie({})
    for i, writes in enumerate(blocks):
        changes = dict(writes)  # one value per key (the last), as a block's diff
        for key, value in changes.items():
            reference[key] = value
        if clear and i == len(blocks) // 2:
            clear_trie_memo()
        batched.update_many(list(changes.items()))
        assert batched.root_hash == reference.root_hash
        assert _nodes(batched.db, batched.root_hash) == _nodes(reference.db, reference.root_hash)
        assert all(batched[key] == reference[key] for key in changes)


def test_batched_writes_32_byte_keys_match_py_trie() -> None:
    rnd = random.Random(11)
    reference, batched = HexaryTrie({}), _PlainTrie({})
    keys = [rnd.randbytes(32) for _ in range(400)]
    for block in range(60):
        changes = {
            rnd.choice(keys): rnd.choice([b"", rnd.randbytes(rnd.randint(1, 40))])
            for _ in range(rnd.randint(0, 50))
        }
        for key, value in changes.items():
            reference[key] = value
        batched.update_many(list(changes.items()))
        assert batched.root_hash == reference.root_hash, block
    assert _nodes(batched.db, batched.root_hash) == _nodes(reference.db, reference.root_hash)


#: 32-byte keys sharing long prefixes (few distinct nibbles), so tries get extensions,
#: embedded leaves and branches holding a value
_keys32 = st.binary(min_size=32, max_size=32).map(lambda b: bytes(x % 3 * 0x11 for x in b))


@given(
    st.lists(st.tuples(_keys32, st.sampled_from([b"", b"\x01", b"\x80", b"x" * 40])), max_size=40),
    st.lists(_keys32, max_size=10),
    st.booleans(),
)
def test_trie_reads_match_py_trie(
    writes: list[tuple[bytes, bytes]], probes: list[bytes], clear: bool
) -> None:
    """``_PlainTrie.get``'s own walk (32-byte keys) against py-trie's ``get`` on the same
    database, at every root the writes pass through, for keys present and absent, with
    the read and node memos warm or emptied before each read."""
    db: dict[bytes, bytes] = {}
    writer = _PlainTrie(db)
    for key, value in writes:
        writer[key] = value
        for probe in [key, *probes, *(k for k, _ in writes)]:
            if clear:
                clear_trie_memo()
            expected = HexaryTrie(db, writer.root_hash).get(probe)
            assert _PlainTrie(db, writer.root_hash).get(probe) == expected
            assert _PlainTrie(db, writer.root_hash)._walk(probe) == expected


def test_trie_read_of_a_missing_node_raises_py_tries_error() -> None:
    """A node missing from the database: the walk gives way and py-trie raises."""
    from trie.exceptions import MissingTrieNode

    rnd = random.Random(3)
    db: dict[bytes, bytes] = {}
    trie = _PlainTrie(db)
    keys = [rnd.randbytes(32) for _ in range(50)]
    for key in keys:
        trie[key] = b"v" * 40
    root = trie.root_hash
    clear_trie_memo()
    partial = dict(db)
    del partial[root]
    for reader in (_PlainTrie(partial, root), HexaryTrie(partial, root)):
        with pytest.raises(MissingTrieNode) as error:
            reader.get(keys[0])
        assert error.value.missing_node_hash == root
    assert _PlainTrie(partial, root)._walk(keys[0]) is None


def _rewrite_blocks(rnd: random.Random, keys: list[bytes], blocks: int) -> list[dict[bytes, bytes]]:
    """Blocks of changes to a trie of ``keys``: new values, deletes of present and absent
    keys, and keys re-written with the value they already hold (a touched account, a slot
    set back), so that whole subtrees come out unchanged."""
    current: dict[bytes, bytes] = {}
    out = []
    for _ in range(blocks):
        changes: dict[bytes, bytes] = {}
        for _ in range(rnd.randint(0, 30)):
            key = rnd.choice(keys)
            kind = rnd.random()
            if kind < 0.35 and key in current:
                changes[key] = current[key]  # the same value again
            elif kind < 0.55:
                changes[key] = b""  # a delete, of a present key or an absent one
            else:
                changes[key] = rnd.choice([b"\x01", b"\x80", rnd.randbytes(rnd.randint(1, 80))])
        for key, value in changes.items():
            if value:
                current[key] = value
            else:
                current.pop(key, None)
        out.append(changes)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_batched_writes_store_exactly_the_nodes_of_each_root(seed: int) -> None:
    """``update_many`` on random blocks (32-byte keys with long shared prefixes or none;
    re-writes of unchanged values, deletes that collapse branches, deletes of absent
    keys) against py-trie's key-by-key writes: the same root after every block, and the
    database holds exactly the nodes reachable from the roots it went through — no node
    missing, no node that no root reaches — while the node memo still holds each stored
    node as its encoding says (the batched path hands out memoised nodes uncopied)."""
    from chains._statedb import _NODES

    rnd = random.Random(seed)
    nibbles = [0x00, 0x11, 0xFF] if seed % 2 else list(range(256))
    keys = [bytes(rnd.choice(nibbles) for _ in range(32)) for _ in range(rnd.choice([6, 60]))]
    reference, batched = HexaryTrie({}), _PlainTrie({})
    reachable: dict[bytes, bytes] = {}
    for block, changes in enumerate(_rewrite_blocks(rnd, keys, 40)):
        if block % 13 == 7:
            clear_trie_memo()
        for key, value in changes.items():
            reference[key] = value
        batched.update_many(list(changes.items()))
        assert batched.root_hash == reference.root_hash, block
        reachable.update(_nodes(reference.db, reference.root_hash))
        assert batched.db == reachable, block
        assert all(batched[key] == reference[key] for key in keys)
        for node_hash, node in list(_NODES.items()):
            if node_hash in batched.db:
                assert encode_node(node) == batched.db[node_hash]
