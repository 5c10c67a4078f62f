"""Property tests against Python models: the id formula, the signature rule, the rate limit.

Each example runs inside its own ``anchor()`` on the session bridge world, so examples do
not see each other's transactions.
"""

from __future__ import annotations

from typing import Any

from bridge_helpers import FOREIGN_KEYS, World
from eth_abi import encode
from eth_keys import keys
from eth_utils import keccak, to_checksum_address
from hypothesis import given, note
from hypothesis import strategies as st

from bridge import (
    RELAY_TAG,
    STATUS_DELIVERED,
    STATUS_NONE,
    get_message_id,
    get_relay_digest,
    sign_digest,
)
from chains import TransactionReverted

_uint = st.integers(min_value=0, max_value=2**256 - 1)
_address = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())


@given(
    source=_uint,
    dest=_uint,
    nonce=_uint,
    sender=_address,
    target=_address,
    payload=st.binary(max_size=1024),
)
def test_message_id_matches_python_for_any_fields(
    session_world: World,
    source: int,
    dest: int,
    nonce: int,
    sender: str,
    target: str,
    payload: bytes,
) -> None:
    messenger = session_world.messenger(session_world.a)
    fields = (source, dest, nonce, sender, target, payload)
    assert messenger.message_id(*fields) == get_message_id(*fields)


# signer pool: the three attesters (0-2) and two outsiders (3-4)
_POOL_SIZE = 5


@given(
    picks=st.lists(st.integers(min_value=0, max_value=_POOL_SIZE - 1), max_size=6),
    order=st.sampled_from(["sorted", "as-drawn", "reversed"]),
)
def test_relay_accepts_exactly_the_valid_signature_sets(
    session_world: World, picks: list[int], order: str
) -> None:
    world = session_world
    pool = [*world.deployment.attester_keys, *FOREIGN_KEYS[:2]]
    with world.devnet.anchor():
        message, _ = world.send(world.a, world.b)
        digest = world.deployment.get_relay_digest(message)
        signed = [
            (
                keys.PrivateKey(pool[i]).public_key.to_canonical_address(),
                sign_digest(digest, [pool[i]])[0],
            )
            for i in picks
        ]
        if order == "sorted":
            signed.sort(key=lambda pair: pair[0])
        elif order == "reversed":
            signed.sort(key=lambda pair: pair[0], reverse=True)
        signers = [s for s, _ in signed]
        expected = (
            len(signed) >= world.deployment.threshold
            and all(i < len(world.deployment.attester_keys) for i in picks)
            and all(a < b for a, b in zip(signers, signers[1:], strict=False))
        )
        note(f"picks={picks} order={order} expected={expected}")
        try:
            world.deployment.relay(message, signatures=[sig for _, sig in signed])
            accepted = True
        except TransactionReverted as exc:
            note(f"reverted: {exc.reason}")
            accepted = False
        assert accepted == expected
        status = world.messenger(world.b).status(message.id)
        assert status == (STATUS_DELIVERED if expected else STATUS_NONE)


_step = st.tuples(st.integers(min_value=0, max_value=120), st.integers(min_value=1, max_value=400))


@given(
    capacity=st.integers(min_value=1, max_value=1_000),
    refill=st.integers(min_value=0, max_value=20),
    steps=st.lists(_step, min_size=1, max_size=8),
)
def test_rate_limit_matches_token_bucket_model(
    session_world: World, capacity: int, refill: int, steps: list[tuple[int, int]]
) -> None:
    world = session_world
    bridge_a, usdc, lane = world.bridge(world.a), world.usdc, world.b.chain_id
    with world.devnet.anchor():
        receipt = bridge_a.set_rate_limit.transact(
            usdc.address, lane, capacity, refill, sender=world.roles.owner
        )
        level, updated = capacity, world.a.get_block(receipt.block_number).timestamp
        for wait, amount in steps:
            world.devnet.advance(wait)
            now = max(int(world.devnet.now), world.a.timestamp + 1)  # the next block's time
            model = min(capacity, level + refill * (now - updated))
            assert bridge_a.available(usdc.address, lane) == model
            note(f"t={now} level={model} send={amount}")
            try:
                sent = bridge_a.bridge_out.transact(
                    usdc.address,
                    amount,
                    lane,
                    world.roles.recipient,
                    world.deadline(world.a),
                    sender=world.roles.user,
                )
            except TransactionReverted as exc:
                assert exc.reason == "bridge: rate limited"
                assert amount > model
                continue
            assert amount <= model
            assert world.a.get_block(sent.block_number).timestamp == now
            level, updated = model - amount, now


_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@given(
    secrets=st.lists(
        st.integers(min_value=1, max_value=_SECP256K1_N - 1), min_size=1, max_size=4, unique=True
    ),
    digest=st.binary(min_size=32, max_size=32),
)
def test_sign_digest_matches_fresh_eth_keys_signatures(secrets: list[int], digest: bytes) -> None:
    """The memoised key objects sign exactly as freshly built ones, in signer order; the
    second call (memo hit) gives the same bytes as the first."""
    raw_keys = [s.to_bytes(32, "big") for s in secrets]
    expected = []
    for key in raw_keys:
        pk = keys.PrivateKey(key)
        sig = pk.sign_msg_hash(digest)
        raw = sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])
        expected.append((pk.public_key.to_canonical_address(), raw))
    expected.sort(key=lambda pair: pair[0])
    assert sign_digest(digest, raw_keys) == [raw for _, raw in expected]
    assert sign_digest(digest, raw_keys) == [raw for _, raw in expected]


def _outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    try:
        return ("ok", fn(*args))
    except Exception as exc:
        return ("error", type(exc), str(exc))


def _eth_keys_signature(digest: Any, key: bytes) -> bytes:
    sig = keys.PrivateKey(key).sign_msg_hash(digest)
    return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


@given(
    digest=st.one_of(
        st.binary(min_size=31, max_size=33),
        st.binary(min_size=32, max_size=32).map(bytearray),
        st.text(min_size=32, max_size=32),
    ),
    key=st.one_of(st.binary(min_size=32, max_size=32), st.just(bytes(32))),
)
def test_sign_digest_refuses_what_eth_keys_refuses(digest: Any, key: bytes) -> None:
    assert _outcome(lambda: sign_digest(digest, [key])) == _outcome(
        lambda: [_eth_keys_signature(digest, key)]
    )


_ADDRESS = st.binary(min_size=20, max_size=20)


@given(
    source=st.one_of(
        _ADDRESS.map(to_checksum_address),
        _ADDRESS.map(lambda b: "0x" + b.hex()),
        _ADDRESS.map(lambda b: "0x" + b.hex().upper()),  # not a checksum: eth_abi refuses
        _ADDRESS,
        st.text(max_size=4),
    ),
    message_id=st.one_of(
        st.binary(min_size=32, max_size=32),
        st.binary(max_size=33),
        st.binary(min_size=32, max_size=32).map(bytearray),
    ),
    deadline=st.one_of(st.integers(-5, 2**256 + 5), st.booleans(), st.floats(0, 10)),
)
def test_relay_digest_words_match_eth_abi(source: Any, message_id: Any, deadline: Any) -> None:
    def eth_abi_digest() -> bytes:
        return keccak(
            encode(
                ["bytes32", "address", "bytes32", "uint256"],
                [RELAY_TAG, source, message_id, deadline],
            )
        )

    assert _outcome(get_relay_digest, source, message_id, deadline) == _outcome(eth_abi_digest)
