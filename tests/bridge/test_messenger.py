"""Messenger: send, attested relay, every rejection, retry, xdomain context, expire, refund."""

from __future__ import annotations

import dataclasses

import pytest
from bridge_helpers import FOREIGN_KEYS, World, high_s_twin
from eth_keys import keys
from testing_helpers import reverts

from bridge import (
    EXPIRY_TAG,
    RELAY_TAG,
    STATUS_DELIVERED,
    STATUS_EXPIRED,
    STATUS_NONE,
    Message,
    get_message_id,
    sign_digest,
)
from bridge._deploy import BRIDGE_CONTRACTS_DIR
from chains import Chain

# ---------------------------------------------------------------------------------------
# send
# ---------------------------------------------------------------------------------------


def test_send_message_records_and_emits(world: World) -> None:
    target = world.targets[world.b.chain_id]
    payload = target.handle.encode(5)
    deadline = world.deadline(world.a)
    messenger = world.messenger(world.a)
    receipt = messenger.send_message.transact(
        world.b.chain_id, target.address, payload, deadline, sender=world.roles.user
    )
    expected = get_message_id(
        world.a.chain_id, world.b.chain_id, 0, world.roles.user, target.address, payload
    )
    assert receipt.return_value == expected
    (event,) = [e for e in receipt.events if e.name == "MessageSent"]
    assert event.args == {
        "id": expected,
        "dest_chain_id": world.b.chain_id,
        "sender": world.roles.user,
        "nonce": 0,
        "target": target.address,
        "payload": payload,
        "deadline": deadline,
    }
    assert messenger.sent(expected)
    assert messenger.sent_deadline(expected) == deadline
    assert messenger.next_nonce(world.roles.user, world.b.chain_id) == 1
    message = Message.from_event(world.a.chain_id, event)
    assert message.id == expected
    assert message.deadline == deadline


@pytest.mark.parametrize(
    "payload", [b"", b"\x01", bytes(range(256)) * 4], ids=["empty", "one-byte", "1024-bytes"]
)
def test_message_id_formula_matches_python(world: World, payload: bytes) -> None:
    messenger = world.messenger(world.a)
    args = (world.a.chain_id, world.b.chain_id, 12, world.roles.user, world.roles.attacker)
    assert messenger.message_id(*args, payload) == get_message_id(*args, payload)


def test_nonce_strictly_increases_per_sender_and_destination(world: World) -> None:
    user, other = world.roles.user, world.roles.recipient
    sent = [
        world.send(world.a, world.b, sender=user)[0],
        world.send(world.a, world.b, sender=user)[0],
        world.send(world.a, world.c, sender=user)[0],
        world.send(world.a, world.b, sender=other)[0],
        world.send(world.a, world.b, sender=user)[0],
    ]
    assert [m.nonce for m in sent] == [0, 1, 0, 0, 2]
    assert len({m.id for m in sent}) == len(sent)
    messenger = world.messenger(world.a)
    assert messenger.next_nonce(user, world.b.chain_id) == 3
    assert messenger.next_nonce(user, world.c.chain_id) == 1
    assert messenger.next_nonce(other, world.b.chain_id) == 1
    # the same (sender, dest, nonce) from another chain is another message
    from_b = world.send(world.b, world.c, sender=user)[0]
    assert from_b.nonce == 0
    assert from_b.id != sent[2].id


def test_send_to_unknown_destination_reverts(world: World) -> None:
    with reverts("messenger: unknown destination"):
        world.messenger(world.a).send_message(999, world.roles.user, b"", world.deadline(world.a))
    with reverts("messenger: unknown destination"):
        world.messenger(world.a).send_message(
            world.a.chain_id, world.roles.user, b"", world.deadline(world.a)
        )


def test_send_to_zero_target_reverts(world: World) -> None:
    with reverts("messenger: zero target"):
        world.messenger(world.a).send_message(
            world.b.chain_id, "0x" + "00" * 20, b"", world.deadline(world.a)
        )


def test_send_with_past_deadline_reverts(world: World) -> None:
    with reverts("messenger: deadline passed"):
        world.send(world.a, world.b, deadline=world.a.timestamp - 1)


# ---------------------------------------------------------------------------------------
# relay: happy paths
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("source", "dest"), [("a", "b"), ("b", "a"), ("c", "b")])
def test_relay_delivers_with_xdomain_context(world: World, source: str, dest: str) -> None:
    src, dst = getattr(world, source), getattr(world, dest)
    message, _ = world.send(src, dst, 41)
    receipt = world.deployment.relay(message, sender=world.roles.relayer)
    target = world.targets[dst.chain_id]
    assert target.handled() == 1
    assert target.last_value() == 41
    assert target.last_sender() == world.roles.user
    assert target.last_source_chain_id() == src.chain_id
    assert target.last_message_id() == message.id
    assert world.messenger(dst).status(message.id) == STATUS_DELIVERED
    (event,) = [e for e in receipt.events if e.name == "MessageDelivered"]
    assert event.args == {
        "id": message.id,
        "source_chain_id": src.chain_id,
        "sender": world.roles.user,
        "nonce": 0,
        "target": target.address,
    }


def test_round_trip_a_to_b_and_back(world: World) -> None:
    there, _ = world.send(world.a, world.b, 1)
    world.deployment.relay(there)
    back, _ = world.send(world.b, world.a, 2)
    world.deployment.relay(back)
    assert world.targets[world.b.chain_id].last_value() == 1
    assert world.targets[world.a.chain_id].last_value() == 2
    assert world.targets[world.a.chain_id].last_source_chain_id() == world.b.chain_id


def test_relay_with_all_attesters_and_any_k_subset(world: World) -> None:
    keys = world.deployment.attester_keys
    for subset in (keys, keys[1:], (keys[0], keys[2])):
        message, _ = world.send(world.a, world.b)
        world.deployment.relay(message, signatures=world.deployment.attest_relay(message, subset))
        assert world.messenger(world.b).status(message.id) == STATUS_DELIVERED


def test_xdomain_context_outside_a_relay_reverts(world: World) -> None:
    messenger = world.messenger(world.b)
    for view in (
        messenger.xdomain_sender,
        messenger.xdomain_source_chain_id,
        messenger.xdomain_message_id,
    ):
        with reverts("messenger: not in a relay"):
            view()
    message, _ = world.send(world.a, world.b)
    world.deployment.relay(message)
    with reverts("messenger: not in a relay"):
        messenger.xdomain_sender()
    assert messenger.refunding_id() == b"\x00" * 32


def test_digest_views_match_python(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    assert world.messenger(world.b).relay_digest(
        world.a.chain_id, message.id, message.deadline
    ) == world.deployment.get_relay_digest(message)
    assert world.messenger(world.a).expiry_digest(
        world.b.chain_id, message.id
    ) == world.deployment.get_expiry_digest(message)
    assert world.messenger(world.a).RELAY_TAG() == RELAY_TAG
    assert world.messenger(world.a).EXPIRY_TAG() == EXPIRY_TAG


# ---------------------------------------------------------------------------------------
# relay: rejections (status stays 0 in every case)
# ---------------------------------------------------------------------------------------


def _relay_rejected(world: World, message: Message, sigs: list[bytes], *reasons: str) -> None:
    dest = world.deployment.chains.get(message.dest_chain_id, world.b)
    with reverts(*reasons):
        world.messenger(dest).relay_message(*message.relay_args(), sigs)
    for chain in (world.a, world.b, world.c):
        assert world.messenger(chain).status(message.id) == STATUS_NONE


def test_relay_on_wrong_chain_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    sigs = world.deployment.attest_relay(message)
    with reverts("messenger: wrong destination chain"):
        world.messenger(world.c).relay_message(*message.relay_args(), sigs)
    # claiming C as the destination changes the id, which the attesters never signed
    moved = Message.from_fields(
        message.source_chain_id, world.c.chain_id, *message.relay_args()[2:]
    )
    with reverts("messenger: signers not ascending", "messenger: not an attester"):
        world.messenger(world.c).relay_message(*moved.relay_args(), sigs)


def test_relay_from_unregistered_source_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    sigs = world.deployment.attest_relay(message)
    zero = "0x" + "00" * 20
    world.messenger(world.b).set_peer(world.a.chain_id, zero, sender=world.roles.owner)
    _relay_rejected(world, message, sigs, "messenger: unknown source")
    forged = Message.from_fields(999, *message.relay_args()[1:])
    _relay_rejected(
        world, forged, world.deployment.attest_relay(message), "messenger: unknown source"
    )


def test_relay_with_too_few_signatures_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    keys = world.deployment.attester_keys
    one = world.deployment.attest_relay(message, keys[:1])
    _relay_rejected(world, message, one, "messenger: too few signatures")
    _relay_rejected(world, message, [], "messenger: too few signatures")


def test_relay_with_duplicate_signer_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    (sig,) = world.deployment.attest_relay(message, world.deployment.attester_keys[:1])
    _relay_rejected(world, message, [sig, sig], "messenger: signers not ascending")


def test_relay_with_unsorted_signatures_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    sigs = world.deployment.attest_relay(message)
    _relay_rejected(world, message, sigs[::-1], "messenger: signers not ascending")


def test_relay_signed_by_non_attesters_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    forged = sign_digest(world.deployment.get_relay_digest(message), FOREIGN_KEYS)
    _relay_rejected(world, message, forged, "messenger: not an attester")
    # k − 1 honest signatures plus a forged one still fall short
    honest = world.deployment.attest_relay(message, world.deployment.attester_keys[:1])
    mixed = sign_digest(
        world.deployment.get_relay_digest(message),
        [world.deployment.attester_keys[0], FOREIGN_KEYS[0]],
    )
    assert honest[0] in mixed
    _relay_rejected(world, message, mixed, "messenger: not an attester")


@pytest.mark.parametrize(
    "bad",
    [
        b"\x00" * 65,
        b"\x00" * 64 + b"\x1b",
        b"\x01" * 32 + b"\x01" * 32 + b"\x00",
        b"\x01" * 32 + b"\x01" * 32 + b"\x1d",
    ],
    ids=["all-zero", "zero-rs", "v-0", "v-29"],
)
def test_relay_with_zero_or_default_signature_rejected(world: World, bad: bytes) -> None:
    message, _ = world.send(world.a, world.b)
    good = world.deployment.attest_relay(message, world.deployment.attester_keys[:1])
    for sigs in ([bad, bad], [bad, *good], [*good, bad]):
        _relay_rejected(
            world, message, sigs, "ecdsa: invalid signature", "messenger: signers not ascending"
        )


def test_relay_with_high_s_signature_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    sigs = world.deployment.attest_relay(message)
    _relay_rejected(
        world, message, [sigs[0], high_s_twin(sigs[1])], "ecdsa: invalid signature `s` value"
    )


def test_relay_with_compact_signature_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    sigs = world.deployment.attest_relay(message)
    _relay_rejected(world, message, [sigs[0][:64], sigs[1]], "messenger: bad signature length")


@pytest.mark.parametrize("field", ["payload", "deadline", "target", "sender", "nonce"])
def test_relay_of_tampered_message_rejected(world: World, field: str) -> None:
    message, _ = world.send(world.a, world.b, 3)
    sigs = world.deployment.attest_relay(message)
    changes = {
        "payload": world.targets[world.b.chain_id].handle.encode(3_000_000),
        "deadline": message.deadline + 1_000_000,
        "target": world.fee_token.address,
        "sender": world.roles.attacker,
        "nonce": message.nonce + 1,
    }
    fields = {**dataclasses.asdict(message), field: changes[field]}
    del fields["id"]
    tampered = Message.from_fields(**fields)
    _relay_rejected(
        world, tampered, sigs, "messenger: signers not ascending", "messenger: not an attester"
    )
    world.deployment.relay(message, signatures=sigs)  # the genuine one still goes through
    assert world.targets[world.b.chain_id].last_value() == 3


def test_replayed_message_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    world.deployment.relay(message)
    with reverts("messenger: already processed"):
        world.deployment.relay(message)
    other_sigs = world.deployment.attest_relay(message, world.deployment.attester_keys[1:])
    with reverts("messenger: already processed"):
        world.deployment.relay(message, signatures=other_sigs)
    assert world.targets[world.b.chain_id].handled() == 1


def _to_target(world: World, target: str, payload: bytes = b"") -> Message:
    receipt = world.messenger(world.a).send_message.transact(
        world.b.chain_id, target, payload, world.deadline(world.a), sender=world.roles.attacker
    )
    return world.deployment.message_from_receipt(world.a, receipt)


def test_relay_to_privileged_targets_rejected(world: World) -> None:
    messenger_b = world.messenger(world.b)
    admin = world.targets[world.b.chain_id]
    messenger_b.set_privileged(admin.address, True, sender=world.roles.owner)
    attesters = [world.roles.attacker]
    takeover = messenger_b.set_attesters.encode(attesters, 1)
    for target, payload in (
        (messenger_b.address, takeover),
        (world.roles.owner, b""),
        (admin.address, admin.handle.encode(1)),
    ):
        assert messenger_b.privileged(target)
        message = _to_target(world, target, payload)
        _relay_rejected(
            world, message, world.deployment.attest_relay(message), "messenger: privileged target"
        )
    assert messenger_b.threshold() == world.deployment.threshold
    messenger_b.set_privileged(admin.address, False, sender=world.roles.owner)
    assert not messenger_b.privileged(admin.address)


def test_relay_of_refund_callback_rejected(world: World) -> None:
    bridge_b = world.bridge(world.b)
    payload = bridge_b.on_message_refunded.encode(
        b"\x11" * 32, world.a.chain_id, world.roles.attacker, b""
    )
    for target in (bridge_b.address, world.targets[world.b.chain_id].address):
        message = _to_target(world, target, payload)
        _relay_rejected(
            world, message, world.deployment.attest_relay(message), "messenger: refund callback"
        )


def test_relay_to_token_bridge_from_non_peer_rejected(world: World) -> None:
    bridge_b = world.bridge(world.b)
    payload = bridge_b.receive_tokens.encode(
        world.a.chain_id, world.usdc.address, world.roles.attacker, world.roles.attacker, 10**12
    )
    message = _to_target(world, bridge_b.address, payload)
    _relay_rejected(
        world, message, world.deployment.attest_relay(message), "bridge: not from peer bridge"
    )


def test_relay_after_deadline_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b)
    world.expire_past(message)
    _relay_rejected(
        world, message, world.deployment.attest_relay(message), "messenger: message expired"
    )


def test_unconfigured_messenger_relays_nothing(world: World) -> None:
    fresh = world.b.deploy(BRIDGE_CONTRACTS_DIR / "Messenger.vy", sender=world.roles.owner)
    fresh.set_peer(world.a.chain_id, world.messenger(world.a).address, sender=world.roles.owner)
    message, _ = world.send(world.a, world.b)
    for sigs in ([], world.deployment.attest_relay(message)):
        with reverts("messenger: no attesters"):
            fresh.relay_message(*message.relay_args(), sigs)


# ---------------------------------------------------------------------------------------
# failing targets, reentrancy
# ---------------------------------------------------------------------------------------


def test_reverting_target_leaves_message_retryable(world: World) -> None:
    target = world.targets[world.b.chain_id]
    target.set_reverts(True)
    message, _ = world.send(world.a, world.b, 9)
    with reverts("target: told to revert") as info:
        world.deployment.relay(message)
    assert info.value.receipt is not None and not info.value.receipt.status
    assert world.messenger(world.b).status(message.id) == STATUS_NONE
    assert target.handled() == 0
    target.set_reverts(False)
    world.deployment.relay(message)
    assert world.messenger(world.b).status(message.id) == STATUS_DELIVERED
    assert target.handled() == 1
    assert target.last_value() == 9


def test_target_cannot_reenter_relay(world: World) -> None:
    target = world.targets[world.b.chain_id]
    inner, _ = world.send(world.a, world.b, 1)
    messenger_b = world.messenger(world.b)
    inner_call = messenger_b.relay_message.encode(
        *inner.relay_args(), world.deployment.attest_relay(inner)
    )
    outer_payload = target.reenter.encode(inner_call)
    receipt = world.messenger(world.a).send_message.transact(
        world.b.chain_id,
        target.address,
        outer_payload,
        world.deadline(world.a),
        sender=world.roles.user,
    )
    outer = world.deployment.message_from_receipt(world.a, receipt)
    world.deployment.relay(outer)
    assert target.reentry_attempts() == 1
    assert not target.reentry_succeeded()
    assert messenger_b.status(inner.id) == STATUS_NONE
    world.deployment.relay(inner)  # still deliverable on its own
    assert messenger_b.status(inner.id) == STATUS_DELIVERED


def test_target_may_send_a_reply_during_relay(world: World) -> None:
    target = world.targets[world.b.chain_id]
    messenger_b = world.messenger(world.b)
    reply_target = world.targets[world.a.chain_id]
    reply = messenger_b.send_message.encode(
        world.a.chain_id,
        reply_target.address,
        reply_target.handle.encode(77),
        world.deadline(world.b),
    )
    receipt = world.messenger(world.a).send_message.transact(
        world.b.chain_id,
        target.address,
        target.reenter.encode(reply),
        world.deadline(world.a),
        sender=world.roles.user,
    )
    outer = world.deployment.message_from_receipt(world.a, receipt)
    relayed = world.deployment.relay(outer)
    assert target.reentry_succeeded()
    answer = world.deployment.message_from_receipt(world.b, relayed)
    assert answer.sender == target.address
    world.deployment.relay(answer)
    assert reply_target.last_value() == 77
    assert reply_target.last_sender() == target.address


# ---------------------------------------------------------------------------------------
# expiry and refund
# ---------------------------------------------------------------------------------------


def test_expire_then_refund_exactly_once(world: World) -> None:
    target_a = world.targets[world.a.chain_id]
    receipt = target_a.send.transact(
        world.b.chain_id,
        world.targets[world.b.chain_id].address,
        world.targets[world.b.chain_id].handle.encode(5),
        world.deadline(world.a, 60),
    )
    message = world.deployment.message_from_receipt(world.a, receipt)
    assert message.sender == target_a.address
    with reverts("messenger: not expired yet"):
        world.deployment.expire(message)
    world.expire_past(message)
    expired = world.deployment.expire(message, sender=world.roles.relayer)
    assert [e.args for e in expired.events if e.name == "MessageExpired"] == [
        {"id": message.id, "source_chain_id": world.a.chain_id}
    ]
    assert world.messenger(world.b).status(message.id) == STATUS_EXPIRED
    with reverts("messenger: message expired"):
        world.deployment.relay(message)
    with reverts("messenger: already processed"):
        world.deployment.expire(message)

    refunded = world.deployment.refund(message, sender=world.roles.relayer)
    assert [e.args for e in refunded.events if e.name == "MessageRefunded"] == [
        {"id": message.id, "dest_chain_id": world.b.chain_id, "sender": target_a.address}
    ]
    messenger_a = world.messenger(world.a)
    assert messenger_a.refunded(message.id)
    assert target_a.refunds() == 1
    assert target_a.last_refund_id() == message.id
    assert target_a.last_refund_dest() == world.b.chain_id
    assert target_a.last_refund_payload() == message.payload
    with reverts("messenger: already refunded"):
        world.deployment.refund(message)
    assert target_a.refunds() == 1


def test_expired_message_never_relays_even_with_valid_attestation(world: World) -> None:
    message, _ = world.send(world.a, world.b, deadline=world.deadline(world.a, 30))
    world.expire_past(message)
    world.deployment.expire(message)
    all_sigs = world.deployment.attest_relay(message, world.deployment.attester_keys)
    with reverts("messenger: message expired"):
        world.deployment.relay(message, signatures=all_sigs)
    assert world.targets[world.b.chain_id].handled() == 0


def test_expire_needs_the_attested_deadline(world: World) -> None:
    message, _ = world.send(world.a, world.b)  # deadline an hour ahead
    claimed = dataclasses.replace(message, deadline=world.b.timestamp - 1)
    forged = sign_digest(world.deployment.get_relay_digest(claimed), FOREIGN_KEYS[:2])
    with reverts("messenger: not an attester"):
        world.deployment.expire(claimed, signatures=forged)
    # the genuine attestation names the real deadline, which has not passed
    with reverts("messenger: signers not ascending", "messenger: not an attester"):
        world.deployment.expire(claimed, signatures=world.deployment.attest_relay(message))
    with reverts("messenger: not expired yet"):
        world.deployment.expire(message)
    world.deployment.relay(message)
    assert world.messenger(world.b).status(message.id) == STATUS_DELIVERED


def test_expire_after_delivery_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b, deadline=world.deadline(world.a, 30))
    world.deployment.relay(message)
    world.expire_past(message)
    with reverts("messenger: already processed"):
        world.deployment.expire(message)


def test_refund_with_forged_attestation_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b, deadline=world.deadline(world.a, 30))
    world.expire_past(message)
    # no expiry on B yet: a forger signs the expiry digest himself
    forged = sign_digest(world.deployment.get_expiry_digest(message), FOREIGN_KEYS)
    with reverts("messenger: not an attester"):
        world.deployment.refund(message, signatures=forged)
    # a relay attestation is not an expiry attestation (domain-separated digests)
    relay_sigs = world.deployment.attest_relay(message)
    with reverts("messenger: signers not ascending", "messenger: not an attester"):
        world.deployment.refund(message, signatures=relay_sigs)
    too_few = world.deployment.attest_expiry(message, world.deployment.attester_keys[:1])
    with reverts("messenger: too few signatures"):
        world.deployment.refund(message, signatures=too_few)
    assert not world.messenger(world.a).refunded(message.id)


def test_refund_of_unknown_message_or_wrong_deadline_rejected(world: World) -> None:
    message, _ = world.send(world.a, world.b, deadline=world.deadline(world.a, 30))
    never_sent = Message.from_fields(*message.relay_args()[:2], 99, *message.relay_args()[3:])
    with reverts("messenger: unknown message"):
        world.deployment.refund(never_sent)
    wrong = dataclasses.replace(message, deadline=message.deadline + 1)
    with reverts("messenger: wrong deadline"):
        world.deployment.refund(wrong)
    with reverts("messenger: unknown destination"):
        world.deployment.messenger(world.a).refund_message(
            999, *message.refund_args()[1:], world.deployment.attest_expiry(message)
        )


def test_refund_callback_revert_keeps_refund_retryable(world: World) -> None:
    target_a = world.targets[world.a.chain_id]
    target_b = world.targets[world.b.chain_id]
    receipt = target_a.send.transact(
        world.b.chain_id, target_b.address, target_b.handle.encode(1), world.deadline(world.a, 5)
    )
    message = world.deployment.message_from_receipt(world.a, receipt)
    world.expire_past(message)
    world.deployment.expire(message)
    target_a.set_refund_reverts(True)
    with reverts("target: refund told to revert"):
        world.deployment.refund(message)
    assert not world.messenger(world.a).refunded(message.id)
    target_a.set_refund_reverts(False)
    world.deployment.refund(message)
    assert world.messenger(world.a).refunded(message.id)
    assert target_a.refunds() == 1


def test_refund_to_eoa_sender_has_no_callback(world: World) -> None:
    message, _ = world.send(world.a, world.b, deadline=world.deadline(world.a, 5))
    world.expire_past(message)
    world.deployment.expire(message)
    receipt = world.deployment.refund(message)
    assert [e.name for e in receipt.events] == ["MessageRefunded"]


# ---------------------------------------------------------------------------------------
# admin
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attesters", "threshold", "reason"),
    [
        ("three", 0, "messenger: threshold below 1"),
        ("three", 4, "messenger: threshold above attesters"),
        ("none", 1, "messenger: threshold above attesters"),
        ("with-zero", 1, "messenger: zero attester"),
        ("with-duplicate", 1, "messenger: duplicate attester"),
    ],
)
def test_set_attesters_validates(world: World, attesters: str, threshold: int, reason: str) -> None:
    good = world.deployment.attesters
    lists = {
        "three": good,
        "none": [],
        "with-zero": [*good[:2], "0x" + "00" * 20],
        "with-duplicate": [good[0], good[1], good[0]],
    }
    with reverts(reason):
        world.messenger(world.a).set_attesters(
            lists[attesters], threshold, sender=world.roles.owner
        )


def test_set_attesters_replaces_the_set(world: World) -> None:
    messenger_b = world.messenger(world.b)
    new = [keys.PrivateKey(k).public_key.to_checksum_address() for k in FOREIGN_KEYS]
    messenger_b.set_attesters(new, 2, sender=world.roles.owner)
    assert messenger_b.attesters() == new
    for old in world.deployment.attesters:
        assert not messenger_b.is_attester(old)
    message, _ = world.send(world.a, world.b)
    with reverts("messenger: not an attester"):
        world.deployment.relay(message)
    world.deployment.relay(
        message, signatures=world.deployment.attest_relay(message, FOREIGN_KEYS[:2])
    )
    assert messenger_b.status(message.id) == STATUS_DELIVERED


@pytest.mark.parametrize("call", ["set_peer", "set_attesters", "set_privileged"])
def test_admin_is_owner_only(world: World, call: str) -> None:
    messenger = world.messenger(world.a)
    args = {
        "set_peer": (world.b.chain_id, world.roles.attacker),
        "set_attesters": ([world.roles.attacker], 1),
        "set_privileged": (world.roles.attacker, True),
    }[call]
    with reverts("ownable: caller is not the owner"):
        getattr(messenger, call).transact(*args, sender=world.roles.attacker)


def test_set_peer_for_own_chain_rejected(world: World) -> None:
    with reverts("messenger: own chain"):
        world.messenger(world.a).set_peer(
            world.a.chain_id, world.roles.attacker, sender=world.roles.owner
        )


def test_messenger_reports_its_chain(world: World) -> None:
    chain: Chain
    for chain in (world.a, world.b, world.c):
        assert world.messenger(chain).chain_id() == chain.chain_id
