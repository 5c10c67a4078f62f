"""The devnet's state database against py-evm's own: same roots, same reads, any history.

:mod:`chains._statedb` keeps account and storage caches across sealed blocks and builds
its tries without pruning. Each test runs one workload on a default chain and on the
fully stock reference (``chain_reference.py``) and compares every block hash (state
roots included) and every read, at every block: storage written over many blocks,
snapshots and reverts in between, storage wiped by a create-and-selfdestruct, several
transactions per block, and transactions that revert after writing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import rlp
from chain_reference import ReferenceVM
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth_utils import ValidationError, keccak, to_bytes
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chains import Chain, ChainConfig, Devnet, TransactionReverted
from chains._evm import VM_CLASSES as _VM_CLASSES
from chains._evm import encode_header, encode_receipt, replace_fields

# runtime: SSTORE(calldata[0:32], calldata[32:64]); if calldata[64:96] != 0: REVERT
STORE = bytes.fromhex("60203560003555604035600e57005b5f5ffd")
# initcode: SSTORE(1, 1) then SELFDESTRUCT(CALLER) — created and destroyed in one tx
EPHEMERAL = bytes.fromhex("600160015533ff")


def initcode(runtime: bytes) -> bytes:
    """Creation code that returns ``runtime``."""
    n = len(runtime)
    return bytes([0x60, n, 0x60, 12, 0x5F, 0x39, 0x60, n, 0x5F, 0xF3, 0x00, 0x00]) + runtime


def create2_deployer(init: bytes) -> bytes:
    """Creation code that CREATE2s ``init`` (salt 0) and stores the new address in slot 0.

    CREATE2 wipes the new account's storage first: its storage database then carries a
    clear count, which must not leak into later blocks' reverts.
    """
    n = len(init)
    head = bytes([0x60, n, 0x60, 15, 0x5F, 0x39, 0x5F, 0x60, n, 0x5F, 0x5F, 0xF5, 0x5F, 0x55, 0x00])
    return head + init


def word(value: int) -> bytes:
    return value.to_bytes(32)


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Chain, Chain]]:
    """``pair(mining=...)``: a default chain and a fully stock reference chain, same seed."""
    monkeypatch.setitem(_VM_CLASSES, "py-evm", ReferenceVM)

    def make(**options: Any) -> tuple[Chain, Chain]:
        return tuple(  # type: ignore[return-value]
            Devnet(n_chains=1, seed=3, interpreter=interpreter, **options).chains[0]
            for interpreter in ("fast", "py-evm")
        )

    return make


def _store(chain: Chain, address: str, slot: int, value: int, *, fail: bool = False) -> None:
    data = word(slot) + word(value) + word(int(fail))
    if fail:
        with pytest.raises(TransactionReverted):
            chain.transact(to=address, data=data)
    else:
        chain.transact(to=address, data=data)


def _history(chain: Chain, address: str, slots: range) -> list[Any]:
    return [
        (block.hash, [chain.get_storage_at(address, s, block=block.number) for s in slots])
        for block in chain.blocks
    ]


def _workload(chain: Chain) -> str:
    deployer = chain.transact(to=None, data=create2_deployer(initcode(STORE))).contract_address
    assert deployer is not None
    address = "0x" + chain.get_storage_at(deployer, 0).to_bytes(20).hex()
    assert chain.get_code(address) == STORE
    for i in range(6):
        _store(chain, address, i % 3, 100 + i)
    # reverted writes to storage created and cached in earlier blocks
    _store(chain, address, 0, 1, fail=True)
    sid = chain.snapshot()
    _store(chain, address, 0, 999)
    _store(chain, address, 7, 7)
    chain.revert(sid)
    _store(chain, address, 1, 0)  # clear a slot
    _store(chain, address, 2, 5, fail=True)  # written, then reverted in the same tx
    for _ in range(2):
        chain.transact(to=None, data=EPHEMERAL)
    chain.set_storage_at(address, 4, 44)
    sid = chain.snapshot()
    chain.set_storage_at(address, 4, 45)
    _store(chain, address, 5, 55)
    chain.revert(sid)
    _store(chain, address, 6, 66)
    chain.mine()
    return address


# py-evm warns that SELFDESTRUCT is deprecated; the workload uses it on purpose
@pytest.mark.filterwarnings("ignore:SELFDESTRUCT opcode:DeprecationWarning")
@pytest.mark.parametrize("mining", ["auto", "manual"])
def test_history_matches_py_evm(pair: Callable[..., tuple[Chain, Chain]], mining: str) -> None:
    fast, reference = pair(mining=mining)
    histories = []
    for chain in (fast, reference):
        address = _workload(chain)
        histories.append(_history(chain, address, range(8)))
    assert histories[0] == histories[1]
    latest = histories[0][-1][1]
    assert latest == [103, 0, 105, 0, 44, 0, 66, 0]


def test_interval_blocks_with_many_transactions_match(
    pair: Callable[..., tuple[Chain, Chain]],
) -> None:
    fast, reference = pair(mining="interval", block_time=2)
    histories = []
    for chain in (fast, reference):
        address = chain.deploy_bytecode(initcode(STORE), []).address
        chain.clock.advance(2)
        for i in range(40):
            _store(chain, address, i % 5, i)
            if i % 7 == 6:
                chain.clock.advance(2)
        _store(chain, address, 3, 1, fail=True)
        chain.clock.advance(2)
        histories.append(_history(chain, address, range(5)))
    assert histories[0] == histories[1]
    assert len(histories[0]) > 5


@pytest.mark.parametrize("mining", ["auto", "manual"])
def test_touched_empty_account_in_successive_blocks(
    pair: Callable[..., tuple[Chain, Chain]], mining: str
) -> None:
    """An empty account touched with no value (the ecrecover precompile, as attestation
    checks do) is deleted under EIP-161 at every touch, block after block: the kept
    storage database must not carry the previous block's wipe into the next one."""
    histories = []
    for chain in pair(mining=mining):
        for _ in range(3):
            chain.transact(to="0x0000000000000000000000000000000000000001", data=b"\x00" * 128)
            chain.transact(to="0x0000000000000000000000000000000000000001", data=b"")
            chain.mine()
        histories.append([block.hash for block in chain.blocks])
    assert histories[0] == histories[1]
    assert len(histories[0]) >= 4


# runtime: LOG1(memory = calldata, topic = its first word)
LOGGER = bytes.fromhex("365f5f375f35365fa100")

_BLOCK_OPS = st.lists(
    st.tuples(
        st.sampled_from(["value", "log", "revert", "deploy", "mine", "advance"]),
        st.integers(0, 5),
        st.binary(max_size=80),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None)
@given(ops=_BLOCK_OPS, mining=st.sampled_from(["auto", "manual", "interval"]))
def test_sealed_blocks_match_py_evm_sealing(ops: list[tuple[str, int, bytes]], mining: str) -> None:
    """Blocks sealed by ``seal_header`` (one header, no block objects) are the blocks
    py-evm's steps seal (rlp copies, Prague's post-processing and ``finalize_block``):
    every header field, its stored attributes, RLP, hash, size, records and receipts."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setitem(_VM_CLASSES, "py-evm", ReferenceVM)
        chains = [
            Devnet(n_chains=1, seed=5, interpreter=i, mining=mining).chains[0]
            for i in ("fast", "py-evm")
        ]
    seen = []
    for chain in chains:
        logger = chain.deploy_bytecode(initcode(LOGGER), []).address
        for kind, who, data in ops:
            if kind == "value":
                chain.transact(to=chain.accounts[who].address, value=len(data) + who)
            elif kind == "log":
                chain.transact(to=logger, data=data, sender=chain.accounts[who].address)
            elif kind == "revert":
                with pytest.raises(TransactionReverted):
                    chain.transact(to=None, data=b"\x5f\x5f\xfd" + data)
            elif kind == "deploy":
                chain.transact(to=None, data=initcode(b"\x00" + data))
            elif kind == "mine":
                chain.mine()
            else:
                chain.clock.advance(who + 1)
        chain.mine()
        blocks = []
        for record in chain.blocks:
            header = record.header
            blocks.append(
                (
                    record.hash,
                    record.size,
                    header.as_dict(),
                    list(header.__dict__),
                    rlp.encode(header),
                    header.hash == keccak(rlp.encode(header.copy())),
                    record.receipts,
                )
            )
        seen.append(blocks)
    assert seen[0] == seen[1]
    assert all(block[5] for block in seen[0])


# ------------------------------------------------ caches kept through rollbacks ---

_ACTIONS = ["store", "fail", "call_store", "call_value", "estimate", "snapshot", "revert"]
_ACTIONS += ["mine", "ephemeral", "call_ephemeral", "value"]


@pytest.mark.filterwarnings("ignore:SELFDESTRUCT opcode:DeprecationWarning")
@given(
    actions=st.lists(
        st.tuples(st.sampled_from(_ACTIONS), st.integers(0, 3), st.sampled_from([0, 1, 9])),
        min_size=1,
        max_size=14,
    ),
    mining=st.sampled_from(["auto", "manual"]),
)
@settings(deadline=None)
def test_rollbacks_keep_no_stale_cache(actions: list[tuple[str, int, int]], mining: str) -> None:
    """Calls, estimates, reverted transactions and snapshot reverts roll state back; the
    kept account and storage caches must then read exactly what py-evm reads afresh."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setitem(_VM_CLASSES, "py-evm", ReferenceVM)
        chains = [
            Devnet(n_chains=1, seed=3, interpreter=i, mining=mining).chains[0]
            for i in ("fast", "py-evm")
        ]
    observed = []
    for chain in chains:
        address = chain.deploy_bytecode(initcode(STORE), []).address
        other = chain.accounts[5].address
        snapshots: list[int] = []
        reads = []
        for action, slot, value in actions:
            data = word(slot) + word(value) + word(0)
            if action == "store":
                _store(chain, address, slot, value)
            elif action == "fail":
                _store(chain, address, slot, value + 1, fail=True)
            elif action == "call_store":  # written and rolled back
                chain.simulate(to=address, data=data, sender=other)
            elif action == "call_value":  # balances written and rolled back
                chain.simulate(to=address, data=data, sender=other, value=10**18)
            elif action == "estimate":
                chain.estimate_gas(to=address, data=data, sender=other, value=value)
            elif action == "snapshot":
                snapshots.append(chain.snapshot())
            elif action == "revert" and snapshots:
                chain.revert(snapshots.pop())
            elif action == "mine":
                chain.mine()
            elif action == "ephemeral":  # storage created and wiped in one transaction
                chain.transact(to=None, data=EPHEMERAL)
            elif action == "call_ephemeral":
                chain.simulate(to=None, data=EPHEMERAL, sender=other)
            elif action == "value":
                chain.transact(to=address, data=data, value=value)
            reads.append(
                (
                    [chain.get_storage_at(address, s) for s in range(4)],
                    chain.get_balance(address),
                    chain.get_balance(other),
                    chain.get_nonce(other),
                )
            )
        chain.mine()
        observed.append((reads, [block.hash for block in chain.blocks]))
    assert observed[0] == observed[1]


_ADDRESSES = [bytes([0xA0 + i]) * 20 for i in range(3)]


def _apply(db: Any, stack: list[Any], kind: str, address: bytes, slot: int, value: int) -> Any:
    """One database operation; then every balance and slot, and the root when allowed."""
    if kind == "balance":
        db.set_balance(address, value)
    elif kind == "storage":
        db.set_storage(address, slot, value)
    elif kind == "nonce":
        db.set_nonce(address, value)
    elif kind == "increment":
        db.increment_nonce(address)
    elif kind == "code":
        db.set_code(address, bytes([value]) * slot)
    elif kind == "touch":
        db.touch_account(address)
    elif kind == "delete":
        db.delete_account(address)
    elif kind == "wipe":
        db.delete_storage(address)
    elif kind == "record":
        stack.append(db.record())
    elif kind in ("discard", "commit") and stack:
        checkpoint = stack[min(slot, len(stack) - 1)]
        del stack[stack.index(checkpoint) :]
        getattr(db, kind)(checkpoint)
    elif kind == "lock" and not stack:
        db.lock_changes()
    elif kind == "persist" and not stack:
        db.persist()
    reads = [
        (
            db.get_balance(a),
            db.get_nonce(a),
            db.get_code_hash(a),
            db.get_code(a),
            db.account_exists(a),
            db.account_is_empty(a),
            db.account_has_code_or_nonce(a),
            [db.get_storage(a, s) for s in range(3)],
            [db.get_storage(a, s, from_journal=False) for s in range(3)],
        )
        for a in _ADDRESSES
    ]
    return reads, db.make_state_root() if kind == "read" and not stack else None


@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(
                ["balance", "storage", "delete", "wipe", "record", "discard", "commit"]
                + ["nonce", "increment", "code", "touch", "lock", "persist", "read"]
            ),
            st.integers(0, 2),
            st.integers(0, 2),
            st.sampled_from([0, 1, 5]),
        ),
        max_size=30,
    )
)
@example(ops=[("balance", 0, 0, 5), ("record", 0, 0, 0), ("delete", 0, 0, 0), ("discard", 0, 0, 0)])
@example(ops=[("storage", 1, 2, 5), ("record", 1, 0, 0), ("wipe", 1, 0, 0), ("discard", 1, 0, 0)])
@example(ops=[("storage", 0, 1, 5), ("lock", 0, 0, 0), ("record", 0, 0, 0), ("storage", 0, 1, 0)])
@example(ops=[("code", 2, 2, 1), ("record", 0, 0, 0), ("increment", 2, 0, 0), ("discard", 0, 0, 0)])
@settings(max_examples=300)  # cheap examples
def test_account_db_api_matches_py_evm(ops: list[tuple[str, int, int, int]]) -> None:
    """The database API itself, op by op, against py-evm's ``AccountDB``: writes, wipes,
    deletions, nested checkpoints discarded or committed, locks and persists; after each,
    every account read (balance, nonce, code and its hash, existence, emptiness) and every
    slot read from the journal and from the locked changes."""
    from eth.db.account import AccountDB
    from eth.db.atomic import AtomicDB

    from chains._statedb import DevAccountDB

    dbs = [DevAccountDB(AtomicDB()), AccountDB(AtomicDB())]
    checkpoints: list[list[Any]] = [[], []]

    for kind, who, slot, value in ops:
        outcomes: list[Any] = []
        for db, stack in zip(dbs, checkpoints, strict=True):
            try:
                outcomes.append(_apply(db, stack, kind, _ADDRESSES[who], slot, value))
            except ValidationError as exc:  # py-evm refuses some sequences (two wipes
                outcomes.append(str(exc))  # reverted at once): both must refuse alike
        assert outcomes[0] == outcomes[1], kind
        if isinstance(outcomes[0], str):
            return
        assert outcomes[0] == outcomes[1], kind


@pytest.mark.parametrize(
    "address", [b"\x01" * 19, b"\x01" * 21, bytearray(b"\x01" * 20), "0x" + "01" * 20, None]
)
@pytest.mark.parametrize(
    "read",
    ["get_balance", "get_nonce", "get_code_hash", "get_code", "account_exists"]
    + ["account_is_empty", "account_has_code_or_nonce", "touch_account", "increment_nonce"],
)
def test_account_reads_refuse_what_py_evm_refuses(address: Any, read: str) -> None:
    """The account reads' fast path takes only a 20-byte ``bytes``; anything else gets
    py-evm's own answer or error."""
    from eth.db.account import AccountDB
    from eth.db.atomic import AtomicDB

    from chains._statedb import DevAccountDB

    outcomes = []
    for db in (DevAccountDB(AtomicDB()), AccountDB(AtomicDB())):
        try:
            outcomes.append(("ok", getattr(db, read)(address)))
        except Exception as exc:  # the class and message are compared
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]


@given(
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**256 - 1),
    st.binary(min_size=32, max_size=32),
    st.binary(min_size=32, max_size=32),
)
def test_account_built_directly_is_rlps(nonce: int, balance: int, root: bytes, code: bytes) -> None:
    """``_account`` gives what ``Account(...)`` gives: fields, equality, hash, encoding."""
    from eth.rlp.accounts import Account

    from chains._statedb import _account, _encode_account

    built, reference = _account(nonce, balance, root, code), Account(nonce, balance, root, code)
    assert type(built) is Account
    assert vars(built) == vars(reference)
    assert built == reference and hash(built) == hash(reference)
    assert tuple(built) == (nonce, balance, root, code)
    assert _encode_account(built) == rlp.encode(reference, sedes=Account)
    assert rlp.decode(rlp.encode(built), sedes=Account) == reference


def test_account_trie_cache_follows_the_roots_written() -> None:
    """The account trie's read cache is kept through ``make_state_root`` (updated with the
    diff written, not emptied): every cached read must equal a fresh database's at the new
    root, for accounts written, deleted and untouched."""
    from eth.db.account import AccountDB
    from eth.db.atomic import AtomicDB

    from chains._statedb import DevAccountDB

    raw = AtomicDB()
    db = DevAccountDB(raw)
    for i, address in enumerate(_ADDRESSES):
        db.set_balance(address, 10 + i)
    db.persist()
    for address in _ADDRESSES:  # fill the trie cache at this root
        db._get_encoded_account(address, from_journal=False)
    db.set_balance(_ADDRESSES[0], 99)
    db.delete_account(_ADDRESSES[1])
    db.set_storage(_ADDRESSES[2], 1, 7)  # a new storage root
    db.persist()
    fresh = AccountDB(raw, db.state_root)
    for address in _ADDRESSES:
        assert db._trie_cache._cached_values.get(address) == (
            fresh._get_encoded_account(address, from_journal=False) or None
        )
        assert db._get_encoded_account(address, from_journal=False) == (
            fresh._get_encoded_account(address, from_journal=False)
        )


def _reachable(db: Any, root: bytes, *, accounts: bool = True) -> dict[bytes, bytes]:
    """Every node of the state trie at ``root`` by hash (storage tries and code included)."""
    from eth.rlp.accounts import Account

    nodes: dict[bytes, bytes] = {}
    pending: list[tuple[Any, bool]] = [(root, accounts)]
    while pending:
        ref, is_account_trie = pending.pop()
        if ref == b"" or ref == BLANK_ROOT_HASH:
            continue
        if isinstance(ref, bytes):
            nodes[ref] = db[ref]
            node = rlp.decode(db[ref])
        else:
            node = ref  # embedded
        if len(node) == 17:
            pending.extend((child, is_account_trie) for child in node[:16])
        elif node[0][0] >> 4 >= 2:  # a leaf
            if is_account_trie:
                account = rlp.decode(node[1], sedes=Account)
                pending.append((account.storage_root, False))
                if account.code_hash != EMPTY_SHA3:
                    nodes[account.code_hash] = db[account.code_hash]
        else:
            pending.append((node[1], is_account_trie))
    return nodes


_MANY = [bytes([0x10 + i]) * 20 for i in range(40)]


@pytest.mark.parametrize("seed", range(6))
def test_direct_persist_writes_what_py_evms_persist_writes(seed: int) -> None:
    """``DevAccountDB.persist`` (writes set on the ``AtomicDB`` directly) against the same
    database persisting through py-evm's ``AccountDB.persist`` (atomic batches, diff
    objects) on random blocks: after every block the same database, key for key and in
    the same order, the same roots, and the same kept caches and storage databases, so
    that the next block reads and writes the same."""
    from eth.db.atomic import AtomicDB

    from chains._statedb import DevAccountDB

    class _ThroughPyEvm(DevAccountDB):
        def persist(self) -> Any:
            return self._persist_through_py_evm()

    rnd = random.Random(100 + seed)
    raws = [AtomicDB(), AtomicDB()]
    dbs = [DevAccountDB(raws[0]), _ThroughPyEvm(raws[1])]
    for block in range(30):
        ops = _random_block(rnd)
        witnesses = []
        for db in dbs:
            _run_block(db, ops)
            witnesses.append(db.persist())
        fast, slow = dbs
        assert list(raws[0].wrapped_db.kv_store.items()) == list(
            raws[1].wrapped_db.kv_store.items()
        ), block
        assert fast.state_root == slow.state_root
        assert fast._root_hash_at_last_persist == slow._root_hash_at_last_persist
        assert witnesses[0].hashes == witnesses[1].hashes == set()
        assert dict(fast._account_cache) == dict(slow._account_cache)
        assert dict(fast._trie_cache._cached_values) == dict(slow._trie_cache._cached_values)
        assert fast._dirty_accounts == slow._dirty_accounts == set()
        assert fast._account_stores.keys() == slow._account_stores.keys()
        for address, store in fast._account_stores.items():
            other = slow._account_stores[address]
            assert store._storage_lookup.__dict__.keys() == other._storage_lookup.__dict__.keys()
            for name in ("_starting_root_hash", "_write_trie", "_trie_nodes_batch"):
                assert getattr(store._storage_lookup, name) == getattr(other._storage_lookup, name)
            assert store._storage_lookup._historical_write_tries == []
            assert other._storage_lookup._historical_write_tries == []
            assert dict(store._storage_cache._cached_values) == dict(
                other._storage_cache._cached_values
            )
            for clear_count in (store._clear_count, other._clear_count):
                assert clear_count._journal._current_values == {}
                assert len(clear_count._journal._journal_data) == 1  # its root checkpoint
                assert dict(clear_count._wrapped_db.kv_store) == {b"clear-count": to_bytes(0)}
            assert store._accessed_slots == other._accessed_slots == set()
        for batch in (fast._batchtrie, fast._batchdb, slow._batchtrie, slow._batchdb):
            assert batch._track_diff._changes == {}
        assert not fast._raw_store_db._keys_read and not slow._raw_store_db._keys_read


def _random_block(rnd: random.Random) -> list[tuple[Any, ...]]:
    """A block's state operations: transactions of balance, nonce, code and slot writes
    over 3 or 40 accounts and 4 to 2**256 slots, slot reads, slots zeroed, storage wiped, accounts
    deleted or created and destroyed in one transaction, some inside a checkpoint that
    is committed or discarded."""
    ops: list[tuple[Any, ...]] = []
    for _tx in range(rnd.randint(1, 6)):
        ops.append(("lock",))
        checkpoint = rnd.random() < 0.3
        if checkpoint:
            ops.append(("record",))
        wiped = set()  # py-evm rolls back at most one wipe of an account at once
        for _ in range(rnd.randint(1, 12)):
            address = rnd.choice(_MANY[: rnd.choice([3, 40])])
            kind = rnd.choices(
                ["balance", "nonce", "storage", "code", "wipe", "delete", "ephemeral", "read"],
                weights=[4, 2, 12, 1, 1, 1, 1, 3],
            )[0]
            if kind in ("wipe", "delete"):
                kind = "balance" if checkpoint and address in wiped else kind
                wiped.add(address)
            if kind == "read":  # opens the account's storage without writing it
                ops.append((kind, address, rnd.randrange(4)))
            elif kind == "storage":
                value = rnd.choice([0, 0, 1, rnd.randrange(1 << 256)])
                ops.append((kind, address, rnd.randrange(rnd.choice([4, 64, 1 << 256])), value))
            else:
                ops.append((kind, address, rnd.randrange(1, 1 << 64)))
        if checkpoint:
            ops.append((rnd.choice(["commit", "discard"]),))
    return ops


def _run_block(db: Any, ops: list[tuple[Any, ...]]) -> None:
    """Apply one block's operations (``_random_block``) to an account database."""
    checkpoints: list[Any] = []
    for op in ops:
        kind = op[0]
        if kind == "lock":
            db.lock_changes()
        elif kind == "record":
            checkpoints.append(db.record())
        elif kind in ("commit", "discard"):
            getattr(db, kind)(checkpoints.pop())
        elif kind == "balance":
            db.set_balance(op[1], op[2])
        elif kind == "nonce":
            db.set_nonce(op[1], op[2])
        elif kind == "storage":
            db.set_storage(op[1], op[2], op[3])
        elif kind == "code":
            db.set_code(op[1], op[2].to_bytes(8, "big") * 3)
        elif kind == "read":
            db.get_storage(op[1], op[2])
        elif kind == "wipe":
            db.delete_storage(op[1])
        elif kind == "delete":
            db.delete_account(op[1])
        elif kind == "ephemeral":  # a new account writes storage, then is destroyed
            fresh = keccak(op[1] + op[2].to_bytes(8, "big"))[:20]
            db.set_nonce(fresh, 1)
            db.set_storage(fresh, 1, op[2])
            db.delete_account(fresh)


@pytest.mark.parametrize("seed", range(8))
def test_batched_state_root_matches_py_evm(seed: int) -> None:
    """Many blocks of random writes over many accounts and slots — balances, nonces,
    code, slots set and zeroed, storage wiped, accounts deleted (emptied, or created and
    destroyed in one transaction as EIP-6780 allows), changes rolled back — then
    ``persist``: the same state root as py-evm's ``AccountDB`` at every block, and the
    same nodes (account and storage tries, code) reachable from it."""
    from eth.db.account import AccountDB
    from eth.db.atomic import AtomicDB

    from chains._statedb import DevAccountDB

    rnd = random.Random(seed)
    raws = [AtomicDB(), AtomicDB()]
    dbs = [DevAccountDB(raws[0]), AccountDB(raws[1])]
    for _block in range(25):
        ops = _random_block(rnd)
        for db in dbs:
            _run_block(db, ops)
            db.persist()
        assert dbs[0].state_root == dbs[1].state_root
        nodes = _reachable(raws[0], dbs[0].state_root)
        assert nodes == _reachable(raws[1], dbs[1].state_root)
        fresh_db = AccountDB(raws[0], dbs[0].state_root)  # a restart reads the same state
        for address in _MANY:
            assert fresh_db.get_balance(address) == dbs[1].get_balance(address)
            assert [fresh_db.get_storage(address, s) for s in range(4)] == [
                dbs[1].get_storage(address, s) for s in range(4)
            ]


@settings(max_examples=200, deadline=None)
@given(
    gas_limit=st.integers(5000, 60_000_000),
    used_share=st.floats(0, 1),
    base_fee=st.integers(0, 10**12),
    excess_blob_gas=st.integers(0, 10**7),
    blob_gas_used=st.integers(0, 10**6),
    step=st.integers(1, 10**6),
    extra=st.binary(max_size=32),
)
def test_header_from_parent_matches_py_evm(
    gas_limit: int,
    used_share: float,
    base_fee: int,
    excess_blob_gas: int,
    blob_gas_used: int,
    step: int,
    extra: bytes,
) -> None:
    """The chain's one-step header construction is py-evm's five-step one, field for field."""
    from eth.vm.forks.prague import PragueVM

    from chains._evm import DevVM

    genesis = Chain(ChainConfig(chain_id=1)).get_block(0).header
    parent = genesis.copy(
        gas_limit=gas_limit,
        gas_used=int(gas_limit * used_share),
        base_fee_per_gas=base_fee,
        excess_blob_gas=excess_blob_gas,
        blob_gas_used=blob_gas_used,
    )
    params = {
        "coinbase": b"\x11" * 20,
        "timestamp": parent.timestamp + step,
        "gas_limit": gas_limit + step,
        "mix_hash": b"\x22" * 32,
        "extra_data": extra,
        "parent_beacon_block_root": b"\x33" * 32,
    }
    ours = DevVM.create_header_from_parent(parent, **params)
    theirs = PragueVM.create_header_from_parent(parent, **params)
    assert ours.as_dict() == theirs.as_dict() and ours.hash == theirs.hash


class _Finished:
    """What ``make_receipt`` reads of a finished computation."""

    def __init__(self, logs: tuple[Any, ...], is_error: bool) -> None:
        self.logs, self.is_error, self.data_floor_gas = logs, is_error, 0

    def get_log_entries(self) -> tuple[Any, ...]:
        return self.logs

    def get_gas_remaining(self) -> int:
        return 1234

    def get_gas_refund(self) -> int:
        return 4800


_log_entries = st.lists(
    st.tuples(
        st.binary(min_size=20, max_size=20),
        st.lists(st.integers(0, 2**256 - 1), max_size=4).map(tuple),
        st.binary(max_size=64),
    ),
    max_size=5,
).map(tuple)


@settings(deadline=None)
@given(_log_entries, st.booleans(), st.sampled_from([0, 2]))
def test_receipt_and_bloom_match_py_evm(logs: tuple[Any, ...], is_error: bool, kind: int) -> None:
    """The chain's receipts (bloom by the C Keccak) are py-evm's, legacy and typed."""
    from eth.vm.forks.prague import PragueVM

    from chains._evm import DevVM

    chain = Chain(ChainConfig(chain_id=1))
    tx = chain.sign_transaction(to=chain.accounts[1].address, gas=100_000, tx_type=kind)
    header = chain.get_block(0).header.copy(gas_used=21_000)
    ours = DevVM.make_receipt(header, tx, _Finished(logs, is_error), None)
    theirs = PragueVM.make_receipt(header, tx, _Finished(logs, is_error), None)
    assert type(ours) is type(theirs) and ours.encode() == theirs.encode()
    assert ours.bloom == theirs.bloom
    assert encode_receipt(ours) == theirs.encode()  # the receipt trie's encoder


@settings(deadline=None)
@given(
    _log_entries,
    st.sampled_from([b"", b"\x01"]),
    st.integers(0, 2**64 - 1),
    st.booleans(),
)
def test_build_receipt_matches_the_constructors(
    logs: tuple[Any, ...], status: bytes, gas: int, topics_as_lists: bool
) -> None:
    """``build_receipt`` stores what ``Receipt(...)`` and ``Log(...)`` store, in their
    order (lists made tuples), with eth-bloom's bloom; a topic ``uint32`` refuses is
    refused with rlp's error."""
    from eth.rlp.logs import Log
    from eth.rlp.receipts import Receipt
    from eth_bloom import BloomFilter
    from rlp.exceptions import SerializationError

    from chains._evm import build_receipt

    if topics_as_lists:
        logs = tuple((a, list(t), d) for a, t, d in logs)
    ours = build_receipt(status, gas, logs)
    theirs = Receipt(state_root=status, gas_used=gas, logs=[Log(*entry) for entry in logs])
    assert type(ours) is Receipt
    assert list(ours.__dict__.items()) == list(theirs.__dict__.items())
    for mine, other in zip(ours.logs, theirs.logs, strict=True):
        assert type(mine) is Log and list(mine.__dict__.items()) == list(other.__dict__.items())
    items = [item for log in theirs.logs for item in log.bloomables]
    assert ours.bloom == int(BloomFilter.from_iterable(items))
    assert ours.encode() == theirs.encode()
    for bad in (-1, 2**256, "1"):
        with pytest.raises(SerializationError):
            build_receipt(status, gas, ((b"\x00" * 20, (bad,), b""),))


@settings(deadline=None)
@given(
    _log_entries,
    st.sampled_from([b"", b"\x01"]),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**2048 - 1),
    st.sampled_from([None, 1, 2, 3, 4]),
)
def test_receipt_encoder_matches_rlp(
    logs: tuple[Any, ...], status: bytes, gas: int, bloom: int, type_id: int | None
) -> None:
    """``encode_receipt`` gives rlp's bytes for every field range (gas 0, big blooms,
    long data, no logs) and every receipt type py-evm's Prague builder wraps."""
    from eth.rlp.logs import Log
    from eth.rlp.receipts import Receipt
    from eth.vm.forks.prague.receipts import PragueReceiptBuilder

    receipt = Receipt(
        state_root=status, gas_used=gas, logs=[Log(*entry) for entry in logs], bloom=bloom
    )
    if type_id is not None:
        receipt = PragueReceiptBuilder.typed_receipt_class(type_id, receipt)
    assert encode_receipt(receipt) == receipt.encode()


_HEADER_CHANGES = st.fixed_dictionaries(
    {},
    optional={
        "gas_used": st.integers(0, 2**63),
        "bloom": st.integers(0, 2**2048 - 1),
        "state_root": st.binary(min_size=32, max_size=32),
        "transaction_root": st.binary(min_size=32, max_size=32),
        "receipt_root": st.binary(min_size=32, max_size=32),
        "requests_hash": st.binary(min_size=32, max_size=32),
        "extra_data": st.binary(max_size=32),
        "timestamp": st.integers(0, 2**40),
    },
)


@settings(deadline=None)
@given(_HEADER_CHANGES)
def test_replace_fields_matches_rlp_copy(changes: dict[str, Any]) -> None:
    """``replace_fields`` on a header (no constructor) is ``copy``: same type, fields,
    encoding, hash, and no cached hash or RLP carried over from the original."""
    chain = Chain(ChainConfig(chain_id=1))
    chain.transact(to=chain.accounts[1].address, value=1)
    header = chain.get_block(1).header
    assert header.hash  # fills the original's hash and RLP caches
    ours, theirs = replace_fields(header, **changes), header.copy(**changes)
    assert type(ours) is type(theirs)
    assert ours._cached_rlp is None and ours._hash is None
    assert ours.as_dict() == theirs.as_dict()
    assert rlp.encode(ours) == rlp.encode(theirs) and ours.hash == theirs.hash
    with pytest.raises(TypeError, match="no field"):
        replace_fields(header, gas_usd=1)


_HEADER_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "difficulty": st.integers(0, 2**80),
        "block_number": st.integers(0, 2**64),
        "gas_limit": st.integers(0, 2**64),
        "base_fee_per_gas": st.integers(0, 2**256),
        "blob_gas_used": st.integers(0, 2**64),
        "excess_blob_gas": st.integers(0, 2**64),
        "coinbase": st.binary(min_size=20, max_size=20),
        "mix_hash": st.binary(max_size=40),
        "nonce": st.binary(min_size=8, max_size=12),
        "parent_beacon_block_root": st.binary(min_size=32, max_size=32),
        "withdrawals_root": st.binary(min_size=32, max_size=32),
    },
)


@settings(deadline=None)
@given(_HEADER_CHANGES, _HEADER_FIELDS)
def test_header_encoder_matches_rlp(changes: dict[str, Any], more: dict[str, Any]) -> None:
    """``encode_header`` gives rlp's bytes for any field values (zeros, the fixed-size
    bloom, long extra data), and the sealed header's hash is py-evm's."""
    chain = Chain(ChainConfig(chain_id=1))
    chain.transact(to=chain.accounts[1].address, value=1)
    sealed = chain.get_block(1).header
    assert sealed.hash == sealed.copy().hash and sealed._cached_rlp == rlp.encode(sealed.copy())
    header = sealed.copy(**changes, **more)
    assert encode_header(header) == rlp.encode(header)


def test_header_encoder_refuses_what_rlp_refuses() -> None:
    """A field of the wrong length or type reaches rlp's own checks and error."""
    header = Chain(ChainConfig(chain_id=1)).get_block(0).header
    for bad in ({"coinbase": b"\x01" * 19}, {"bloom": 1 << 2048}, {"gas_used": -1}):
        broken = replace_fields(header, **bad)
        with pytest.raises(rlp.exceptions.SerializationError):
            rlp.encode(broken)
        with pytest.raises(rlp.exceptions.SerializationError):
            encode_header(broken)


def test_state_loggers_are_py_evms() -> None:
    """Each state class keeps the logger py-evm's ``BaseState.logger`` property looks up."""
    from chain_reference import ReferenceState
    from eth.vm.state import BaseState

    from chains._evm import DevState, StockState

    for cls in (DevState, StockState, ReferenceState):
        assert cls.logger is BaseState.logger.fget(cls.__new__(cls))  # type: ignore[attr-defined]
        assert cls.logger.name == f"eth.vm.state.{cls.__name__}"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["set", "set", "delete", "get", "contains", "record", "commit", "discard"]
                + ["clear", "persist", "flatten", "reset"]
            ),
            st.sampled_from([b"a", b"b", b"c", b"w"]),  # b"w" starts in the wrapped db
            st.sampled_from([b"", b"1", b"22"]),
            st.integers(0, 3),
        ),
        max_size=40,
    )
)
@settings(max_examples=300)
def test_fast_journal_matches_py_evms(ops: list[tuple[str, bytes, bytes, int]]) -> None:
    """``_FastJournalDB`` against py-evm's ``JournalDB`` on random operations: every read
    (value or ``KeyError`` and its arguments), membership test, diff and error alike, and
    the same wrapped database after each persist."""
    from eth.db.backends.memory import MemoryDB
    from eth.db.journal import JournalDB

    from chains._statedb import _FastJournalDB

    wrapped = [MemoryDB({b"w": b"base"}), MemoryDB({b"w": b"base"})]
    journals = [_FastJournalDB(wrapped[0]), JournalDB(wrapped[1])]
    checkpoints: list[list[Any]] = [[], []]
    for kind, key, value, pick in ops:
        outcomes: list[Any] = []
        for journal, stack in zip(journals, checkpoints, strict=True):
            try:
                if kind == "set":
                    journal[key] = value
                elif kind == "delete":
                    del journal[key]
                elif kind == "record":
                    stack.append(journal.record())
                elif kind in ("commit", "discard") and stack:
                    checkpoint = stack[min(pick, len(stack) - 1)]
                    del stack[stack.index(checkpoint) :]
                    getattr(journal, kind)(checkpoint)
                elif kind == "clear":
                    journal.clear()
                elif kind in ("persist", "flatten", "reset"):
                    getattr(journal, kind)()
                    if kind != "flatten":
                        stack.clear()
                outcome: Any = None
                if kind == "get":
                    outcome = journal[key]
            except KeyError as exc:
                outcome = (KeyError, exc.args)
            except ValidationError:  # its message names the checkpoint (a global counter)
                outcome = ValidationError
            outcomes.append(
                (
                    outcome,
                    [k in journal for k in (b"a", b"b", b"c", b"w")],
                    journal.diff().pending_items(),
                    journal.diff().deleted_keys(),
                    journal.has_clear(),
                )
            )
        assert outcomes[0] == outcomes[1], kind
    assert wrapped[0].kv_store == wrapped[1].kv_store


def test_vm_loggers_are_py_evms() -> None:
    """Each VM class keeps the logger py-evm's ``VM.logger`` property looks up."""
    from chain_reference import ReferenceVM
    from eth.vm.base import VM

    from chains._evm import DevVM, StockVM

    for cls in (DevVM, StockVM, ReferenceVM):
        assert cls.logger is VM.logger.fget(cls.__new__(cls))  # type: ignore[attr-defined]
        assert cls.logger.name == f"eth.vm.base.VM.{cls.__name__}"


class _Frame:
    """The parts of a computation EIP-161's touched-account collection reads."""

    def __init__(self, to: bytes, is_error: bool, beneficiaries: list[bytes], children: list[Any]):
        self.state = type("S", (), {"coinbase": b"\xcc" * 20})()
        self.msg = type("M", (), {"to": to})()
        self.is_error = is_error
        self.children = children
        self._beneficiaries = beneficiaries

    def get_self_destruct_beneficiaries(self) -> list[bytes]:
        return self._beneficiaries


_FRAME_ADDRESSES = st.sampled_from(
    [b"", b"\x00" * 19 + b"\x03", b"\x00" * 19 + b"\x01", b"\xcc" * 20, b"\x11" * 20, b"\x22" * 20]
)
_FRAMES = st.recursive(
    st.builds(
        _Frame, _FRAME_ADDRESSES, st.booleans(), st.lists(_FRAME_ADDRESSES, max_size=3), st.just([])
    ),
    lambda children: st.builds(
        _Frame,
        _FRAME_ADDRESSES,
        st.booleans(),
        st.lists(_FRAME_ADDRESSES, max_size=3),
        st.lists(children, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_FRAMES)
def test_touched_accounts_match_py_evm(frame: _Frame) -> None:
    """EIP-161's touched accounts of a call tree (errors anywhere, RIPEMD160, creates,
    self-destructs) are py-evm's ``collect_touched_accounts``."""
    from eth.vm.forks.spurious_dragon._utils import collect_touched_accounts

    from chains._evm import touched_accounts

    assert touched_accounts(frame) == collect_touched_accounts(frame)


class _Requests:
    """The parts of a block Prague's ``compute_requests_hash`` reads and copies."""

    def __init__(self, requests: list[bytes], header: Any) -> None:
        self.block_requests = requests
        self.header = header

    def copy(self, header: Any) -> Any:
        return header


@settings(deadline=None)
@given(st.lists(st.binary(max_size=3), max_size=4))
def test_requests_hash_is_pragues(requests: list[bytes]) -> None:
    """EIP-7685's requests hash (a constant when every request is its type byte alone) is
    the one Prague's ``compute_requests_hash`` puts in the header."""
    from eth.vm.forks.prague import PragueVM

    from chains._evm import requests_hash

    header = Chain(ChainConfig(chain_id=1)).get_block(0).header
    theirs = PragueVM.compute_requests_hash(_Requests(requests, header)).requests_hash
    assert requests_hash(requests) == theirs
