"""A send a reorg discards, sent again under the same message id with another deadline;
and a message that waits for confirmations that never come.

The message id leaves the deadline out (``Messenger.message_id``), and a discarded send
gives its nonce back: the sender's next send to the same target with the same payload has
the same id, and only its deadline differs. The relayer must act on the deadline of the
send that is on the chain now — the one the source messenger checks on refund and the
attesters sign — never on the orphaned one (regression: the refund kept reverting with
"messenger: wrong deadline", and a message with no deadline was expired at the old one).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_helpers import World
from relayer_helpers import MAX_UINT256, Relayers, bridge_usdc, relayers_for

from bridge import Relayer


@pytest.fixture
def relayers(world: World, tmp_path: Path) -> Iterator[Relayers]:
    """Starts relayers on the world's deployment; all stopped after the test."""
    with relayers_for(world, tmp_path) as pool:
        yield pool


def _record(relayer: Relayer, message_id: str):  # type: ignore[no-untyped-def]
    record = relayer.get(message_id)
    assert record is not None
    return record


def _send_privileged(world: World, deadline: int) -> str:
    """A message from A to B's messenger itself: a privileged target, never delivered."""
    receipt = world.messenger(world.a).send_message.transact(
        world.b.chain_id,
        world.messenger(world.b).address,
        b"\x01\x02",
        deadline,
        sender=world.roles.user,
    )
    return "0x" + world.deployment.message_from_receipt(world.a, receipt).id.hex()


def test_a_token_send_discarded_and_sent_again_without_deadline_is_delivered(
    world: World, relayers: Relayers
) -> None:
    relayer = relayers.start(latency="intent-fill", confirmations=2)
    first = bridge_usdc(world, world.c, 2_793, deadline=world.deadline(world.a, 5))
    world.devnet.advance(0)
    world.a.reorg(1, dropped="discard")
    assert _record(relayer, first).status == "orphaned"
    world.devnet.advance(120)  # past the orphaned send's deadline

    again = bridge_usdc(world, world.c, 2_793)  # same nonce: the same id, no deadline
    assert again == first
    world.a.mine(2)
    world.devnet.advance(3 * 3_600)

    record = _record(relayer, again)
    assert (record.status, record.deadline) == ("executed", MAX_UINT256)
    assert world.messenger(world.c).status(bytes.fromhex(again[2:])) == 1  # delivered
    assert world.wusdc[world.c.chain_id].totalSupply() == 2_793
    assert relayer.reconcile() == []


def test_a_privileged_send_discarded_and_sent_again_is_refunded_at_its_new_deadline(
    world: World, relayers: Relayers
) -> None:
    relayer = relayers.start(latency="intent-fill", confirmations=2)
    first = _send_privileged(world, world.deadline(world.a, 300))
    world.devnet.advance(0)
    world.a.reorg(1, dropped="discard")
    world.devnet.advance(30)

    again = _send_privileged(world, world.deadline(world.a, 300))  # a later deadline
    assert again == first
    raw = bytes.fromhex(again[2:])
    world.a.mine(2)
    world.devnet.advance(3 * 3_600)

    record = _record(relayer, again)
    assert record.status == "refunded", record
    assert record.deadline == world.messenger(world.a).sent_deadline(raw)
    assert world.messenger(world.a).refunded(raw)
    assert world.messenger(world.b).status(raw) == 2  # expired, never delivered
    assert "wrong deadline" not in " ".join(e.detail for e in relayer.events(again))


def test_a_send_expired_on_the_destination_then_discarded_and_sent_again_is_refunded(
    world: World, relayers: Relayers
) -> None:
    """The destination expired the message under its first send; a reorg then takes that
    send away and the sender sends it again: it can never be delivered, so it is refunded
    (it does not wait for a delivery the destination refuses)."""
    relayer = relayers.start(latency="same-block", confirmations=0)
    relayer.pause()  # observing, not relaying: the first send runs out of time
    message, _ = world.send(world.a, world.b, 11, deadline=world.deadline(world.a, 5))
    first, raw = "0x" + message.id.hex(), message.id
    world.devnet.advance(30)
    world.deployment.expire(message, sender=world.roles.attacker)
    world.devnet.advance(0)
    assert _record(relayer, first).status == "expired"
    assert world.messenger(world.b).status(raw) == 2

    # the send's block is rewritten away, along with everything on A after it
    depth = world.a.block_number - _record(relayer, first).sent_block + 1
    world.a.reorg(depth, dropped="discard")
    assert _record(relayer, first).status == "orphaned"
    again, _ = world.send(world.a, world.b, 11, deadline=world.deadline(world.a, 60))
    assert again.id == raw
    relayer.resume()
    world.devnet.advance(600)

    assert _record(relayer, first).status == "refunded"
    assert world.messenger(world.a).refunded(raw)
    assert world.messenger(world.a).sent_deadline(raw) == again.deadline
    assert int(world.targets[world.b.chain_id].handled()) == 0


def test_a_message_waiting_for_confirmations_is_expired_and_refunded_at_its_deadline(
    world: World, relayers: Relayers
) -> None:
    """A waits for two blocks on top of the lock, and A seals none: at the deadline the
    message is expired on the destination and refunded, not left waiting for ever."""
    relayer = relayers.start(latency="intent-fill", confirmations=2)
    user_before = world.usdc.balanceOf(world.roles.user)
    message_id = bridge_usdc(world, world.b, 1, deadline=world.deadline(world.a, 5))
    world.devnet.advance(1_800)

    record = _record(relayer, message_id)
    assert record.status == "refunded"
    assert [e.status for e in relayer.events(message_id)] == ["sent", "expired", "refunded"]
    assert world.messenger(world.b).status(bytes.fromhex(message_id[2:])) == 2
    assert world.usdc.balanceOf(world.roles.user) == user_before
    assert world.bridge(world.a).locked(world.usdc.address) == 0
