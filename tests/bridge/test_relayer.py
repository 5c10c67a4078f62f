"""The relayer against real chains: round trips per latency preset on virtual time,
lifecycle events, confirmations, determinism, restarts, snapshots and real time."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from bridge_helpers import World
from relayer_helpers import MAX_UINT256, Relayers, bridge_state, bridge_usdc, relayers_for

from bridge import (
    PRESETS,
    Constant,
    MessageStore,
    Relayer,
    Uniform,
    deploy_bridge,
    get_preset,
)
from chains import ConfigError, Devnet


@pytest.fixture
def relayers(world: World, tmp_path: Path) -> Iterator[Relayers]:
    """Starts relayers on the world's deployment; all stopped after the test."""
    with relayers_for(world, tmp_path) as pool:
        yield pool


def _latency_bounds(name: str) -> tuple[float, float]:
    model = get_preset(name)
    return model.quantile(0.0), model.quantile(1.0)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_token_round_trip_a_b_a_with_each_preset(
    world: World, relayers: Relayers, preset: str
) -> None:
    relayer = relayers.start(latency=preset)
    user, a, b = world.roles.user, world.a, world.b
    before = world.usdc.balanceOf(user)
    low, high = _latency_bounds(preset)

    out_id = bridge_usdc(world, b, 5_000)
    assert world.bridge(a).locked(world.usdc.address) == 5_000
    world.devnet.advance(high + 60)
    assert world.wusdc[b.chain_id].balanceOf(user) == 5_000

    back_id = bridge_usdc(world, a, 5_000, source=b)
    assert world.wusdc[b.chain_id].totalSupply() == 0  # burned on the way out
    world.devnet.advance(high + 60)

    assert world.usdc.balanceOf(user) == before
    assert world.bridge(a).locked(world.usdc.address) == 0
    transfer = relayer.get(back_id).token_transfer  # type: ignore[union-attr]
    assert transfer is not None
    assert (transfer.home_chain_id, transfer.home_token) == (a.chain_id, world.usdc.address)
    assert (transfer.recipient, transfer.amount) == (user, 5_000)
    for message_id in (out_id, back_id):
        record = relayer.get(message_id)
        assert record is not None and record.status == "executed"
        assert record.latency is not None
        # block timestamps are whole seconds, relays happen on whole seconds
        assert low <= record.latency <= math.ceil(high) + 1
        assert [e.status for e in relayer.events(message_id)] == [
            "sent",
            "eligible",
            "relayed",
            "executed",
        ]


def test_lifecycle_times_follow_the_sampled_latency(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency=Constant(42.0))
    seen = []
    relayer.on_event(seen.append)
    message, _ = world.send(world.a, world.b, 9)
    world.devnet.advance(0)
    sent = relayer.get(message.id)
    assert sent is not None and sent.status == "sent"
    # block timestamps may run ahead of the clock (one block per transaction, +1 s each)
    world.devnet.advance_to(sent.sent_at + 41)
    assert relayer.get(message.id).status == "sent"  # type: ignore[union-attr]
    assert world.targets[world.b.chain_id].handled() == 0
    world.devnet.advance(1)
    record = relayer.get(message.id)
    assert record is not None and record.status == "executed"
    assert record.eligible_at == record.sent_at + 42.0
    assert record.relayed_at == record.executed_at == record.sent_at + 42.0
    assert record.relay_tx is not None and record.attempts == 1
    assert world.targets[world.b.chain_id].last_value() == 9
    assert record.token_transfer is None  # a plain message carries no tokens
    assert world.targets[world.b.chain_id].last_sender() == world.roles.user
    assert [e.status for e in seen] == ["sent", "eligible", "relayed", "executed"]
    assert seen == relayer.events(record.id)
    assert seen[-1].chain_id == world.b.chain_id and seen[0].chain_id == world.a.chain_id


def test_confirmations_are_counted_in_block_time(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency="same-block", confirmations=3)
    message, _ = world.send(world.a, world.c, 1)
    world.devnet.advance(60)
    record = relayer.get(message.id)
    assert record is not None and record.status == "executed"
    assert record.latency == 3 * world.a.config.block_time


def test_same_block_latency_relays_at_the_send_time(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency="same-block")
    message, _ = world.send(world.b, world.c, 3)
    world.devnet.advance(0)
    record = relayer.get(message.id)
    assert record is not None and record.status == "executed" and record.latency == 0


def test_latency_per_lane(world: World, relayers: Relayers) -> None:
    a, b, c = world.a, world.b, world.c
    relayer = relayers.start(
        latency={(a.chain_id, b.chain_id): Constant(5.0), "default": Constant(500.0)}
    )
    fast, _ = world.send(a, b)
    slow, _ = world.send(a, c)
    world.devnet.advance(0)
    world.devnet.advance_to(relayer.get(slow.id).sent_at + 60)  # type: ignore[union-attr]
    assert relayer.get(fast.id).status == "executed"  # type: ignore[union-attr]
    assert relayer.get(slow.id).status == "sent"  # type: ignore[union-attr]
    world.devnet.advance(500)
    assert relayer.get(slow.id).latency == 500.0  # type: ignore[union-attr]


def test_lane_configuration_errors(world: World) -> None:
    a, b = world.a, world.b
    with pytest.raises(ConfigError, match="no entry for lane"):
        Relayer(world.devnet, world.deployment, latency={(a.chain_id, b.chain_id): "interop"})
    with pytest.raises(ConfigError, match="unknown lane"):
        Relayer(world.devnet, world.deployment, latency={(1, 2): "interop", "default": "interop"})
    with pytest.raises(ConfigError, match="unknown latency preset 'warp'"):
        Relayer(world.devnet, world.deployment, latency="warp")
    with pytest.raises(ConfigError, match="confirmations must be an integer"):
        Relayer(world.devnet, world.deployment, confirmations=-1)
    with pytest.raises(ConfigError, match="has no key"):
        Relayer(world.devnet, world.deployment, account="0x" + "12" * 20)


def _run_once(world: World, relayers: Relayers, name: str, seed: int) -> tuple[object, ...]:
    with world.devnet.anchor():
        relayer = relayers.start(store=name, latency="intent-fill", seed=seed)
        for amount in (10, 20, 30):
            bridge_usdc(world, world.b, amount)
            world.send(world.a, world.c, amount)
            world.devnet.advance(1)
        world.devnet.advance(3_600)
        relayer.stop()
        records = [(m.id, m.status, m.sent_at, m.executed_at) for m in relayer.messages()]
        return (records, relayer.events(), bridge_state(world))


def test_same_seed_same_result_byte_for_byte(world: World, relayers: Relayers) -> None:
    first = _run_once(world, relayers, "one", seed=11)
    second = _run_once(world, relayers, "two", seed=11)
    other = _run_once(world, relayers, "three", seed=12)
    assert first == second
    assert first[0] != other[0]  # other latencies, same deliveries
    assert first[2] == other[2]


def test_restart_resumes_from_the_persisted_cursors(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency=Constant(10.0))
    early = bridge_usdc(world, world.b, 100)
    world.devnet.advance(30)
    relayer.stop()
    relayer.store.close()
    # sent while no relayer runs
    late = bridge_usdc(world, world.c, 200)
    world.devnet.advance(30)
    assert world.wusdc[world.c.chain_id].totalSupply() == 0
    again = relayers.start(latency=Constant(10.0))
    world.devnet.advance(30)
    assert again.get(early).status == "executed"  # type: ignore[union-attr]
    assert again.get(late).status == "executed"  # type: ignore[union-attr]
    assert world.wusdc[world.b.chain_id].totalSupply() == 100
    assert world.wusdc[world.c.chain_id].totalSupply() == 200
    assert [e.status for e in again.events(early)].count("executed") == 1


def test_a_stopped_relayer_stops_listening(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency=Constant(10.0))
    queued = world.devnet.clock.pending_events
    assert all(relayer._on_block in chain.block_listeners for chain in world.devnet.chains)
    relayer.stop()
    assert not any(relayer._on_block in chain.block_listeners for chain in world.devnet.chains)
    assert world.devnet.clock.pending_events < queued  # its scan and actions are cancelled
    idle = world.devnet.clock.pending_events
    bridge_usdc(world, world.b, 100)  # new blocks: nothing may schedule a scan
    assert world.devnet.clock.pending_events == idle
    world.devnet.advance(60)
    assert world.wusdc[world.b.chain_id].totalSupply() == 0


def test_relayer_joins_devnet_snapshots(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency=Constant(20.0))
    world.devnet.attach(relayer)
    kept = bridge_usdc(world, world.b, 1)
    world.devnet.advance(5)
    with world.devnet.anchor():
        gone = bridge_usdc(world, world.b, 2)
        world.devnet.advance(60)
        assert relayer.get(gone).status == "executed"  # type: ignore[union-attr]
        assert relayer.get(kept).status == "executed"  # type: ignore[union-attr]
    # the chains, the clock and the relayer are back: one message, not yet relayed
    assert relayer.get(gone) is None
    assert relayer.get(kept).status == "sent"  # type: ignore[union-attr]
    world.devnet.advance(60)
    assert relayer.get(kept).status == "executed"  # type: ignore[union-attr]
    assert world.wusdc[world.b.chain_id].totalSupply() == 1
    assert [m.id for m in relayer.messages()] == [kept]


def test_pause_holds_relays_until_resume(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency=Constant(5.0))
    assert not relayer.is_paused
    relayer.pause()
    assert relayer.is_paused
    message, _ = world.send(world.a, world.b)
    world.devnet.advance(100)
    assert relayer.get(message.id).status == "sent"  # type: ignore[union-attr]
    assert relayer.deferred_ids == {"0x" + message.id.hex()}
    relayer.resume()
    assert not relayer.is_paused
    assert relayer.deferred_ids == frozenset()
    world.devnet.advance(0)
    assert relayer.get(message.id).status == "executed"  # type: ignore[union-attr]


def test_relay_now_ignores_the_latency(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency="optimistic-canonical")
    message, _ = world.send(world.a, world.b)
    world.devnet.advance(0)
    relayer.relay_now(message.id)
    world.devnet.advance(0)
    record = relayer.get(message.id)
    assert record is not None and record.status == "executed"
    assert record.latency is not None and record.latency < 10
    world.devnet.advance(8 * 86_400)  # the scheduled relay finds it delivered: nothing more
    assert world.targets[world.b.chain_id].handled() == 1


def test_interval_mining_chains(tmp_path: Path) -> None:
    devnet = Devnet(n_chains=2, seed=3, mining="interval", block_time=2.0)
    deployment = deploy_bridge(devnet)  # interval chains: transactions wait for their block
    devnet.advance(10)
    a, b = devnet.chains
    relayer = Relayer(
        devnet, deployment, store=MessageStore(tmp_path / "i.sqlite"), latency=Uniform(3, 9)
    ).start()
    try:
        target = b.accounts[5].address
        a_messenger = deployment.messenger(a)
        a_messenger.send_message(b.chain_id, target, b"", MAX_UINT256, sender=a.accounts[1].address)
        devnet.advance(60)
        (record,) = relayer.messages()
        assert record.status == "executed"
        assert record.executed_at is not None and record.executed_at % 2 == 0  # 2 s blocks
        assert record.relayed_at is not None and record.relayed_at <= record.executed_at
    finally:
        relayer.stop()


def test_real_time_run_delivers_and_stops_cleanly(tmp_path: Path) -> None:
    devnet = Devnet(n_chains=2, seed=5, real_time=True)
    deployment = deploy_bridge(devnet)
    a, b = devnet.chains
    relayer = Relayer(
        devnet, deployment, store=MessageStore(tmp_path / "rt.sqlite"), latency="same-block"
    )

    async def scenario() -> None:
        executed = anyio.Event()
        relayer.on_event(lambda event: executed.set() if event.status == "executed" else None)
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: relayer.run(poll_interval=0.01))
            deployment.messenger(a).send_message(
                b.chain_id, b.accounts[5].address, b"", MAX_UINT256, sender=a.accounts[1].address
            )
            with anyio.fail_after(30):
                await executed.wait()
            group.cancel_scope.cancel()

    anyio.run(scenario)
    assert not relayer.is_running
    (record,) = relayer.messages()
    assert record.status == "executed"
    assert int(deployment.messenger(b).status(bytes.fromhex(record.id[2:]))) == 1


def test_a_relayer_left_behind_by_a_revert_stops(
    world: World, relayers: Relayers, caplog: pytest.LogCaptureFixture
) -> None:
    with world.devnet.anchor():
        stale = relayers.start(store="stale", latency=Constant(1.0))
        for _ in range(3):
            world.send(world.a, world.b)
        world.devnet.advance(10)
        assert stale.store.count("executed") == 3
    # reverted without devnet.attach: its store is ahead of the chains
    fresh = relayers.start(store="fresh", latency=Constant(1.0))
    message, _ = world.send(world.a, world.b)
    world.devnet.advance(10)
    assert stale.is_stale and not stale.is_running
    assert "without restoring the relayer" in caplog.text
    assert fresh.get(message.id).status == "executed"  # type: ignore[union-attr]
    assert world.targets[world.b.chain_id].handled() == 1
