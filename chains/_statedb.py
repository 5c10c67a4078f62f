"""py-evm's account and storage databases, tuned for a devnet that seals many small blocks.

The state root and every trie node are exactly py-evm's; what changes is bookkeeping a
devnet does not need:

- **No trie pruning.** py-evm builds the account trie and each storage trie with
  ``prune=True``, which re-encodes and re-hashes every node it replaces, only to drop
  nodes from a write batch whose deletions are never applied to the database anyway
  (``commit_to(..., apply_deletes=False)``). Here the tries do not prune: the same nodes
  are written, plus the intermediate ones a block superseded (content-addressed, a few
  kB per block). The account diff is applied straight to the trie instead of through a
  squashing scratch copy.
- **A block's changes written to each trie at once.** py-evm writes a changed slot or
  account into its trie one key at a time, so the nodes above it are decoded, encoded,
  hashed and stored again for every key. Here ``make_state_root`` hands each storage
  trie its block's slot changes, and the account trie its account changes, as one batch
  (``_PlainTrie.update_many``): one descent from the root, each changed node encoded and
  stored once, bottom-up. The trie of a set of keys is unique, so the roots and every
  node reachable from them are the same; the database no longer receives the
  intermediate nodes a key-by-key write leaves behind (nothing reaches them).
- **Caches survive sealing.** ``make_state_root`` empties the account trie's read cache
  (here it is brought up to date with the diff it writes instead); ``AccountDB.persist``
  empties its account cache and drops every per-account storage database (with its read
  cache), so that the next block's witness lists what it reads; the next block then reads
  every account and slot from the trie again. A devnet needs no witnesses: decoded
  accounts and the storage databases are kept, already consistent with the roots just
  written.
- **Trie nodes decoded once.** Trie nodes are content-addressed: the node under a hash,
  and the value under a key of a trie with a given root, never change. A process-wide
  memo keeps decoded nodes by hash and trie reads by (root, key), so after a revert (a
  fresh state over the same roots) or between seals a read is a dict lookup instead of a
  walk that decodes RLP at every level; nodes written at sealing enter the memo as they
  are hashed. Node hashing uses the C Keccak and a plain RLP encoder for nested bytes
  lists (the same bytes as ``rlp.encode``), slot and address keys are hashed once each.
  Callers get a copy of a memoised node (py-trie edits nodes in place). Both memos are
  bounded (emptied when full), so a long-lived process does not grow without limit.
  Decoded accounts are memoised by their RLP the same way (an ``Account`` is immutable),
  and balance and nonce writes build the new ``Account`` directly instead of through
  rlp's ``copy`` (which deep-copies every other field).
- **No witness.** ``persist`` returns an empty witness and forgets the keys it logged
  (the log grew for the life of the chain, and was copied at every seal).
- **Caches survive a rollback.** py-evm's ``discard`` (a reverted call frame, and every
  ``eth_call``/``eth_estimateGas``, which run and roll back) empties the decoded-account
  cache and every touched storage database's read cache, so the next transaction reads
  the same accounts and slots from the tries again. A read cache entry is only wrong
  after a rollback if the rolled-back part changed what it caches: here a storage read
  cache is kept unless the storage's base trie changed in between (a storage wipe rolled
  back, or roots written), and decoded accounts are kept except those written or
  deleted after the checkpoint.

A Chain keeps one live state across blocks; whenever that state could hold discarded
changes (revert, replay, re-timing) the Chain drops it and builds a fresh one from the
database, so these caches never outlive the state they describe.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Iterator
from typing import Any, cast

import rlp
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.db.accesslog import KeyAccessLoggerAtomicDB, KeyAccessLoggerDB
from eth.db.account import AccountDB
from eth.db.atomic import AtomicDB
from eth.db.backends.memory import MemoryDB
from eth.db.batch import BatchDB
from eth.db.cache import CacheDB
from eth.db.diff import DELETED
from eth.db.hash_trie import HashTrie
from eth.db.journal import DELETE_WRAPPED, REVERT_TO_WRAPPED, Journal, JournalDB
from eth.db.storage import CLEAR_COUNT_KEY_NAME, AccountStorageDB, StorageLookup
from eth.db.witness import MetaWitness
from eth.rlp.accounts import Account
from eth.validation import validate_canonical_address, validate_uint64, validate_uint256
from eth.vm.interrupt import MissingBytecode, MissingStorageTrieNode
from eth_utils import to_bytes
from lru import LRU
from trie import HexaryTrie
from trie.constants import BLANK_NODE, BLANK_NODE_HASH
from trie.validation import validate_is_bytes

from chains._interpreter import _keccak
from chains._trie import encode_node

__all__ = ["DevAccountDB", "clear_trie_memo"]

#: Decoded trie nodes by hash, and trie reads by (root hash, key): content-addressed, so
#: valid in any database holding the nodes. Emptied when either passes the limit.
_NODES: dict[bytes, list[Any]] = {}
_READS: dict[tuple[bytes, bytes], bytes] = {}
#: Decoded accounts by their RLP encoding (``Account`` objects are immutable).
_ACCOUNTS: dict[bytes, Account] = {}
_ZERO_COUNT = to_bytes(0)  # a fresh storage database's clear count
_MEMO_LIMIT = 1 << 15  # ~40 MB at most per memo (a branch node is ~1 kB of objects)


def clear_trie_memo() -> None:
    """Empty the node and read memos (they refill on use; nothing observable changes)."""
    _NODES.clear()
    _READS.clear()
    _ACCOUNTS.clear()
    _HP_KEYS.clear()


def _decode_uint(encoded: bytes) -> int:
    """``rlp.decode(encoded, sedes=big_endian_int)`` for a stored slot value (``b""``: 0);
    anything but a canonical short string goes to rlp (its checks, its errors)."""
    if not encoded:
        return 0
    first = encoded[0]
    if first < 0x80:
        if len(encoded) == 1:
            return first
    elif (
        first <= 0xA0
        and len(encoded) == first - 0x7F
        and len(encoded) > 1
        and encoded[1]  # no leading zero
        and (len(encoded) > 2 or encoded[1] >= 0x80)  # a lone byte < 0x80 is unprefixed
    ):
        return int.from_bytes(encoded[1:], "big")
    return int(rlp.decode(encoded, sedes=rlp.sedes.big_endian_int))


def _copy_node(node: list[Any]) -> list[Any]:
    # py-trie edits nodes in place (branch slots, embedded children): hand out copies.
    return [x if x.__class__ is not list else _copy_node(x) for x in node]


@functools.lru_cache(maxsize=1 << 16)
def _slot_key(slot: bytes) -> bytes:
    """The storage trie's key of a slot: keccak of the slot padded to 32 bytes."""
    return _keccak(slot.rjust(32, b"\x00"))


@functools.lru_cache(maxsize=1 << 14)
def _address_key(address: bytes) -> bytes:
    """The account trie's key of an address: its keccak."""
    return _keccak(address)


_new_object = object.__new__


def _account(nonce: int, balance: int, storage_root: bytes, code_hash: bytes) -> Account:
    """``Account(nonce, balance, storage_root, code_hash)`` without rlp's constructor
    (argument merging, a ``setattr`` and an immutability pass per field): the same four
    attributes, set directly; callers pass an int and a 32-byte ``bytes`` as before."""
    account = _new_object(Account)
    account._nonce = nonce
    account._balance = balance
    account._storage_root = storage_root
    account._code_hash = code_hash
    return account


def _encode_account(account: Account) -> bytes:
    """``rlp.encode(account, sedes=Account)``: [nonce, balance, storage root, code hash].

    Kept on the account in rlp's own ``_cached_rlp`` slot (rlp fills it when it decodes or
    encodes an object; the object is immutable): every CALL frame touches its callee,
    which re-writes the same account object, so most encodings are a read of that slot.
    """
    cached = account._cached_rlp
    if cached is not None:
        return cached
    nonce, balance, storage_root, code_hash = account
    if nonce < 0 or balance < 0 or len(storage_root) != 32 or len(code_hash) != 32:
        return bytes(rlp.encode(account, sedes=Account))  # rlp's checks and errors
    fields = [
        nonce.to_bytes((nonce.bit_length() + 7) // 8, "big"),
        balance.to_bytes((balance.bit_length() + 7) // 8, "big"),
        bytes(storage_root),
        bytes(code_hash),
    ]
    encoded = encode_node(fields)
    if encoded not in _ACCOUNTS:
        if len(_ACCOUNTS) >= _MEMO_LIMIT:
            _ACCOUNTS.clear()
        _ACCOUNTS[encoded] = account
    account._cached_rlp = encoded
    return encoded


_PAIRS = tuple((byte >> 4, byte & 0x0F) for byte in range(256))
#: hex-prefixed node keys, decoded: prefix bytes -> (nibbles without terminator, is leaf)
_HP_KEYS: dict[bytes, tuple[tuple[int, ...], bool]] = {}


def _nibbles(key: bytes) -> tuple[int, ...]:
    """py-trie's ``bytes_to_nibbles`` without a generator per byte."""
    return tuple(itertools.chain.from_iterable(map(_PAIRS.__getitem__, key)))


@functools.lru_cache(maxsize=1 << 16)
def _key_nibbles(key: bytes) -> tuple[int, ...]:
    """The nibbles of a trie key (the same slots and accounts change block after block)."""
    return _nibbles(key)


def _hp_decode(prefixed: bytes) -> tuple[tuple[int, ...], bool]:
    """A leaf's or extension's key: (nibbles without terminator, is it a leaf) —
    py-trie's ``extract_key`` and ``is_leaf_node`` in one memoised step."""
    decoded = _HP_KEYS.get(prefixed)
    if decoded is None:
        flag = prefixed[0] >> 4
        nibbles = _nibbles(prefixed)
        decoded = (nibbles[1:] if flag & 1 else nibbles[2:], flag >= 2)
        if len(_HP_KEYS) >= _MEMO_LIMIT:
            _HP_KEYS.clear()
        _HP_KEYS[prefixed] = decoded
    return decoded


def _hp_encode(nibbles: tuple[int, ...], is_leaf: bool) -> bytes:
    """Hex-prefix encoding (py-trie's ``compute_leaf_key`` / ``compute_extension_key``)."""
    flag = 2 if is_leaf else 0
    packed = (flag + 1, *nibbles) if len(nibbles) % 2 else (flag, 0, *nibbles)
    return bytes([packed[i] << 4 | packed[i + 1] for i in range(0, len(packed), 2)])


class _FastJournalDB(JournalDB):
    """py-evm's ``JournalDB`` with its hot paths inlined: reads, writes and membership
    tests go to the journal's dicts directly instead of through three method calls each
    (``JournalDB.__getitem__`` -> ``Journal.__getitem__``, ``BaseDB.__contains__`` ->
    ``hasattr`` -> ``_exists``, ``Journal.__setitem__`` -> ``last_checkpoint``), and a new
    journal starts with its root checkpoint directly (py-evm's ``reset`` -> ``pop_all``
    on an empty journal). Same state, same answers, same errors: everything else is
    py-evm's; ``tests/chains/test_statedb.py`` runs both on random operations."""

    __slots__ = ()

    def __init__(self, wrapped_db: Any) -> None:
        self._wrapped_db = wrapped_db
        journal = self._journal = Journal()
        self.record = journal.record_checkpoint
        self.commit = journal.commit_checkpoint
        journal.record_checkpoint()

    def __getitem__(self, key: bytes) -> bytes:
        journal = self._journal
        value = journal._current_values.get(key)
        if value is None and not journal._ignore_wrapped_db:
            return self._wrapped_db[key]
        if value.__class__ is bytes:
            return value
        return super().__getitem__(key)  # deleted, or wiped: py-evm's KeyError

    def __setitem__(self, key: bytes, value: bytes) -> None:
        journal = self._journal
        data = journal._journal_data
        revert = data[next(reversed(data))]
        current = journal._current_values
        if key not in revert:
            revert[key] = current.get(key, REVERT_TO_WRAPPED)
        current[key] = value

    def __contains__(self, key: Any) -> bool:
        journal = self._journal
        value = journal._current_values.get(key)
        if value is None:
            return not journal._ignore_wrapped_db and key in self._wrapped_db
        return value is not REVERT_TO_WRAPPED and value is not DELETE_WRAPPED


class _PlainTrie(HexaryTrie):
    """A hexary trie that does not prune, squashes changes in place, and reads and
    decodes through the process-wide memos (see the module docstring)."""

    __slots__ = ()

    @contextlib.contextmanager
    def squash_changes(self) -> Iterator[HexaryTrie]:
        # py-evm squashes through a scratch trie (prune=True) to make a multi-key update
        # atomic against missing nodes; every node of a devnet's trie is local.
        yield self

    def get(self, key: bytes) -> bytes:
        memo_key = (self.root_hash, key)
        value = _READS.get(memo_key)
        if value is None:
            value = self._walk(key) if key.__class__ is bytes and len(key) == 32 else None
            if value is None:
                value = super().get(key)
            if len(_READS) >= _MEMO_LIMIT:
                _READS.clear()
            _READS[memo_key] = value
        return value

    def _walk(self, key: bytes) -> bytes | None:
        """py-trie's ``get`` for a 32-byte key (the account and storage tries' keys) on
        the memoised nibbles and decoded nodes, read without copies (nothing here edits
        them); ``None`` where py-trie would raise (a missing or malformed node, a key
        ending inside an extension) so that the caller asks py-trie for its error."""
        nibbles = _key_nibbles(key)
        size = len(nibbles)
        depth = 0
        ref: Any = self.root_hash
        try:
            while True:
                node = ref if ref.__class__ is list else _NODES.get(ref)
                if node is None:
                    node = self.get_node(ref)
                if node == BLANK_NODE:
                    return BLANK_NODE
                if len(node) == 17:
                    if depth == size:
                        return cast(bytes, node[16])
                    ref = node[nibbles[depth]]
                    depth += 1
                elif len(node) == 2:
                    path, is_leaf = _hp_decode(node[0])
                    if is_leaf:
                        return cast(bytes, node[1]) if nibbles[depth:] == path else BLANK_NODE
                    end = depth + len(path)
                    if nibbles[depth:end] != path:
                        return None if end > size else BLANK_NODE  # partial: py-trie's error
                    ref = node[1]
                    depth = end
                else:
                    return None
        except Exception:  # py-trie decides (and raises) for what is unusual
            return None

    # -- writes: py-trie's set path on the helpers above (no pruning, so no pruning hooks) --

    def set(self, key: bytes, value: bytes) -> None:
        validate_is_bytes(key)
        validate_is_bytes(value)
        trie_key = _nibbles(key)
        try:
            root_node = self.get_node(self.root_hash)
            if value == b"":
                new_node = self._delete(root_node, trie_key)
            else:
                new_node = self._set(root_node, trie_key, value)
        except KeyError as exc:
            self._raise_missing_node(exc, key)
        self.root_hash = self._set_raw_node(new_node)

    def _set(self, node: Any, trie_key: Any, value: bytes) -> Any:
        if node == BLANK_NODE:
            return [_hp_encode(trie_key, True), value]
        if node.__class__ is list and len(node) == 17:
            return self._set_branch_node(node, trie_key, value)
        if node.__class__ is list and len(node) == 2:
            return self._set_kv_node(node, trie_key, value)
        return super()._set(node, trie_key, value)  # py-trie's error for a malformed node

    def _set_kv_node(self, node: Any, trie_key: Any, value: bytes) -> Any:
        current_key, is_leaf = _hp_decode(node[0])
        common = 0
        limit = min(len(current_key), len(trie_key))
        while common < limit and current_key[common] == trie_key[common]:
            common += 1
        current_rest = current_key[common:]
        key_rest = trie_key[common:]
        if not current_rest and not key_rest:
            if is_leaf:
                return [node[0], value]
            new_node = self._set(self.get_node(node[1]), key_rest, value)
        elif not current_rest:
            if not is_leaf:
                new_node = self._set(self.get_node(node[1]), key_rest, value)
            else:
                new_node = [BLANK_NODE] * 16 + [node[1]]
                leaf = [_hp_encode(key_rest[1:], True), value]
                new_node[key_rest[0]] = self._persist_node(leaf)
        else:
            new_node = [BLANK_NODE] * 17
            if len(current_rest) == 1 and not is_leaf:
                new_node[current_rest[0]] = node[1]
            else:
                moved = [_hp_encode(current_rest[1:], is_leaf), node[1]]
                new_node[current_rest[0]] = self._persist_node(moved)
            if key_rest:
                leaf = [_hp_encode(key_rest[1:], True), value]
                new_node[key_rest[0]] = self._persist_node(leaf)
            else:
                new_node[-1] = value
        if common:
            return [_hp_encode(current_key[:common], False), self._persist_node(new_node)]
        return new_node

    # -- batched writes: a block's changes to one trie, each changed node encoded once --

    def update_many(self, changes: list[tuple[bytes, bytes]]) -> None:
        """Apply ``changes`` ((key, value) pairs, distinct keys; ``b""`` deletes) at once.

        The trie of a set of keys is unique, so the root is the one ``set`` gives key by
        key; but instead of walking from the root once per key (re-encoding and storing
        the nodes above it every time), the changes are merged in one descent and each
        changed node is encoded, hashed and stored once, bottom-up. The database gets the
        nodes of the new trie (not the intermediate ones a key-by-key write also stores).
        A subtree the changes leave as it was (a key re-written with its value, a missing
        key deleted) is not encoded or stored again: its nodes are already stored.
        """
        if not changes:
            return
        items = sorted((_key_nibbles(key), value) for key, value in changes)
        try:
            root = self._shared_node(self.root_hash)
            new_root = self._update(root, items, 0)
        except KeyError as exc:
            self._raise_missing_node(exc, changes[0][0])
        if new_root is not root:
            self.root_hash = self._set_raw_node(new_root)

    def _shared_node(self, ref: Any) -> Any:
        """``get_node``'s node without its copy: ``_update`` never edits a node in place."""
        node = ref if ref.__class__ is list else _NODES.get(ref)
        return self.get_node(ref) if node is None else node

    def _update(self, node: Any, items: list[tuple[tuple[int, ...], bytes]], depth: int) -> Any:
        """``node`` (at ``depth`` nibbles) with ``items`` applied: sorted (nibbles, value)
        pairs that all pass through it. Returns the new node, decoded, not yet stored —
        or ``node`` itself if nothing under it changed. Nodes are never edited in place
        (they may be the memo's): a changed branch is a copy."""
        fresh: dict[int, Any] = {}  # slot -> new child node, decoded (stored once, at the end)
        value = None  # a new value for the branch's own slot
        if node == BLANK_NODE:
            items = [item for item in items if item[1]]
            if len(items) < 2:
                return [_hp_encode(items[0][0][depth:], True), items[0][1]] if items else node
            first, last = items[0][0], items[-1][0]  # sorted: their prefix is everyone's
            common = depth
            while common < len(first) and common < len(last) and first[common] == last[common]:
                common += 1
            if common > depth:
                return self._prefixed(first[depth:common], self._update(node, items, common))
            branch = [BLANK_NODE] * 17
        elif len(node) == 2:
            path, is_leaf = _hp_decode(node[0])
            end = depth + len(path)
            if is_leaf:
                if len(items) == 1 and items[0][0][depth:] == path:
                    if items[0][1] == node[1]:
                        return node
                    return [node[0], items[0][1]] if items[0][1] else BLANK_NODE
            elif items[0][0][depth:end] == path and items[-1][0][depth:end] == path:
                child = self._shared_node(node[1])
                new_child = self._update(child, items, end)
                return node if new_child is child else self._prefixed(path, new_child)
            # the keys part somewhere on this node's path: open it into a branch
            branch = [BLANK_NODE] * 17
            if not path:
                branch[16] = node[1]
            elif len(path) == 1 and not is_leaf:
                branch[path[0]] = node[1]
            else:
                fresh[path[0]] = [_hp_encode(path[1:], is_leaf), node[1]]
        else:
            branch = node  # copied below if anything under it changes
        start, count = 0, len(items)
        while start < count:
            key = items[start][0]
            if len(key) == depth:  # sorts first among the keys through this node
                if items[start][1] != branch[16]:
                    value = items[start][1]
                start += 1
                continue
            nibble = key[depth]
            stop = start + 1
            while stop < count and items[stop][0][depth] == nibble:
                stop += 1
            if nibble in fresh:
                fresh[nibble] = self._update(fresh[nibble], items[start:stop], depth + 1)
            else:
                child = self._shared_node(branch[nibble])
                new_child = self._update(child, items[start:stop], depth + 1)
                if new_child is not child:
                    fresh[nibble] = new_child
            start = stop
        if branch is node:
            if not fresh and value is None:
                return node
            branch = node[:]
        if value is not None:
            branch[16] = value
        # normalise as py-trie does: a branch keeps two or more entries (children, value)
        for nibble, child in fresh.items():
            branch[nibble] = child
        occupied = [nibble for nibble in range(16) if branch[nibble] != BLANK_NODE]
        if len(occupied) + (branch[16] != BLANK_NODE) >= 2:
            for nibble, child in fresh.items():
                if child != BLANK_NODE:
                    branch[nibble] = self._store_node(child)
            return branch
        if not occupied:
            return [_hp_encode((), True), branch[16]] if branch[16] != BLANK_NODE else BLANK_NODE
        nibble = occupied[0]
        if nibble in fresh:
            return self._prefixed((nibble,), fresh[nibble])
        return self._prefixed((nibble,), self._shared_node(branch[nibble]), branch[nibble])

    def _prefixed(self, path: tuple[int, ...], child: Any, reference: Any = None) -> Any:
        """``child`` under ``path`` more nibbles: a leaf or extension absorbs the path, a
        branch gets an extension (``reference``: the branch's, if already stored)."""
        if child == BLANK_NODE:
            return BLANK_NODE
        if len(child) == 2:
            child_path, is_leaf = _hp_decode(child[0])
            return [_hp_encode(path + child_path, is_leaf), child[1]]
        if reference is None:
            reference = self._store_node(child)
        return [_hp_encode(path, False), reference]

    def _store_node(self, node: list[Any]) -> Any:
        """py-trie's ``_persist_node`` for a new node of ``_update`` (not blank, never
        edited after): embedded if its encoding is short, else stored under its hash and
        memoised as it is (no copy: nothing edits it)."""
        encoded = encode_node(node)
        if len(encoded) < 32:
            return node
        node_hash = _keccak(encoded)
        self.db[node_hash] = encoded
        if node_hash not in _NODES:
            if len(_NODES) >= _MEMO_LIMIT:
                _NODES.clear()
            _NODES[node_hash] = node
        return node_hash

    def get_node(self, node_hash: Any) -> Any:
        if node_hash.__class__ is list:  # an embedded node, already decoded
            return node_hash
        if node_hash in (BLANK_NODE, BLANK_NODE_HASH):
            return BLANK_NODE
        if len(node_hash) < 32:
            return super().get_node(node_hash)
        node = _NODES.get(node_hash)
        if node is None:
            node = super().get_node(node_hash)  # KeyError if missing, as py-trie
            if node.__class__ is not list:
                return node
            if len(_NODES) >= _MEMO_LIMIT:
                _NODES.clear()
            _NODES[node_hash] = _copy_node(node)
            return node
        return _copy_node(node)

    def _create_node_to_db_mapping(self, node: Any) -> tuple[Any, Any]:
        # py-trie's, minus the per-node validation, with the C Keccak and a plain encoder;
        # the hashed node enters the node memo (the next write usually walks it).
        if node == BLANK_NODE:
            return BLANK_NODE, None
        encoded = encode_node(node)
        if len(encoded) < 32:
            return node, None
        node_hash = _keccak(encoded)
        if node.__class__ is list and node_hash not in _NODES:
            if len(_NODES) >= _MEMO_LIMIT:
                _NODES.clear()
            _NODES[node_hash] = _copy_node(node)
        return node_hash, encoded

    def _set_raw_node(self, raw_node: Any) -> bytes:
        key, value = self._node_to_db_mapping(raw_node)
        if key == BLANK_NODE:
            return BLANK_NODE_HASH
        if value is None:  # a root short enough to embed is still stored by its hash
            value = encode_node(key)
            key = _keccak(value)
        self._set_db_value(key, value)
        return key


class _PlainHashTrie(HashTrie):
    """py-evm's account trie view (keys are keccak(address)), each address hashed once."""

    keymap = staticmethod(_address_key)  # type: ignore[assignment]


class _PlainStorageLookup(StorageLookup):
    """py-evm's slot-to-trie lookup on :class:`_PlainTrie` (reads and writes)."""

    def _decode_key(self, key: bytes) -> bytes:
        return _slot_key(bytes(key))

    def _get_read_trie(self) -> HexaryTrie:
        if self._write_trie is not None:
            return self._write_trie
        return _PlainTrie(self._db, root_hash=self._starting_root_hash)

    def __getitem__(self, key: bytes) -> bytes:
        # py-evm's, answered from the trie read memo when it holds the read (a read trie
        # is built per read otherwise)
        write_trie = self._write_trie
        root = self._starting_root_hash if write_trie is None else write_trie.root_hash
        value = _READS.get((root, _slot_key(bytes(key))))
        return super().__getitem__(key) if value is None else value

    def set_many(self, changes: list[tuple[bytes, bytes]]) -> None:
        """Write (slot key, RLP value) pairs (``b""``: delete) to the write trie at once:
        the trie ``__setitem__`` / ``__delitem__`` give slot by slot."""
        trie = cast(_PlainTrie, self._get_write_trie())
        trie.update_many([(_slot_key(key), value) for key, value in changes])

    def _get_write_trie(self) -> HexaryTrie:
        if self._trie_nodes_batch is None:
            self._trie_nodes_batch = BatchDB(self._db, read_through_deletes=True)
        if self._write_trie is None:
            self._write_trie = _PlainTrie(
                self._trie_nodes_batch, root_hash=self._starting_root_hash, prune=False
            )
        return self._write_trie


class _DevStorageDB(AccountStorageDB):
    """py-evm's per-account storage database over :class:`_PlainStorageLookup`."""

    def __init__(self, db: Any, storage_root: bytes, address: bytes) -> None:
        # py-evm's constructor, on the non-pruning lookup (calling it and replacing its
        # layers built every layer twice)
        self._address = cast(Any, address)
        self._storage_lookup = _PlainStorageLookup(db, storage_root, address)  # type: ignore[arg-type]
        self._storage_cache = CacheDB(self._storage_lookup)
        self._locked_changes = _FastJournalDB(self._storage_cache)
        self._journal_storage = _FastJournalDB(self._locked_changes)
        self._accessed_slots: set[int] = set()
        self._clear_count = _FastJournalDB(MemoryDB({CLEAR_COUNT_KEY_NAME: _ZERO_COUNT}))

    def get(self, slot: int, from_journal: bool = True) -> int:
        """py-evm's: the journal, then the locked changes, then the read cache, then the
        trie, each layer's dict read directly (a layer's ``__getitem__`` raises
        ``KeyError`` for a deleted entry, and for any key once the storage was wiped);
        the stored RLP integer decoded directly."""
        self._accessed_slots.add(slot)
        key = slot.to_bytes((slot.bit_length() + 7) // 8 or 1, "big")
        journal = (self._journal_storage if from_journal else self._locked_changes)._journal
        while True:
            value = journal._current_values.get(key)
            if value is not None:
                return _decode_uint(value) if value.__class__ is bytes else 0
            if journal._ignore_wrapped_db:
                return 0
            if journal is self._locked_changes._journal:
                break
            journal = self._locked_changes._journal
        cache = self._storage_cache._cached_values
        encoded = cache.get(key)
        if encoded is None:
            try:
                encoded = self._storage_lookup[key]
            except MissingStorageTrieNode:
                raise
            except KeyError:
                return 0
            cache[key] = encoded
        return _decode_uint(encoded)

    def make_storage_root(self) -> None:
        # py-evm's: lock the changes, then persist them through the read cache into the
        # lookup's trie one slot at a time; here the trie takes them in one batch.
        self.lock_changes()
        changes = self._locked_changes._journal.pop_all()
        cache = self._storage_cache._cached_values
        writes = []
        for key, value in changes.items():
            if value is DELETE_WRAPPED:
                if key in cache:
                    del cache[key]
                writes.append((key, b""))
            elif value is not REVERT_TO_WRAPPED:
                cache[key] = value  # type: ignore[assignment]  # bytes here
                writes.append((key, value))  # type: ignore[arg-type]
        if writes:
            cast(_PlainStorageLookup, self._storage_lookup).set_many(writes)

    def keep_after_persist(self) -> None:
        """Become what a fresh store on the committed root would be, read cache included.

        After ``persist`` the lookup sits on the new root with no pending tries; a fresh
        store would also start its clear counter at zero and log no accessed slots.
        """
        self._clear_count = _FastJournalDB(MemoryDB({CLEAR_COUNT_KEY_NAME: _ZERO_COUNT}))
        self._accessed_slots.clear()
        # A storage wipe that left no writes behind (an empty account touched and deleted
        # under EIP-161, e.g. a precompile called with no value) is not committed, so the
        # lookup still holds the wiped trie for a revert that can no longer happen; drop it,
        # or the next wipe's index would not follow the counter just reset.
        self._storage_lookup._historical_write_tries = []

    def _base_trie(self) -> tuple[Any, ...]:
        """What the read cache mirrors: the lookup's trie and its root, and the clear count."""
        lookup = self._storage_lookup
        write_trie = lookup._write_trie
        return (
            self._clear_count[CLEAR_COUNT_KEY_NAME],
            lookup._starting_root_hash,
            write_trie,
            None if write_trie is None else write_trie.root_hash,
        )

    def discard(self, checkpoint: Any) -> None:
        # py-evm resets the read cache here. It caches reads of the base trie (journal
        # changes sit above it), so it stays valid unless that trie changed since it was
        # filled: a wipe rolled back (clear count) or a new root written (make_storage_root).
        cached = self._storage_cache._cached_values
        before = self._base_trie()
        super().discard(checkpoint)
        if self._base_trie() == before:
            self._storage_cache._cached_values = cached


class DevAccountDB(AccountDB):
    """py-evm's account database without pruning, witnesses or cache flushes at sealing."""

    def __init__(self, db: Any, state_root: Any = BLANK_ROOT_HASH) -> None:
        # py-evm's constructor (the same layers) on a non-pruning trie and the faster
        # journals; calling it and replacing its layers built them twice
        self._raw_store_db = KeyAccessLoggerAtomicDB(db, log_missing_keys=False)
        self._batchdb = BatchDB(self._raw_store_db)
        self._batchtrie = BatchDB(self._raw_store_db, read_through_deletes=True)
        self._journaldb = _FastJournalDB(self._batchdb)
        self._trie = _PlainHashTrie(_PlainTrie(self._batchtrie, state_root, prune=False))  # type: ignore[arg-type]
        self._trie_logger = KeyAccessLoggerDB(self._trie, log_missing_keys=False)
        self._trie_cache = CacheDB(self._trie_logger)
        self._journaltrie = _FastJournalDB(self._trie_cache)
        self._account_cache = LRU(2048)
        self._account_stores = {}
        self._dirty_accounts = set()
        self._root_hash_at_last_persist = state_root
        self._accessed_accounts = set()
        self._accessed_bytecodes = set()
        self._reset_access_counters()
        self._kept: tuple[dict[Any, Any], dict[Any, Any]] = ({}, {})
        # accounts written since the oldest open checkpoint, and where each checkpoint began
        self._written: list[Any] = []
        self._marks: list[tuple[Any, int]] = []
        self._applied_diffs: list[Any] = []

    @property
    def state_root(self) -> Any:
        return cast(Any, self._trie)._db.root_hash  # py-evm's, without the hash trie's __getattr__

    @state_root.setter
    def state_root(self, value: Any) -> None:
        if self._trie.root_hash != value:
            self._trie_cache.reset_cache()
            self._trie.root_hash = value

    def _reset_access_counters(self) -> None:
        # py-evm's journal of warm addresses and slots, as a faster journal
        self._journal_accessed_state = _FastJournalDB(MemoryDB())

    def account_exists(self, address: Any) -> bool:
        if address.__class__ is not bytes or len(address) != 20:
            return super().account_exists(address)
        return self._get_encoded_account(address, from_journal=True) != b""  # type: ignore[arg-type]

    def _get_account(self, address: Any, from_journal: bool = True) -> Account:
        # py-evm's, with decoded accounts memoised by their encoding
        if from_journal:
            cached = self._account_cache.get(address)
            if cached is not None:
                return cached
        encoded = self._get_encoded_account(address, from_journal)
        if encoded:
            account = _ACCOUNTS.get(encoded)
            if account is None:
                account = rlp.decode(encoded, sedes=Account)
                if len(_ACCOUNTS) >= _MEMO_LIMIT:
                    _ACCOUNTS.clear()
                _ACCOUNTS[encoded] = account
        else:
            account = _account(0, 0, BLANK_ROOT_HASH, EMPTY_SHA3)  # ``Account()``
        if from_journal:
            self._account_cache[address] = account
        return account

    # -- reads: py-evm's, for a canonical address (20 bytes, as its validator demands) --

    def get_balance(self, address: Any) -> int:
        if address.__class__ is not bytes or len(address) != 20:
            return super().get_balance(address)  # py-evm's validation error
        return cast(int, self._get_account(address)._balance)

    def get_nonce(self, address: Any) -> int:
        if address.__class__ is not bytes or len(address) != 20:
            return super().get_nonce(address)
        return cast(int, self._get_account(address)._nonce)

    def get_code_hash(self, address: Any) -> Any:
        if address.__class__ is not bytes or len(address) != 20:
            return super().get_code_hash(address)
        return self._get_account(address)._code_hash

    def get_code(self, address: Any) -> bytes:
        if address.__class__ is not bytes or len(address) != 20:
            return super().get_code(address)
        code_hash = self._get_account(address)._code_hash
        if code_hash == EMPTY_SHA3:
            return b""
        try:
            return self._journaldb[code_hash]
        except KeyError:
            raise MissingBytecode(code_hash) from KeyError
        finally:  # py-evm's witness bookkeeping, without its copy of the keys read
            if code_hash in self._raw_store_db._keys_read:
                self._accessed_bytecodes.add(address)  # type: ignore[arg-type]

    def account_has_code_or_nonce(self, address: Any) -> bool:
        if address.__class__ is not bytes or len(address) != 20:
            return super().account_has_code_or_nonce(address)
        account = self._get_account(address)
        return bool(account._nonce != 0 or account._code_hash != EMPTY_SHA3)

    def account_is_empty(self, address: Any) -> bool:
        if address.__class__ is not bytes or len(address) != 20:
            return super().account_is_empty(address)
        account = self._get_account(address)
        return bool(
            account._nonce == 0 and account._code_hash == EMPTY_SHA3 and account._balance == 0
        )

    def touch_account(self, address: Any) -> None:
        if address.__class__ is not bytes or len(address) != 20:
            return super().touch_account(address)
        self._set_account(address, self._get_account(address))

    # -- writes: new accounts built directly (rlp's ``copy`` deep-copies every field) --

    def set_balance(self, address: Any, balance: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(balance, title="Account Balance")
        a = self._get_account(address)
        self._set_account(address, _account(a._nonce, balance, a._storage_root, a._code_hash))

    def set_nonce(self, address: Any, nonce: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint64(nonce, title="Nonce")
        a = self._get_account(address)
        self._set_account(address, _account(nonce, a._balance, a._storage_root, a._code_hash))

    def increment_nonce(self, address: Any) -> None:
        validate_canonical_address(address, title="Storage Address")
        a = self._get_account(address)
        nonce = a._nonce + 1
        validate_uint64(nonce, title="Nonce")
        self._set_account(address, _account(nonce, a._balance, a._storage_root, a._code_hash))

    def _set_storage_root(self, address: Any, new_storage_root: Any) -> None:
        # py-evm's, without rlp's ``copy`` (make_state_root sets each changed root)
        a = self._get_account(address)
        self._set_account(address, _account(a._nonce, a._balance, new_storage_root, a._code_hash))

    def _set_account(self, address: Any, account: Any) -> None:
        # py-evm's, with the encoding built directly (rlp's sedes walk is ~10x slower)
        self._account_cache[address] = account
        self._journaltrie[address] = _encode_account(account)
        if self._marks:
            self._written.append(address)

    def delete_account(self, address: Any) -> None:
        super().delete_account(address)
        if self._marks:
            self._written.append(address)

    def record(self) -> Any:
        checkpoint = super().record()
        self._marks.append((checkpoint, len(self._written)))
        return checkpoint

    def _close(self, checkpoint: Any) -> int | None:
        """Forget ``checkpoint`` and every later one; return where its writes began."""
        for index in range(len(self._marks) - 1, -1, -1):
            if self._marks[index][0] == checkpoint:
                start = self._marks[index][1]
                del self._marks[index:]
                return start
        return None

    def commit(self, checkpoint: Any) -> None:
        super().commit(checkpoint)
        self._close(checkpoint)
        if not self._marks:
            self._written.clear()

    def discard(self, checkpoint: Any) -> None:
        # py-evm empties the decoded-account cache here; only accounts written (or
        # deleted) after the checkpoint can be stale, the others are kept.
        start = self._close(checkpoint)
        kept = dict(self._account_cache.items()) if start is not None else {}
        super().discard(checkpoint)
        if start is None:  # a checkpoint this database did not see open: keep nothing
            self._written.clear()
            self._marks.clear()
            return
        for address in self._written[start:]:
            kept.pop(address, None)
        del self._written[start:]
        for address, account in kept.items():
            self._account_cache[address] = account

    def _apply_account_diff_without_proof(self, diff: Any, trie: Any) -> None:
        # py-evm's deletes, then writes, account by account; here in one batch (the keys
        # are distinct, so the order does not matter)
        changes = [(_address_key(address), b"") for address in diff.deleted_keys()]
        changes += [(_address_key(address), value) for address, value in diff.pending_items()]
        trie._db.update_many(changes)
        self._applied_diffs.append(diff)

    def make_state_root(self) -> Any:
        # py-evm empties the account trie's read cache here; the new trie differs from the
        # one it mirrors only by the diff just applied, so update the cache with that diff.
        cached = self._trie_cache._cached_values
        self._applied_diffs = []
        root = super().make_state_root() if self.logger.show_debug2 else self._make_state_root()
        for diff in self._applied_diffs:
            for address, encoded in diff.pending_items():
                cached[address] = encoded
            for address in diff.deleted_keys():
                if address in cached:
                    del cached[address]
        self._applied_diffs = []
        self._trie_cache._cached_values = cached
        return root

    def _make_state_root(self) -> Any:
        """py-evm's ``make_state_root`` without its debug line per changed storage root
        (an f-string built whether or not debug logging is on), writing the account trie
        directly (its ``squash_changes`` yields the trie itself)."""
        stores = self._account_stores
        dirty = [(address, stores[address]) for address in self._dirty_accounts]
        for _address, store in dirty:
            store.make_storage_root()
        for address, store in dirty:
            if store.has_changed_root:
                storage_root = store.get_changed_root()
                if self.account_exists(address) or storage_root != BLANK_ROOT_HASH:
                    self._set_storage_root(address, storage_root)
        self._journaldb.persist()
        diff = self._journaltrie.diff()
        if diff.deleted_keys() or diff.pending_items():
            self._apply_account_diff_without_proof(diff, self._trie)
        self._journaltrie.reset()
        self._trie_cache.reset_cache()
        return self.state_root

    def _get_address_store(self, address: Any) -> Any:
        store = self._account_stores.get(address)
        if store is None:
            store = _DevStorageDB(self._raw_store_db, self._get_storage_root(address), address)
            self._account_stores[address] = store
        return store

    def _get_meta_witness(self) -> MetaWitness:
        # AccountDB.persist calls this after the roots are written and the storage
        # databases committed, just before it clears its caches: keep them here.
        self._kept = (dict(self._account_cache), dict(self._account_stores))
        return MetaWitness(set(), {})

    def persist(self) -> Any:
        """py-evm's ``persist``: state root, storage and account tries written, caches kept.

        py-evm builds its writes in two atomic batches (``with atomic_batch()``, each a
        context manager over a diff tracker applied at the end) and validates each storage
        database and the journals through diff objects. On an ``AtomicDB`` (the chains'
        database; a batch's commit sets each key on it) the same nodes are set on it
        directly, in the same order: each changed storage trie's nodes, then the account
        trie's, then code; py-evm's checks run as emptiness tests, its own method raising
        where one fails. Anything else, or with debug logging on, goes through py-evm's.
        """
        raw = self._raw_store_db
        target = raw.wrapped_db
        if target.__class__ is not AtomicDB or self.logger.show_debug2:
            return self._persist_through_py_evm()
        self.make_state_root()
        sink = target.wrapped_db  # what AtomicDB's batch commit sets each key on
        stores = cast(dict[Any, _DevStorageDB], self._account_stores)
        dirty = self._dirty_accounts
        for address in dirty:
            store = stores[address]
            lookup = store._storage_lookup
            write_trie = lookup._write_trie
            if write_trie is not None and self._get_account(address)._storage_root != (
                write_trie.root_hash
            ):
                self._validate_flushed_storage(address, store)  # py-evm's error
            if store._journal_storage._journal._current_values:
                store._validate_flushed()  # py-evm's error if anything is left unlocked
            if write_trie is None:
                continue
            root = write_trie.root_hash
            batch = lookup._trie_nodes_batch
            if batch is None:
                lookup.commit_to(sink)  # py-evm's error
            for key, value in batch._track_diff._changes.items():
                if value is not DELETED:  # no deletes applied (``apply_deletes=False``)
                    sink[key] = value  # type: ignore[assignment]  # bytes here
            lookup._initialize_to_root_hash(root)  # type: ignore[arg-type]
        self._dirty_accounts = set()
        self._accessed_accounts = set()
        self._accessed_bytecodes = set()
        for address, store in stores.items():
            if address in dirty:
                store.keep_after_persist()
            else:  # untouched since it was opened or last kept: only reads to forget
                store._accessed_slots.clear()
        if self._journaldb._journal._current_values or self._journaltrie._journal._current_values:
            self._validate_generated_root()
        for batch in (self._batchtrie, self._batchdb):
            for key, value in batch._track_diff._changes.items():
                if value is not DELETED:
                    sink[key] = value  # type: ignore[assignment]  # bytes here
            batch.clear()
        self._root_hash_at_last_persist = self.state_root
        raw._keys_read.clear()
        self._trie_logger._keys_read.clear()
        return MetaWitness(set(), {})

    def _persist_through_py_evm(self) -> Any:
        """py-evm's ``persist``, then the caches it dropped put back (see the module
        docstring)."""
        witness = super().persist()
        accounts, stores = self._kept
        self._kept = ({}, {})
        self._account_cache.update(accounts)
        for address, store in stores.items():
            store.keep_after_persist()
            self._account_stores[address] = store
        self._raw_store_db._keys_read.clear()
        self._trie_logger._keys_read.clear()
        return witness
