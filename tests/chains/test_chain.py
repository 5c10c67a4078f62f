"""Native Chain API: transactions, mining modes, determinism, snapshots, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st
from testing_helpers import reverts

from chains import (
    BlockRecord,
    Chain,
    ChainConfig,
    ChainError,
    ConfigError,
    Devnet,
    InsufficientFunds,
    NonceTooLow,
    SnapshotNotFound,
    TransactionReverted,
    UnknownBlock,
)

LEDGER = Path(__file__).parent / "contracts" / "Ledger.vy"
ETHER = 10**18

ANVIL_ACCOUNTS = [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
]


@pytest.fixture
def ledger(chain: Chain):
    """A Ledger contract deployed by the chain's first dev account."""
    return chain.deploy(LEDGER, 100)


def test_genesis_funds_the_standard_dev_accounts(chain: Chain) -> None:
    assert [a.address for a in chain.accounts] == ANVIL_ACCOUNTS
    assert chain.get_balance(ANVIL_ACCOUNTS[9], block=0) == 10_000 * ETHER


def test_chain_ids_are_distinct_and_agree_with_chainid_opcode(devnet: Devnet) -> None:
    ids = [c.chain_id for c in devnet.chains]
    assert ids == [31337, 31338, 31339]
    for chain in devnet.chains:
        contract = chain.deploy(LEDGER, 1)
        assert contract.info()[2] == chain.chain_id


def test_deploy_address_matches_anvil(chain: Chain, ledger) -> None:
    # CREATE address = keccak(rlp([sender, nonce]))[12:], whatever ran on `chain` before
    tx, _, _ = chain.find_transaction(ledger.deploy_receipt.tx_hash)
    expected = keccak(rlp.encode([tx.sender, tx.nonce]))[12:]
    assert ledger.address == to_checksum_address(expected)
    assert chain.get_code(ledger.address)
    # the first deployment by account 0 (nonce 0) on a fresh chain lands where anvil's does
    fresh = Chain(ChainConfig(chain_id=31337), compiler=chain.compiler)
    assert fresh.deploy(LEDGER, 100).address == "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_transact_returns_value_receipt_and_events(chain: Chain, ledger) -> None:
    trader = chain.accounts[1].address
    assert ledger.record(5, sender=trader) == 105
    receipt = chain.last_receipt
    assert receipt is not None and receipt.status and receipt.is_sealed
    assert receipt.sender == trader and receipt.to == ledger.address
    assert 21_000 < receipt.gas_used < 200_000
    [event] = receipt.events
    assert event.name == "Recorded"
    assert event.args == {"who": trader, "amount": 5, "total": 105}
    assert ledger.entries(trader) == 5
    assert ledger.get_events("Recorded")[-1].args["total"] == 105


def test_transact_revert_carries_reason_and_mined_receipt(chain: Chain, ledger) -> None:
    before = chain.block_number
    with reverts("ledger: zero amount") as info:
        ledger.record(0)
    assert info.value.receipt is not None and info.value.receipt.status is False
    assert chain.block_number == before + 1  # a reverted transaction is still mined


def test_call_revert_has_no_receipt(chain: Chain, ledger) -> None:
    with pytest.raises(TransactionReverted) as info:
        ledger.record.call(0)
    assert info.value.receipt is None
    assert info.value.data[:4] == keccak(text="Error(string)")[:4]


def test_payable_value_moves_ether(chain: Chain, ledger) -> None:
    assert ledger.deposit(value=3 * ETHER) == 3 * ETHER
    assert chain.get_balance(ledger.address) == 3 * ETHER


def test_estimate_gas_is_enough_and_tight(chain: Chain, ledger) -> None:
    estimate = ledger.record.estimate_gas(7)
    receipt = ledger.record.transact(7, gas=estimate)
    assert receipt.status
    assert estimate < receipt.gas_used * 1.2


def test_insufficient_funds_is_rejected_before_execution(chain: Chain, ledger) -> None:
    poor = chain.accounts[5].address
    chain.set_balance(poor, 10**9)
    with pytest.raises(InsufficientFunds):
        ledger.deposit(value=ETHER, sender=poor)


def test_nonce_too_low_is_rejected(chain: Chain) -> None:
    sender = chain.accounts[2].address
    chain.transact(sender=sender, to=chain.accounts[3].address, value=1)
    with pytest.raises(NonceTooLow):
        chain.transact(sender=sender, to=chain.accounts[3].address, value=1, nonce=0)


def test_unknown_sender_needs_impersonation(chain: Chain) -> None:
    stranger = "0x000000000000000000000000000000000000dEaD"
    chain.set_balance(stranger, ETHER)
    with pytest.raises(ChainError, match="no key for sender"):
        chain.transact(sender=stranger, to=chain.accounts[0].address, value=1)
    with chain.as_sender(stranger):
        receipt = chain.transact(to=chain.accounts[0].address, value=1)
    assert receipt.sender == stranger and receipt.status
    assert not chain.is_impersonated(stranger)


def test_automine_seals_a_block_per_transaction(chain: Chain, ledger) -> None:
    start = chain.block_number
    for _ in range(3):
        ledger.record(1)
    assert chain.block_number == start + 3
    assert all(len(chain.get_block(n).transactions) == 1 for n in range(start + 1, start + 4))


def test_timestamps_strictly_increase_and_follow_the_clock(devnet: Devnet, ledger) -> None:
    chain = devnet.chains[0]
    first = chain.timestamp
    ledger.record(1)
    assert chain.timestamp > first
    devnet.advance(3600)
    ledger.record(1)
    assert chain.timestamp >= int(devnet.clock.now)
    assert ledger.last_stamp() == chain.timestamp


def test_interval_mining_batches_transactions_on_the_clock() -> None:
    devnet = Devnet(n_chains=1, mining="interval", block_time=12)
    chain = devnet.chains[0]
    ledger = chain.deploy(LEDGER, 0)
    assert chain.block_number == 0 and len(chain.pending_transactions) == 1
    for _ in range(4):
        ledger.record(1)
    assert chain.block_number == 0
    devnet.advance(12)
    assert chain.block_number == 1
    block = chain.get_block(1)
    assert len(block.transactions) == 5
    assert block.timestamp % 12 == 0
    assert [r.transaction_index for r in block.receipts] == list(range(5))
    devnet.advance(120)  # nothing pending: no empty blocks in virtual time
    assert chain.block_number == 1


def test_interval_mining_opens_a_new_block_when_full() -> None:
    chain = Devnet(n_chains=1, mining="interval", block_time=12, gas_limit=5_000_000).chains[0]
    ledger = chain.deploy(LEDGER, 0)
    chain.mine()
    used = 0
    while used < 6_000_000:  # more than one block's worth
        used += ledger.burn_gas.transact(5000).gas_used
    chain.clock.advance(36)  # the overflow block is due at the boundary after the full one
    assert not chain.pending_transactions
    assert chain.block_number >= 3
    for number in range(1, chain.block_number + 1):
        block = chain.get_block(number)
        assert block.header.gas_used <= 5_000_000


def test_manual_mining_waits_for_mine() -> None:
    chain = Devnet(n_chains=1, mining="manual").chains[0]
    ledger = chain.deploy(LEDGER, 0)
    ledger.record(2)
    assert chain.block_number == 0
    assert ledger.total() == 2  # calls see the pending state
    with pytest.raises(ValueError, match="returned 0 bytes"):
        ledger.total.call(block="latest")  # no code yet in any sealed block
    [block] = chain.mine()
    assert block.number == 1 and len(block.transactions) == 2
    assert ledger.total.call(block="latest") == 2


def test_same_seed_gives_identical_block_hashes() -> None:
    def run(seed: int) -> list[bytes]:
        devnet = Devnet(n_chains=2, seed=seed)
        for chain in devnet.chains:
            ledger = chain.deploy(LEDGER, 1)
            ledger.record(3)
            devnet.advance(30)
            ledger.record(4)
        return [b.hash for c in devnet.chains for b in c.blocks]

    assert run(7) == run(7)
    assert run(7) != run(8)  # prevrandao derives from the seed


def test_snapshot_and_revert_restore_state_and_blocks(chain: Chain, ledger) -> None:
    sid = chain.snapshot()
    height = chain.block_number
    ledger.record(10)
    tx_hash = chain.last_receipt.tx_hash
    chain.revert(sid)
    assert chain.block_number == height
    assert ledger.total() == 100
    with pytest.raises(KeyError):
        chain.get_receipt(tx_hash)
    ledger.record(1)  # the chain goes on from the snapshot
    assert ledger.total() == 101


def test_revert_restores_pending_transactions_in_interval_mode() -> None:
    devnet = Devnet(n_chains=1, mining="interval", block_time=2)
    chain = devnet.chains[0]
    ledger = chain.deploy(LEDGER, 5)
    sid = chain.snapshot()
    ledger.record(1)
    chain.revert(sid)
    assert len(chain.pending_transactions) == 1  # the deployment is still pending
    devnet.advance(2)
    assert chain.block_number == 1 and ledger.total() == 5


def test_revert_unknown_snapshot_is_a_clear_error(chain: Chain) -> None:
    with pytest.raises(SnapshotNotFound, match="no snapshot 999"):
        chain.revert(999)


def test_devnet_anchor_reverts_every_chain_and_the_clock(devnet: Devnet) -> None:
    now = devnet.clock.now
    heights = [c.block_number for c in devnet.chains]
    with devnet.anchor():
        for chain in devnet.chains:
            chain.deploy(LEDGER, 1)
        devnet.advance(86_400)
    assert [c.block_number for c in devnet.chains] == heights
    assert devnet.clock.now == now


def test_set_balance_and_storage_are_dev_controls(chain: Chain, ledger) -> None:
    target = chain.accounts[4].address
    chain.set_balance(target, 123)
    assert chain.get_balance(target) == 123
    chain.set_storage_at(ledger.address, 1, 77)  # slot 1: total
    assert ledger.total() == 77


def test_get_block_unknown_is_a_clear_error(chain: Chain) -> None:
    with pytest.raises(UnknownBlock, match="does not exist"):
        chain.get_block(10**6)
    with pytest.raises(UnknownBlock, match="unknown block tag"):
        chain.get_block("soon")


def test_historical_state_reads(chain: Chain, ledger) -> None:
    ledger.record(1)
    before = chain.block_number
    ledger.record(1)
    assert ledger.total.call(block=before) == 101
    assert ledger.total() == 102


def test_bad_arguments_name_the_function(ledger) -> None:
    with pytest.raises(TypeError, match="record takes 1 arguments, got 2"):
        ledger.record(1, 2)
    with pytest.raises(TypeError, match="bad arguments for record"):
        ledger.record("many")
    with pytest.raises(AttributeError, match="has no function 'nope'"):
        ledger.nope  # noqa: B018


def test_deploy_raw_bytecode_with_abi(chain: Chain) -> None:
    # A hand-assembled contract that returns 42 for any call.
    runtime = bytes.fromhex("602a60005260206000f3")
    initcode = bytes.fromhex("600a600c600039600a6000f3") + runtime
    abi = [
        {
            "type": "function",
            "name": "answer",
            "inputs": [],
            "outputs": [{"name": "", "type": "uint256"}],
            "stateMutability": "view",
        }
    ]
    contract = chain.deploy_bytecode(initcode, abi, name="Answer")
    assert chain.get_code(contract.address) == runtime
    assert contract.answer() == 42


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chain_id": 0}, "chain_id must be a positive integer"),
        ({"chain_id": 1, "mining": "sometimes"}, "mining must be one of"),
        ({"chain_id": 1, "block_time": 0}, "block_time must be positive"),
        ({"chain_id": 1, "gas_limit": 10}, "gas_limit must be at least"),
        ({"chain_id": 1, "rpc_gas_cap": 100}, "rpc_gas_cap must be between"),
        ({"chain_id": 1, "call_timeout": 0}, "call_timeout must be between"),
    ],
    ids=[
        "zero-chain-id",
        "unknown-mining",
        "zero-block-time",
        "tiny-gas-limit",
        "tiny-gas-cap",
        "zero-call-timeout",
    ],
)
def test_chain_config_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ChainConfig(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("to", [b"", b"\x11" * 20])
@pytest.mark.parametrize("nonce", [0, 1, 2**40])
def test_chain_signatures_are_py_evms_byte_for_byte(chain: Chain, to: bytes, nonce: int) -> None:
    from eth.vm.forks.prague.transactions import PragueTransactionBuilder

    from chains._evm import sign_tx as _sign

    for index, data in enumerate([b"", b"\x00" * 3, bytes(range(200))]):
        unsigned = PragueTransactionBuilder.new_unsigned_dynamic_fee_transaction(
            chain.chain_id, nonce, 10**9, 3 * 10**9, 21_000 + index, to, index * 10**18, data, []
        )
        key = chain._keys[bytes.fromhex(chain.accounts[index].address[2:])]
        ours = _sign(unsigned, key)
        theirs = unsigned.as_signed_transaction(key, chain_id=chain.chain_id)
        assert ours.encode() == theirs.encode()
        assert ours.hash == theirs.hash
        assert ours.sender == key.public_key.to_canonical_address()


_U256 = st.integers(0, 2**256 - 1)


@settings(max_examples=100, deadline=None)
@given(
    fields=st.tuples(
        st.integers(1, 2**64), st.integers(0, 2**64 - 1), _U256, _U256, st.integers(0, 2**64)
    ),
    to=st.sampled_from([b"", b"\x11" * 20, bytes(20)]),
    value=_U256,
    data=st.binary(max_size=300),
    access_list=st.sampled_from([[], [(b"\x22" * 20, [0, 2**255])]]),
    secret=st.binary(min_size=32, max_size=32).filter(lambda b: 0 < int.from_bytes(b) < 2**255),
)
def test_signed_encoding_and_hash_are_rlps(
    fields: tuple[int, ...], to: bytes, value: int, data: bytes, access_list: Any, secret: bytes
) -> None:
    """The signed payload ``sign_tx`` encodes itself (and the hash of it) against rlp's
    and py-evm's own signing, on random fields."""
    from eth.vm.forks.prague.transactions import PragueTransactionBuilder
    from eth_keys.datatypes import PrivateKey

    from chains._evm import sign_dynamic_fee_tx
    from chains._evm import sign_tx as _sign

    chain_id, nonce, tip, max_fee, gas = fields
    unsigned = PragueTransactionBuilder.new_unsigned_dynamic_fee_transaction(
        chain_id, nonce, tip, max_fee, gas, to, value, data, access_list
    )
    key = PrivateKey(secret)
    ours = _sign(unsigned, key)
    pinned = ours._inner._cached_rlp  # the encoding sign_tx made itself (no access list)
    theirs = unsigned.as_signed_transaction(key)
    assert ours.encode() == theirs.encode()
    assert ours.hash == theirs.hash
    inner = type(theirs._inner)  # with a sedes given, rlp encodes afresh (no cache)
    assert pinned == (None if access_list else rlp.encode(theirs._inner, sedes=inner))
    if not access_list:  # the native path's signing, without the unsigned transaction
        direct = sign_dynamic_fee_tx(key, chain_id, nonce, tip, max_fee, gas, to, value, data)
        assert type(direct) is type(ours) and type(direct._inner) is type(ours._inner)
        assert list(direct._inner.__dict__.items()) == list(ours._inner.__dict__.items())
        # ours has since cached its type byte (encode() above)
        assert direct.__dict__ == {k: v for k, v in ours.__dict__.items() if k != "_type_byte"}
        assert direct.encode() == theirs.encode() and direct.hash == theirs.hash


@settings(max_examples=50, deadline=None)
@given(
    nonce=st.one_of(st.integers(0, 2**64 - 1), st.just(True)),
    to=st.sampled_from([b"", b"\x11" * 20, bytearray(20)]),
    data=st.sampled_from([b"", b"\x01\x02", bytearray(b"\x03")]),
    secret=st.binary(min_size=32, max_size=32).filter(lambda b: 0 < int.from_bytes(b) < 2**255),
)
def test_direct_signing_is_sign_tx_for_unusual_values(
    nonce: Any, to: bytes, data: bytes, secret: bytes
) -> None:
    """Values off the plain path (a bool nonce, bytearrays) take ``sign_tx``'s own path
    through the unsigned transaction, with its result or its error."""
    from eth.vm.forks.prague.transactions import PragueTransactionBuilder
    from eth_keys.datatypes import PrivateKey

    from chains._evm import sign_dynamic_fee_tx, sign_tx

    key = PrivateKey(secret)
    fields = (1, nonce, 10**9, 2 * 10**9, 50_000, to, 5, data)
    unsigned = PragueTransactionBuilder.new_unsigned_dynamic_fee_transaction(*fields, [])

    def outcome(sign: Any) -> Any:
        try:
            tx = sign()
            return list(tx._inner.__dict__.items()), tx.encode(), tx.hash
        except Exception as exc:  # rlp refuses a bool; both must refuse it alike
            return type(exc), str(exc)

    direct = outcome(lambda: sign_dynamic_fee_tx(key, *fields))
    assert direct == outcome(lambda: sign_tx(unsigned, key))


# ------------------------------------------------------ calls against sealed blocks ---

# runtime: return abi.encode(block.number, blockhash(block.number - 1))
BLOCK_PROBE = bytes.fromhex("43600190034060205243" + "5f5260405ff3")
# runtime: SSTORE(calldata[0:32], calldata[32:64])
STORE = bytes.fromhex("6020356000355500")


def _initcode(runtime: bytes) -> bytes:
    """Creation code that returns ``runtime``."""
    n = len(runtime)
    return bytes([0x60, n, 0x60, 12, 0x5F, 0x39, 0x60, n, 0x5F, 0xF3, 0x00, 0x00]) + runtime


def _word(value: int) -> bytes:
    return value.to_bytes(32)


@pytest.mark.parametrize("mining", ["auto", "manual", "interval"])
def test_calls_see_their_blocks_number_and_parent_hash(mining: str) -> None:
    """A call at block n runs in block n's context: NUMBER is n, BLOCKHASH(n - 1) its parent.

    ``pending`` is the next block, whose parent is the head — and asking for it first
    (which opens the pending block) must not change what ``latest`` answers.
    """
    chain = Devnet(n_chains=1, mining=mining, block_time=2).chains[0]
    probe = chain.deploy_bytecode(_initcode(BLOCK_PROBE), []).address
    chain.mine(3)
    head = chain.block_number
    assert int.from_bytes(chain.call(to=probe, block="pending")[:32]) == head + 1
    for block in (head, "latest", head - 1, head - 2):
        number = head if block == "latest" else int(block)
        out = chain.call(to=probe, block=block)
        assert int.from_bytes(out[:32]) == number
        assert out[32:] == chain.blocks[number - 1].hash
    out = chain.call(to=probe, block="pending")
    assert int.from_bytes(out[:32]) == head + 1
    assert out[32:] == chain.blocks[head].hash


def test_calls_and_estimates_at_latest_leave_no_trace() -> None:
    """Under automine, calls at ``latest`` run on the state the last block sealed (its
    caches kept): what they write must be rolled back, a snapshot revert must show
    through, and the chain must go on exactly as a chain that never ran them."""

    def run(with_calls: bool) -> tuple[list[bytes], list[int]]:
        chain = Devnet(n_chains=1, seed=5).chains[0]
        store = chain.deploy_bytecode(_initcode(STORE), []).address
        other = chain.accounts[3].address
        reads = []
        for i in range(4):
            if with_calls:
                write = _word(i % 2) + _word(1000 + i)
                chain.simulate(to=store, data=write, sender=other, value=ETHER, block="latest")
                assert chain.estimate_gas(to=store, data=write, block="latest") > 21_000
                assert chain.w3.eth.call({"to": store, "data": write}, "latest") == b""
                sid = chain.snapshot()
                chain.transact(to=store, data=_word(i % 2) + _word(2000 + i))
                assert chain.get_storage_at(store, i % 2, block="latest") == 2000 + i
                chain.revert(sid)
            chain.transact(to=store, data=_word(i % 2) + _word(i + 1))
            reads.append(chain.get_storage_at(store, i % 2, block="latest"))
            reads.append(chain.get_balance(other, block="latest"))
        return [b.hash for b in chain.blocks], reads

    assert run(with_calls=True) == run(with_calls=False)


def test_block_listeners_subscribe_and_unsubscribe(chain: Chain) -> None:
    seen: list[int] = []
    once: list[int] = []

    def only_once(block: BlockRecord) -> None:
        once.append(block.number)
        chain.off_block(only_once)  # unsubscribing from inside a notification is fine

    unsubscribe = chain.on_block(lambda block: seen.append(block.number))
    chain.on_block(only_once)
    chain.mine(2)
    assert only_once not in chain.block_listeners
    unsubscribe()
    unsubscribe()  # a second time: no effect
    chain.mine()
    assert seen == [chain.block_number - 2, chain.block_number - 1]
    assert once == [chain.block_number - 2]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["mine", "snapshot", "revert", "ask"]), st.integers(0, 300)),
        min_size=1,
        max_size=25,
    )
)
def test_ancestor_hashes_are_the_last_256_blocks(steps: list[tuple[str, int]]) -> None:
    """What BLOCKHASH sees (``_ancestors``, kept and extended by one hash per seal) is
    always the hashes of the 256 blocks before, newest first, through mines, reverts
    and asks for past blocks."""
    chain = Chain(ChainConfig(chain_id=1, mining="manual"))
    snapshots: list[int] = []
    for kind, n in steps:
        if kind == "mine":
            chain.mine(n % 40 + 1)
        elif kind == "snapshot":
            snapshots.append(chain.snapshot())
        elif kind == "revert" and snapshots:
            chain.revert(snapshots.pop())
        elif kind == "ask":
            end = n % (chain.block_number + 2)
            blocks = chain.blocks[max(0, end - 256) : end]
            assert chain._ancestors(end) == tuple(b.hash for b in reversed(blocks))
        blocks = chain.blocks[-256:]
        assert chain._ancestors() == tuple(b.hash for b in reversed(blocks))


def test_sealed_logs_carry_every_field() -> None:
    """Sealing copies each log field by field with the block hash (``_seal``): the
    fields it names are ``Log``'s, and a sealed log is its pending self plus the hash."""
    import dataclasses

    from chains._types import Log

    names = [f.name for f in dataclasses.fields(Log)]
    assert names == [
        "address",
        "topics",
        "data",
        "log_index",
        "transaction_index",
        "transaction_hash",
        "block_number",
        "block_hash",
    ]
    chain = Chain(ChainConfig(chain_id=1, mining="manual"))
    # runtime: LOG1(memory = calldata, topic = its first word)
    runtime = bytes.fromhex("365f5f375f35365fa100")
    init = bytes([0x60, len(runtime), 0x60, 12, 0x5F, 0x39, 0x60, len(runtime), 0x5F, 0xF3, 0, 0])
    chain.transact(to=None, data=init + runtime)
    chain.mine()
    address = chain.blocks[-1].receipts[0].contract_address
    chain.transact(to=address, data=b"\x07" * 40)
    pending = chain.pending_transactions[0].logs
    chain.mine()
    sealed = chain.blocks[-1].receipts[0].logs
    assert sealed == tuple(
        dataclasses.replace(lg, block_hash=chain.blocks[-1].hash) for lg in pending
    )
    assert sealed[0].block_hash == chain.blocks[-1].hash and sealed[0].topics[0] == b"\x07" * 32
