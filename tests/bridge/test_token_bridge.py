"""TokenBridge: lock → mint, burn → release, fee-on-transfer, rate limits, auth, refunds,
and the supply invariant (locked on home == wrapped supply on remotes + in flight)."""

from __future__ import annotations

import pytest
from bridge_helpers import MAX_UINT256, USDC, World, bridged_supply
from hypothesis import given, note
from hypothesis import strategies as st
from testing_helpers import reverts

from bridge import STATUS_DELIVERED, Message, sign_digest
from bridge._deploy import CONTRACTS_DIR
from chains import Chain, Contract, Receipt


def _out(
    world: World,
    token: Contract,
    amount: int,
    source: Chain,
    dest: Chain,
    *,
    sender: str | None = None,
    recipient: str | None = None,
    deadline: int | None = None,
) -> tuple[Message, Receipt]:
    receipt = world.bridge(source).bridge_out.transact(
        token.address,
        amount,
        dest.chain_id,
        recipient or world.roles.recipient,
        world.deadline(source) if deadline is None else deadline,
        sender=sender or world.roles.user,
    )
    return world.deployment.message_from_receipt(source, receipt), receipt


def _assert_supply_invariant(world: World, in_flight: int = 0) -> None:
    locked = world.bridge(world.a).locked(world.usdc.address)
    assert locked == world.usdc.balanceOf(world.bridge(world.a).address)
    assert locked == bridged_supply(world, world.a, world.usdc) + in_flight


def test_lock_then_mint(world: World) -> None:
    amount = 250 * USDC
    before = world.usdc.balanceOf(world.roles.user)
    message, receipt = _out(world, world.usdc, amount, world.a, world.b)
    (locked,) = [e for e in receipt.events if e.name == "TokensLocked"]
    assert locked.args == {
        "id": message.id,
        "token": world.usdc.address,
        "sender": world.roles.user,
        "dest_chain_id": world.b.chain_id,
        "recipient": world.roles.recipient,
        "amount": amount,
    }
    assert receipt.return_value == message.id
    assert message.target == world.bridge(world.b).address
    assert message.sender == world.bridge(world.a).address
    assert world.usdc.balanceOf(world.roles.user) == before - amount
    assert world.bridge(world.a).locked(world.usdc.address) == amount
    _assert_supply_invariant(world, in_flight=amount)

    relayed = world.deployment.relay(message, sender=world.roles.relayer)
    wusdc = world.wusdc[world.b.chain_id]
    assert wusdc.balanceOf(world.roles.recipient) == amount
    (minted,) = [e for e in relayed.events if e.name == "TokensMinted"]
    assert minted.args == {
        "id": message.id,
        "token": wusdc.address,
        "recipient": world.roles.recipient,
        "source_chain_id": world.a.chain_id,
        "amount": amount,
    }
    _assert_supply_invariant(world)


def test_burn_then_release(world: World) -> None:
    there, _ = _out(world, world.usdc, 100 * USDC, world.a, world.b)
    world.deployment.relay(there)
    wusdc = world.wusdc[world.b.chain_id]
    holder = world.roles.recipient
    wusdc.approve(world.bridge(world.b).address, MAX_UINT256, sender=holder)
    back, receipt = _out(
        world, wusdc, 40 * USDC, world.b, world.a, sender=holder, recipient=world.roles.attacker
    )
    (burned,) = [e for e in receipt.events if e.name == "TokensBurned"]
    assert burned.args["amount"] == 40 * USDC
    assert burned.args["token"] == wusdc.address
    assert wusdc.balanceOf(holder) == 60 * USDC
    assert wusdc.totalSupply() == 60 * USDC
    _assert_supply_invariant(world, in_flight=40 * USDC)
    relayed = world.deployment.relay(back)
    (released,) = [e for e in relayed.events if e.name == "TokensReleased"]
    assert released.args["recipient"] == world.roles.attacker
    assert released.args["amount"] == 40 * USDC
    assert world.usdc.balanceOf(world.roles.attacker) == 40 * USDC
    assert world.bridge(world.a).locked(world.usdc.address) == 60 * USDC
    _assert_supply_invariant(world)


def test_round_trip_through_two_remotes(world: World) -> None:
    start = world.usdc.balanceOf(world.roles.user)
    to_b, _ = _out(world, world.usdc, 30 * USDC, world.a, world.b, recipient=world.roles.user)
    to_c, _ = _out(world, world.usdc, 20 * USDC, world.a, world.c, recipient=world.roles.user)
    world.deployment.relay(to_c)
    world.deployment.relay(to_b)
    _assert_supply_invariant(world)
    for chain, amount in ((world.b, 30 * USDC), (world.c, 20 * USDC)):
        wrapped = world.wusdc[chain.chain_id]
        wrapped.approve(world.bridge(chain).address, MAX_UINT256, sender=world.roles.user)
        home, _ = _out(world, wrapped, amount, chain, world.a, recipient=world.roles.user)
        world.deployment.relay(home)
    assert world.usdc.balanceOf(world.roles.user) == start
    assert world.bridge(world.a).locked(world.usdc.address) == 0
    _assert_supply_invariant(world)


def test_wrapped_goes_home_only(world: World) -> None:
    there, _ = _out(world, world.usdc, 10 * USDC, world.a, world.b, recipient=world.roles.user)
    world.deployment.relay(there)
    wusdc = world.wusdc[world.b.chain_id]
    wusdc.approve(world.bridge(world.b).address, MAX_UINT256, sender=world.roles.user)
    with reverts("bridge: wrapped goes home only"):
        _out(world, wusdc, 5 * USDC, world.b, world.c)


def test_burn_needs_allowance(world: World) -> None:
    there, _ = _out(world, world.usdc, 10 * USDC, world.a, world.b, recipient=world.roles.user)
    world.deployment.relay(there)
    with reverts("erc20: insufficient allowance"):
        _out(world, world.wusdc[world.b.chain_id], 5 * USDC, world.b, world.a)


def test_fee_on_transfer_token_locks_only_what_arrived(world: World) -> None:
    message, receipt = _out(world, world.fee_token, 1_000, world.a, world.b)
    (locked,) = [e for e in receipt.events if e.name == "TokensLocked"]
    assert locked.args["amount"] == 900  # 10% fee burned in transit
    bridge_a = world.bridge(world.a)
    assert bridge_a.locked(world.fee_token.address) == 900
    assert world.fee_token.balanceOf(bridge_a.address) == 900
    wrapped = world.b.deploy(
        CONTRACTS_DIR / "Token.vy",
        "Bridged Fee",
        "wFEE",
        18,
        sender=world.roles.owner,
    )
    wrapped.set_minter(world.bridge(world.b).address, True, sender=world.roles.owner)
    world.bridge(world.b).register_wrapped(
        world.a.chain_id, world.fee_token.address, wrapped.address, sender=world.roles.owner
    )
    world.deployment.relay(message)
    assert wrapped.balanceOf(world.roles.recipient) == 900


def test_zero_delta_lock_reverts(world: World) -> None:
    world.fee_token.set_fee(10_000)  # everything burned: nothing arrives
    with reverts("bridge: nothing arrived"):
        _out(world, world.fee_token, 1_000, world.a, world.b)
    assert world.bridge(world.a).locked(world.fee_token.address) == 0


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("zero-amount", "bridge: zero amount"),
        ("zero-recipient", "bridge: zero recipient"),
        ("unknown-destination", "bridge: unknown destination"),
        ("unknown-token", "bridge: unknown token"),
        ("past-deadline", "messenger: deadline passed"),
    ],
)
def test_bridge_out_rejects_bad_input(world: World, case: str, reason: str) -> None:
    bridge_a = world.bridge(world.a)
    args = [
        world.usdc.address,
        10,
        world.b.chain_id,
        world.roles.recipient,
        world.deadline(world.a),
    ]
    if case == "zero-amount":
        args[1] = 0
    elif case == "zero-recipient":
        args[3] = "0x" + "00" * 20
    elif case == "unknown-destination":
        args[2] = 999
    elif case == "unknown-token":
        args[0] = world.targets[world.a.chain_id].address
    else:
        args[4] = world.a.timestamp - 1
    with reverts(reason):
        bridge_a.bridge_out(*args, sender=world.roles.user)
    assert bridge_a.locked(world.usdc.address) == 0


# ---------------------------------------------------------------------------------------
# rate limits
# ---------------------------------------------------------------------------------------


def _next_block_time(world: World, chain: Chain) -> int:
    return max(int(world.devnet.now), chain.timestamp + 1)


def test_rate_limit_bucket_drains_and_refills_per_lane(world: World) -> None:
    bridge_a, owner = world.bridge(world.a), world.roles.owner
    assert bridge_a.available(world.usdc.address, world.b.chain_id) == MAX_UINT256
    bridge_a.set_rate_limit(world.usdc.address, world.b.chain_id, 1_000, 0, sender=owner)
    assert bridge_a.rate_limit(world.usdc.address, world.b.chain_id) == (1_000, 0)
    assert bridge_a.available(world.usdc.address, world.b.chain_id) == 1_000
    _out(world, world.usdc, 600, world.a, world.b)
    assert bridge_a.available(world.usdc.address, world.b.chain_id) == 400
    with reverts("bridge: rate limited"):
        _out(world, world.usdc, 401, world.a, world.b)
    _out(world, world.usdc, 400, world.a, world.b)
    assert bridge_a.available(world.usdc.address, world.b.chain_id) == 0
    with reverts("bridge: rate limited"):
        _out(world, world.usdc, 1, world.a, world.b)
    # the lane to C is separate (and unlimited)
    _out(world, world.usdc, 5_000, world.a, world.c)
    assert bridge_a.available(world.usdc.address, world.c.chain_id) == MAX_UINT256
    # no refill configured: time does not help
    world.devnet.advance(10_000)
    assert bridge_a.available(world.usdc.address, world.b.chain_id) == 0
    # capacity 0 removes the limit
    bridge_a.set_rate_limit(world.usdc.address, world.b.chain_id, 0, 0, sender=owner)
    _out(world, world.usdc, 10_000, world.a, world.b)


def test_rate_limit_refills_with_time(world: World) -> None:
    bridge_a, owner = world.bridge(world.a), world.roles.owner
    bridge_a.set_rate_limit(world.usdc.address, world.b.chain_id, 1_000, 7, sender=owner)
    _, receipt = _out(world, world.usdc, 1_000, world.a, world.b)
    drained_at = world.a.get_block(receipt.block_number).timestamp
    world.devnet.advance(60)
    expected = 7 * (_next_block_time(world, world.a) - drained_at)
    assert 0 < expected < 1_000
    assert bridge_a.available(world.usdc.address, world.b.chain_id) == expected
    with reverts("bridge: rate limited"):
        _out(world, world.usdc, expected + 7 * 5, world.a, world.b)
    world.devnet.advance(1_000)  # far past a full refill: capped at capacity
    assert bridge_a.available(world.usdc.address, world.b.chain_id) == 1_000
    _out(world, world.usdc, 1_000, world.a, world.b)


def test_rate_limit_on_the_way_home(world: World) -> None:
    there, _ = _out(world, world.usdc, 100, world.a, world.b, recipient=world.roles.user)
    world.deployment.relay(there)
    wusdc, bridge_b = world.wusdc[world.b.chain_id], world.bridge(world.b)
    wusdc.approve(bridge_b.address, MAX_UINT256, sender=world.roles.user)
    bridge_b.set_rate_limit(wusdc.address, world.a.chain_id, 50, 0, sender=world.roles.owner)
    _out(world, wusdc, 50, world.b, world.a)
    with reverts("bridge: rate limited"):
        _out(world, wusdc, 1, world.b, world.a)


def test_inbound_rate_limit_holds_relays_until_refilled(world: World) -> None:
    bridge_b, wusdc = world.bridge(world.b), world.wusdc[world.b.chain_id]
    bridge_b.set_inbound_rate_limit(
        wusdc.address, world.a.chain_id, 100, 0, sender=world.roles.owner
    )
    assert bridge_b.inbound_rate_limit(wusdc.address, world.a.chain_id) == (100, 0)
    assert bridge_b.available_inbound(wusdc.address, world.c.chain_id) == MAX_UINT256
    first, _ = _out(world, world.usdc, 60, world.a, world.b)
    second, _ = _out(world, world.usdc, 60, world.a, world.b)
    world.deployment.relay(first)
    assert bridge_b.available_inbound(wusdc.address, world.a.chain_id) == 40
    with reverts("bridge: inbound rate limited"):
        world.deployment.relay(second)
    assert world.messenger(world.b).status(second.id) == 0  # still retryable
    _assert_supply_invariant(world, in_flight=60)
    bridge_b.set_inbound_rate_limit(
        wusdc.address, world.a.chain_id, 100, 1, sender=world.roles.owner
    )
    world.deployment.relay(second)
    _assert_supply_invariant(world)


def test_inbound_rate_limit_on_release(world: World) -> None:
    there, _ = _out(world, world.usdc, 100, world.a, world.b, recipient=world.roles.user)
    world.deployment.relay(there)
    wusdc = world.wusdc[world.b.chain_id]
    wusdc.approve(world.bridge(world.b).address, MAX_UINT256, sender=world.roles.user)
    world.bridge(world.a).set_inbound_rate_limit(
        world.usdc.address, world.b.chain_id, 30, 0, sender=world.roles.owner
    )
    back, _ = _out(world, wusdc, 31, world.b, world.a)
    with reverts("bridge: inbound rate limited"):
        world.deployment.relay(back)


def test_compromised_quorum_is_bounded_by_the_inbound_limit(world: World) -> None:
    """k compromised attesters can forge a mint from the peer bridge (the trust model);
    the inbound limit caps it, and k − 1 of them can do nothing."""
    bridge_a, bridge_b = world.bridge(world.a), world.bridge(world.b)
    wusdc = world.wusdc[world.b.chain_id]
    bridge_b.set_inbound_rate_limit(
        wusdc.address, world.a.chain_id, 1_000, 0, sender=world.roles.owner
    )

    def forged(amount: int, nonce: int) -> Message:
        payload = bridge_b.receive_tokens.encode(
            world.a.chain_id, world.usdc.address, bridge_a.address, world.roles.attacker, amount
        )
        return Message.from_fields(
            world.a.chain_id,
            world.b.chain_id,
            10**9 + nonce,
            bridge_a.address,
            bridge_b.address,
            payload,
            world.deadline(world.b),
        )

    keys_ = world.deployment.attester_keys
    one_short = sign_digest(
        world.deployment.get_relay_digest(forged(1_000, 0)), [keys_[0], bytes([0x77] * 32)]
    )
    with reverts("messenger: not an attester"):
        world.deployment.relay(forged(1_000, 0), signatures=one_short)
    with reverts("bridge: inbound rate limited"):
        world.deployment.relay(forged(1_001, 1), signatures=None)
    world.deployment.relay(forged(1_000, 2))  # signed by the first k keys
    assert wusdc.balanceOf(world.roles.attacker) == 1_000
    with reverts("bridge: inbound rate limited"):
        world.deployment.relay(forged(1, 3))
    assert not world.messenger(world.a).sent(forged(1_000, 2).id)


@pytest.mark.parametrize("setter", ["set_rate_limit", "set_inbound_rate_limit"])
def test_rate_limit_admin_is_owner_only(world: World, setter: str) -> None:
    with reverts("ownable: caller is not the owner"):
        getattr(world.bridge(world.a), setter).transact(
            world.usdc.address, world.b.chain_id, 1, 1, sender=world.roles.attacker
        )


# ---------------------------------------------------------------------------------------
# inbound authentication
# ---------------------------------------------------------------------------------------


def test_receive_tokens_only_from_messenger(world: World) -> None:
    with reverts("bridge: only messenger"):
        world.bridge(world.b).receive_tokens(
            world.a.chain_id,
            world.usdc.address,
            world.roles.attacker,
            world.roles.attacker,
            10**9,
            sender=world.roles.attacker,
        )


def test_receive_tokens_only_from_peer_bridge(world: World) -> None:
    bridge_a = world.bridge(world.a)
    # a user on B asks A's bridge to release the locked USDC to him
    _out(world, world.usdc, 100 * USDC, world.a, world.b)
    payload = bridge_a.receive_tokens.encode(
        world.a.chain_id, world.usdc.address, world.roles.attacker, world.roles.attacker, 100 * USDC
    )
    receipt = world.messenger(world.b).send_message.transact(
        world.a.chain_id,
        bridge_a.address,
        payload,
        world.deadline(world.b),
        sender=world.roles.attacker,
    )
    forged = world.deployment.message_from_receipt(world.b, receipt)
    with reverts("bridge: not from peer bridge"):
        world.deployment.relay(forged)
    assert world.usdc.balanceOf(world.roles.attacker) == 0
    # a peer messenger's bridge elsewhere (not registered) is no better
    world.bridge(world.a).set_peer(world.b.chain_id, world.roles.owner, sender=world.roles.owner)
    with reverts("bridge: not from peer bridge"):
        world.deployment.relay(forged)


def test_on_message_refunded_only_from_messenger_refund(world: World) -> None:
    bridge_a = world.bridge(world.a)
    message, _ = _out(world, world.usdc, 10 * USDC, world.a, world.b)
    with reverts("bridge: only messenger"):
        bridge_a.on_message_refunded(
            message.id,
            world.b.chain_id,
            message.target,
            message.payload,
            sender=world.roles.attacker,
        )


def test_messenger_address_alone_is_not_enough(world: World) -> None:
    """Defense in depth: even a call really coming from the messenger's address is refused
    outside a relay (receive) or outside the refund of that very id (refund callback)."""
    bridge_a, messenger_a = world.bridge(world.a), world.messenger(world.a)
    message, _ = _out(world, world.usdc, 10 * USDC, world.a, world.b)
    world.a.set_balance(messenger_a.address, 10**18)  # to pay for the impersonated calls
    with world.a.as_sender(messenger_a.address):
        with reverts("messenger: not in a relay"):
            bridge_a.receive_tokens(
                world.a.chain_id,
                world.usdc.address,
                world.roles.attacker,
                world.roles.attacker,
                10 * USDC,
            )
        with reverts("bridge: not a refund"):
            bridge_a.on_message_refunded(
                message.id, world.b.chain_id, message.target, message.payload
            )
    assert bridge_a.locked(world.usdc.address) == 10 * USDC


def test_admin_registration_rules(world: World) -> None:
    bridge_b, owner = world.bridge(world.b), world.roles.owner
    wusdc = world.wusdc[world.b.chain_id]
    with reverts("bridge: already registered"):
        bridge_b.register_wrapped(world.a.chain_id, world.usdc.address, wusdc.address, sender=owner)
    with reverts("bridge: home is this chain"):
        bridge_b.register_wrapped(world.b.chain_id, world.usdc.address, wusdc.address, sender=owner)
    with reverts("bridge: token is wrapped"):
        bridge_b.register_home_token(wusdc.address, sender=owner)
    not_minter = world.b.deploy(
        CONTRACTS_DIR / "Token.vy",
        "Other",
        "OTH",
        6,
        sender=owner,
    )
    with reverts("bridge: not a minter of wrapped"):
        bridge_b.register_wrapped(
            world.c.chain_id, world.usdc.address, not_minter.address, sender=owner
        )
    with reverts("bridge: own chain"):
        bridge_b.set_peer(world.b.chain_id, owner, sender=owner)
    assert bridge_b.home_of(wusdc.address) == (world.a.chain_id, world.usdc.address)
    assert bridge_b.wrapped_of(world.a.chain_id, world.usdc.address) == wusdc.address


# ---------------------------------------------------------------------------------------
# refunds
# ---------------------------------------------------------------------------------------


def test_refund_of_a_lock_returns_the_tokens(world: World) -> None:
    start = world.usdc.balanceOf(world.roles.user)
    message, _ = _out(
        world, world.usdc, 70 * USDC, world.a, world.b, deadline=world.deadline(world.a, 20)
    )
    _assert_supply_invariant(world, in_flight=70 * USDC)
    world.expire_past(message)
    world.deployment.expire(message)
    receipt = world.deployment.refund(message, sender=world.roles.relayer)
    (refunded,) = [e for e in receipt.events if e.name == "TokensRefunded"]
    assert refunded.args == {
        "id": message.id,
        "token": world.usdc.address,
        "sender": world.roles.user,
        "amount": 70 * USDC,
    }
    assert world.usdc.balanceOf(world.roles.user) == start
    assert world.bridge(world.a).locked(world.usdc.address) == 0
    _assert_supply_invariant(world)
    with reverts("messenger: already refunded"):
        world.deployment.refund(message)
    with reverts("messenger: message expired"):
        world.deployment.relay(message)
    assert world.wusdc[world.b.chain_id].totalSupply() == 0


def test_refund_of_a_burn_mints_back(world: World) -> None:
    there, _ = _out(world, world.usdc, 50 * USDC, world.a, world.b, recipient=world.roles.user)
    world.deployment.relay(there)
    wusdc = world.wusdc[world.b.chain_id]
    wusdc.approve(world.bridge(world.b).address, MAX_UINT256, sender=world.roles.user)
    back, _ = _out(world, wusdc, 20 * USDC, world.b, world.a, deadline=world.deadline(world.b, 9))
    assert wusdc.balanceOf(world.roles.user) == 30 * USDC
    _assert_supply_invariant(world, in_flight=20 * USDC)
    world.expire_past(back)
    world.deployment.expire(back)
    world.deployment.refund(back)
    assert wusdc.balanceOf(world.roles.user) == 50 * USDC
    _assert_supply_invariant(world)


def test_refund_needs_expiry_on_destination(world: World) -> None:
    message, _ = _out(
        world, world.usdc, 5 * USDC, world.a, world.b, deadline=world.deadline(world.a, 20)
    )
    world.deployment.relay(message)  # delivered in time
    world.expire_past(message)
    # honest attesters never sign an expiry for a delivered message; only a forger would
    with reverts("messenger: not an attester"):
        world.deployment.refund(
            message,
            signatures=sign_digest(
                world.deployment.get_expiry_digest(message),
                [bytes([0x55] * 32), bytes([0x56] * 32)],
            ),
        )
    _assert_supply_invariant(world)


# ---------------------------------------------------------------------------------------
# property: the supply invariant over random traffic
# ---------------------------------------------------------------------------------------

_step = st.tuples(
    st.sampled_from(["lock-b", "lock-c", "relay", "burn", "expire"]),
    st.integers(min_value=1, max_value=10**6),
)


@given(steps=st.lists(_step, min_size=1, max_size=10))
def test_supply_invariant_holds_over_random_traffic(
    session_world: World, steps: list[tuple[str, int]]
) -> None:
    world = session_world
    with world.devnet.anchor():
        pending: list[tuple[Message, int]] = []
        for chain in (world.b, world.c):
            world.wusdc[chain.chain_id].approve(
                world.bridge(chain).address, MAX_UINT256, sender=world.roles.user
            )
        for action, amount in steps:
            note(f"{action} {amount}")
            if action.startswith("lock"):
                dest = world.b if action == "lock-b" else world.c
                message, _ = _out(
                    world,
                    world.usdc,
                    amount,
                    world.a,
                    dest,
                    recipient=world.roles.user,
                    deadline=world.deadline(world.a, 50),
                )
                pending.append((message, amount))
            elif action == "relay" and pending:
                message, _ = pending.pop(0)
                if world.deployment.chains[message.dest_chain_id].timestamp < message.deadline:
                    world.deployment.relay(message)
                    assert (
                        world.messenger(world.deployment.chains[message.dest_chain_id]).status(
                            message.id
                        )
                        == STATUS_DELIVERED
                    )
                else:
                    pending.insert(0, (message, amount))
            elif action == "burn":
                for chain in (world.b, world.c):
                    wrapped = world.wusdc[chain.chain_id]
                    held = wrapped.balanceOf(world.roles.user)
                    if held:
                        message, _ = _out(
                            world,
                            wrapped,
                            min(held, amount),
                            chain,
                            world.a,
                            recipient=world.roles.user,
                            deadline=world.deadline(chain, 50),
                        )
                        pending.append((message, min(held, amount)))
                        break
            elif action == "expire" and pending:
                world.devnet.advance(100)
                for message, _ in pending:
                    world.deployment.expire(message)
                    world.deployment.refund(message)
                pending.clear()
            in_flight_home = sum(amt for m, amt in pending if m.source_chain_id == world.a.chain_id)
            in_flight_back = sum(amt for m, amt in pending if m.source_chain_id != world.a.chain_id)
            locked = world.bridge(world.a).locked(world.usdc.address)
            assert locked == world.usdc.balanceOf(world.bridge(world.a).address)
            assert locked == bridged_supply(world, world.a, world.usdc) + in_flight_home + (
                in_flight_back
            )
