"""The relayer when chains rewrite their history: confirmations, orphaned and re-observed
messages, deliveries taken away, unbacked mints (reconcile), and the seeded reorg faults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bridge_helpers import World
from relayer_helpers import Relayers, bridge_usdc, relayers_for, wrapped_supply

from bridge import (
    Confirmation,
    FixedDepth,
    GeometricDepth,
    InjectedReorg,
    MessageStore,
    Relayer,
    ReorgFaults,
    ReorgInjector,
    admin_methods,
    deploy_bridge,
    render_settlement,
    settlement_sweep,
)
from chains import FINALITY_PRESETS, ConfigError, Devnet


@pytest.fixture
def relayers(world: World, tmp_path: Path) -> Iterator[Relayers]:
    """Starts relayers on the world's deployment; all stopped after the test."""
    with relayers_for(world, tmp_path) as pool:
        yield pool


def _locked(world: World) -> int:
    return int(world.bridge(world.a).locked(world.usdc.address))


def _status(relayer: Relayer, message_id: str) -> str:
    record = relayer.get(message_id)
    assert record is not None
    return record.status


# ----------------------------------------------------------------------------------------
# reorgs below the confirmations: exactly once, always backed
# ----------------------------------------------------------------------------------------
def test_a_lock_reorged_away_before_confirmation_is_never_relayed(
    world: World, relayers: Relayers
) -> None:
    relayer = relayers.start(latency="same-block", confirmations=2)
    user_before = world.usdc.balanceOf(world.roles.user)
    message_id = bridge_usdc(world, world.b, 5_000)
    world.devnet.advance(10)
    assert _status(relayer, message_id) == "sent"  # waiting for two blocks on top

    world.a.reorg(1)  # the lock is discarded

    assert _status(relayer, message_id) == "orphaned"
    world.a.mine(5)
    world.devnet.advance(60)
    assert _status(relayer, message_id) == "orphaned"
    assert world.wusdc[world.b.chain_id].totalSupply() == 0 == _locked(world)
    assert world.usdc.balanceOf(world.roles.user) == user_before
    assert relayer.reconcile() == []
    assert [e.status for e in relayer.events(message_id)] == ["sent", "orphaned"]


def test_a_lock_that_reappears_is_observed_again_and_relayed_once(
    world: World, relayers: Relayers
) -> None:
    relayer = relayers.start(latency="same-block", confirmations=2)
    message_id = bridge_usdc(world, world.b, 5_000)
    world.devnet.advance(0)
    first = relayer.get(message_id)
    assert first is not None

    world.a.reorg(1, dropped="pool")  # automine: the lock is mined again at once

    world.devnet.advance(0)
    again = relayer.get(message_id)
    assert again is not None and again.status == "sent"
    assert again.sent_block == first.sent_block + 1 and again.sent_tx == first.sent_tx
    world.a.mine(2)
    world.devnet.advance(10)
    assert _status(relayer, message_id) == "executed"
    assert world.wusdc[world.b.chain_id].totalSupply() == 5_000 == _locked(world)
    assert [e.status for e in relayer.events(message_id)] == [
        "sent",
        "orphaned",
        "sent",
        "eligible",
        "relayed",
        "executed",
    ]
    assert relayer.reconcile() == []


def test_a_delivery_reorged_away_on_the_destination_is_relayed_again(
    world: World, relayers: Relayers
) -> None:
    relayer = relayers.start(latency="same-block")
    message_id = bridge_usdc(world, world.b, 4_000)
    world.devnet.advance(0)
    first_relay = relayer.get(message_id)
    assert first_relay is not None and first_relay.status == "executed"

    world.b.reorg(1)  # the delivery is discarded

    world.devnet.advance(0)
    record = relayer.get(message_id)
    assert record is not None and record.status == "executed"
    assert record.relay_tx != first_relay.relay_tx and record.attempts == 2
    assert world.wusdc[world.b.chain_id].totalSupply() == 4_000 == _locked(world)
    raw = bytes.fromhex(message_id[2:])
    assert world.messenger(world.b).status(raw) == 1  # delivered, once


def test_finalized_policy_waits_for_the_finalized_head(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency="same-block", confirmations="finalized")
    message_id = bridge_usdc(world, world.b, 1_000)
    world.devnet.advance(600)
    assert _status(relayer, message_id) == "sent"
    world.a.mine(world.a.config.finalized_depth - 1)
    world.devnet.advance(0)
    assert _status(relayer, message_id) == "sent"
    world.a.mine()  # now 64 blocks on top: finalized (anvil's rule)
    world.devnet.advance(0)
    assert _status(relayer, message_id) == "executed"


def test_confirmation_policy_per_lane_and_from_the_preset(world: World) -> None:
    a, b, c = world.a.chain_id, world.b.chain_id, world.c.chain_id
    relayer = Relayer(
        world.devnet,
        world.deployment,
        latency={(a, b): "finality", "default": "intent-fill"},
        confirmations={(a, c): 3, "default": "preset"},
    )
    assert relayer.confirmation[(a, b)] == Confirmation(level="finalized")
    assert relayer.confirmation[(a, c)] == Confirmation(depth=3)
    assert relayer.confirmation[(b, a)] == Confirmation()  # intent-fill: 0 blocks
    with pytest.raises(ConfigError, match="confirmations must be an integer ≥ 0"):
        Relayer(world.devnet, world.deployment, confirmations="eventually")
    with pytest.raises(ConfigError, match="confirmation level must be one of"):
        Confirmation(level="justified")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------
# reorgs above the confirmations: unbacked mints, reported
# ----------------------------------------------------------------------------------------
def test_a_relayed_lock_reorged_away_is_an_unbacked_mint(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency="same-block", confirmations=0)
    kept = bridge_usdc(world, world.b, 5_000)
    undone = bridge_usdc(world, world.b, 3_000)
    world.devnet.advance(0)
    assert _status(relayer, kept) == _status(relayer, undone) == "executed"

    world.a.reorg(1)  # deeper than 0 confirmations: the 3,000 lock is gone

    (unbacked,) = relayer.reconcile()
    assert unbacked.id == undone and unbacked.amount == 3_000
    assert (unbacked.home_chain_id, unbacked.token) == (world.a.chain_id, world.usdc.address)
    assert "holders of the wrapped token on chain 31338" in unbacked.borne_by
    # exactly what the chains show: wrapped supply minus what is locked for it
    assert wrapped_supply(world) - _locked(world) == 3_000 == unbacked.amount
    assert _status(relayer, undone) == "executed"  # the mint happened; it stays recorded


def test_an_unbacked_mint_stops_counting_when_its_lock_reappears(
    world: World, relayers: Relayers
) -> None:
    relayer = relayers.start(latency="same-block")
    bridge_usdc(world, world.b, 2_000)
    world.devnet.advance(0)
    world.a.reorg(1, dropped="pool")  # re-mined at once under automine
    world.devnet.advance(0)
    assert relayer.reconcile() == []
    assert wrapped_supply(world) == _locked(world) == 2_000


def test_an_unbacked_burn_is_borne_by_the_home_escrow(world: World, relayers: Relayers) -> None:
    relayer = relayers.start(latency="same-block")
    bridge_usdc(world, world.b, 6_000)
    world.devnet.advance(0)
    back = bridge_usdc(world, world.a, 6_000, source=world.b)
    world.devnet.advance(0)
    assert _status(relayer, back) == "executed"

    world.b.reorg(1)  # the burn on B is gone; A already released the 6,000

    (unbacked,) = relayer.reconcile()
    assert unbacked.id == back and unbacked.amount == 6_000
    assert "escrow on chain 31337" in unbacked.borne_by
    assert wrapped_supply(world) - _locked(world) == 6_000


def test_a_reorg_missed_while_stopped_is_found_on_restart(
    world: World, relayers: Relayers, tmp_path: Path
) -> None:
    store = MessageStore(tmp_path / "restart.sqlite")
    relayer = relayers.start(store=store, latency="same-block", confirmations=2)
    message_id = bridge_usdc(world, world.b, 1_500)
    world.devnet.advance(0)
    relayer.stop()
    world.a.reorg(1)  # nobody listening
    world.a.mine(3)

    restarted = relayers.start(store=store, latency="same-block", confirmations=2)
    world.devnet.advance(10)

    assert _status(restarted, message_id) == "orphaned"
    assert world.wusdc[world.b.chain_id].totalSupply() == 0 == _locked(world)


# ----------------------------------------------------------------------------------------
# seeded reorg faults
# ----------------------------------------------------------------------------------------
def _injected(seed: int) -> list[InjectedReorg]:
    devnet = Devnet(n_chains=2, seed=seed, safe_depth=0, finalized_depth=3)
    chain = devnet.chains[0]
    injector = ReorgInjector(
        devnet, {chain.chain_id: ReorgFaults(rate=60.0, depth=GeometricDepth(mean=2, cap=6))}
    ).start()
    for _ in range(40):
        chain.set_balance(chain.accounts[1].address, 1)
        devnet.advance(30)
    injector.stop()
    return injector.log


def test_reorg_faults_are_seeded_and_respect_finality() -> None:
    log = _injected(seed=5)
    assert log == _injected(seed=5)
    assert log != _injected(seed=6)
    assert log and all(r.depth <= min(r.drawn, 3) for r in log)
    assert any(r.depth > 0 for r in log)
    assert all(r.chain_id == 31337 for r in log)


def test_instant_finality_chains_never_reorg() -> None:
    devnet = Devnet(n_chains=1, seed=1, **FINALITY_PRESETS["instant"])
    chain = devnet.chains[0]
    injector = ReorgInjector(devnet, ReorgFaults(rate=3_600.0, depth=FixedDepth(2))).start()
    for _ in range(5):
        chain.set_balance(chain.accounts[1].address, 1)
        devnet.advance(10)
    assert injector.log and all(r.depth == 0 for r in injector.log)


def test_geometric_depth_has_its_mean() -> None:
    import random

    rng = random.Random(3)
    depth = GeometricDepth(mean=2.0, cap=1_000)
    draws = [depth.sample(rng) for _ in range(20_000)]
    mean = sum(draws) / len(draws)
    # geometric on {1, 2, ...} with p = 1/2: mean 2, std √(1 − p)/p ≈ 1.41; 5 σ of the mean
    assert abs(mean - 2.0) < 5 * 1.41 / len(draws) ** 0.5
    assert min(draws) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rate": -1.0}, "rate must be ≥ 0"),
        ({"rate": 1.0, "dropped": "keep"}, "dropped must be"),
        ({"rate": 1.0, "depth": "deep"}, "depth distribution"),
    ],
)
def test_bad_reorg_faults_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        ReorgFaults(**kwargs)  # type: ignore[arg-type]


def test_bridge_status_reports_unbacked_value_and_who_bears_it(
    world: World, relayers: Relayers
) -> None:
    relayer = relayers.start(latency="same-block", confirmations={"default": 0})
    status = admin_methods(relayer)["bridge_status"]
    bridge_usdc(world, world.c, 2_500)
    world.devnet.advance(0)
    assert status()["unbacked"] == [] and status()["unbacked_value"] == {}

    world.a.reorg(1)

    report = status()
    (mint,) = report["unbacked"]
    assert mint["amount"] == hex(2_500) and mint["lane"] == [world.a.chain_id, world.c.chain_id]
    assert "wrapped token on chain 31339" in mint["borne_by"]
    assert report["unbacked_value"] == {f"{world.a.chain_id}:{world.usdc.address}": hex(2_500)}
    assert report["confirmations"][f"{world.a.chain_id}->{world.c.chain_id}"] == "0 blocks"


def test_a_time_finality_policy_relays_when_the_batch_is_final() -> None:
    """op-stack finality: a block at t is final at ⌈t / 60⌉·60 + 984; the relayer relays
    then, with no further block on the source."""
    devnet = Devnet(n_chains=2, seed=9, **FINALITY_PRESETS["op-stack"])
    a, b = devnet.chains
    deployment = deploy_bridge(devnet)
    relayer = Relayer(
        devnet,
        deployment,
        latency="same-block",
        confirmations="finalized",
        account=a.accounts[5].address,
    ).start()
    devnet.advance(7)
    receipt = deployment.messenger(a).send_message.transact(
        b.chain_id, a.accounts[4].address, b"\x01", 2**256 - 1, sender=a.accounts[1].address
    )
    message = deployment.message_from_receipt(a, receipt)
    sent = a.get_block(receipt.block_number).timestamp
    final = -(-sent // 60) * 60 + 984
    devnet.advance_to(final - 1)
    record = relayer.get(message.id)
    assert record is not None and record.status == "sent"
    devnet.advance_to(final)
    record = relayer.get(message.id)
    assert record is not None and record.status == "executed" and record.executed_at == final
    relayer.stop()


def test_settlement_sweep_shows_fast_relaying_risk_and_safe_relaying_latency() -> None:
    rows = settlement_sweep(("intent-fill", "finality"), seeds=(0,), transfers=12, rate=12.0)
    fast, safe = rows
    assert fast["reorgs"] == safe["reorgs"] > 0  # the same seeded reorgs for both
    for row in rows:
        # the reconciler counts exactly the value minted without a lock
        assert row["unbacked_usdc"] == row["supply_gap_usdc"]
        assert row["relayed"] + row["orphaned"] == row["transfers"]
    assert fast["unbacked_usdc"] > 0 and fast["orphaned"] == 0
    assert safe["unbacked_usdc"] == 0 and safe["orphaned"] > 0
    assert safe["latency_p50_s"] >= 984 > fast["latency_p95_s"]
    table = render_settlement(rows)
    assert "intent-fill" in table and "finalized" in table
