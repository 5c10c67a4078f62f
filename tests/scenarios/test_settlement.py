"""Settlement risk in runs: the spec's reorg process and the relayer's confirmation policy
(``RunSpec.reorgs`` / ``confirmations``), unbacked mints and orphaned hops in the metrics,
the ``settlement`` cost component, the risk figures and the sweep axes."""

from __future__ import annotations

import dataclasses
import math

import pytest

from bridge import REORG_PROFILES, Confirmation, parse_confirmations, parse_reorgs
from chains import ConfigError
from scenarios import (
    METRIC_KEYS,
    RunSpec,
    ScenarioConfigError,
    SweepSpec,
    World,
    get_cell_risk,
    run,
)
from scenarios.cli import main

#: Reorgs of a fixed depth 3, six a minute on every chain, the orphaned transactions
#: discarded: frequent enough to hit a short run's hops.
REORGS = "rate=360,depth=3"
#: A run (intent-fill, seed 11) whose lock a reorg takes away after the fast relay (the seed
#: is picked for that: the world's deployments set the heights the reorg process starts from).
HIT = RunSpec(mode="bridged", latency="intent-fill", seed=11, reorgs=REORGS, confirmations="fast")


def test_parse_reorgs_reads_profiles_and_pairs() -> None:
    assert parse_reorgs("") is None and parse_reorgs("none") is None
    severe = parse_reorgs("severe")
    assert severe is not None and severe == parse_reorgs(REORG_PROFILES["severe"])
    fixed = parse_reorgs("rate=10,depth=3,dropped=pool")
    assert fixed is not None
    assert (fixed.rate, fixed.depth.describe(), fixed.dropped) == (10.0, "3 blocks", "pool")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rate", "'rate' is not key=value"),
        ("mean=2", "rate=<reorgs per hour> is required"),
        ("rate=1,depth=2,mean=3", "give depth (fixed) or mean/cap (geometric), not both"),
        ("rate=1,rate=2", "rate given twice"),
        ("rate=-1", "ReorgFaults.rate must be ≥ 0"),
        ("rate=1,dropped=keep", "ReorgFaults.dropped must be 'discard' or 'pool'"),
    ],
    ids=["no-value", "no-rate", "depth-and-mean", "twice", "negative", "dropped"],
)
def test_parse_reorgs_refuses_bad_text(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_reorgs(text)
    assert message in str(info.value)


def test_parse_confirmations_names_and_depths() -> None:
    assert parse_confirmations("") == Confirmation() == parse_confirmations("fast")
    assert parse_confirmations("safe") == Confirmation(level="safe")
    assert parse_confirmations("12") == Confirmation(depth=12)
    assert parse_confirmations("preset", "fast-attestation") == Confirmation(depth=2)
    assert parse_confirmations("preset", "finality") == Confirmation(level="finalized")
    with pytest.raises(ConfigError, match="'soon' is not a policy"):
        parse_confirmations("soon")


def test_runspec_validates_settlement_fields() -> None:
    with pytest.raises(ScenarioConfigError) as info:
        RunSpec(reorgs="rate=x", confirmations="soon").validate()
    text = str(info.value)
    assert "reorgs='rate=x'" in text and "confirmations='soon'" in text


def test_no_metric_is_named_like_a_spec_field() -> None:
    """Results files hold spec fields and metrics side by side (CSV, parquet columns)."""
    assert not set(METRIC_KEYS) & {f.name for f in dataclasses.fields(RunSpec)}


def test_runspec_settlement_fields_only_in_json_when_set() -> None:
    plain = RunSpec(mode="bridged")
    assert "reorgs" not in plain.to_json() and "confirmations" not in plain.to_json()
    settled = dataclasses.replace(plain, reorgs="severe", confirmations="safe")
    data = settled.to_json()
    assert (data["reorgs"], data["confirmations"]) == ("severe", "safe")
    assert RunSpec.from_mapping(data) == settled
    assert settled.key() != plain.key() and "reorgssevere-confsafe" in settled.key()


def test_fast_relaying_under_reorgs_leaves_an_unbacked_mint_priced_as_settlement(
    scenario_world: World,
) -> None:
    result = run(HIT, world=scenario_world)
    m = result.metrics
    assert m["reorg_count"] > 0
    assert m["unbacked_usdc"] > 0
    parts = m["cost_components_bps"]
    # settlement = unbacked_usdc (mode) − unbacked_usdc (atomic, 0), in bps of notional
    assert parts["settlement"] == pytest.approx(m["unbacked_usdc"] / HIT.notional * 1e4)
    assert m["all_in_cost_bps"] == math.fsum(parts.values())
    # the user keeps the payout: a gain in the divergence that settlement cancels
    assert m["divergence_usdc"] > 0.5 * m["unbacked_usdc"]


def test_confirmations_deeper_than_every_reorg_leave_no_unbacked_mint(
    scenario_world: World,
) -> None:
    """Reorgs of depth 3, relayer waiting for 8 blocks: whatever the reorgs do to the run
    (orphaned hops, undone swaps), nothing relayed is ever unbacked."""
    results = [
        run(dataclasses.replace(HIT, seed=seed, confirmations="8"), world=scenario_world)
        for seed in range(3)
    ]
    assert sum(r.metrics["reorg_count"] for r in results) > 0
    assert [r.metrics["unbacked_usdc"] for r in results] == [0.0, 0.0, 0.0]
    assert all(r.metrics["cost_components_bps"]["settlement"] == 0.0 for r in results)


def test_an_orphaned_hop_ends_the_run_with_its_value_recorded(scenario_world: World) -> None:
    result = run(dataclasses.replace(HIT, confirmations="8"), world=scenario_world)
    m = result.metrics
    assert m["outcome"] == "partial" and m["failed_step"].startswith("hop:")
    assert m["orphaned_usdc"] > 0
    assert any(e["event"] == "orphaned" for e in result.timeline)


def test_fast_without_reorgs_is_the_default_run_byte_for_byte(scenario_world: World) -> None:
    spec = RunSpec(mode="bridged", latency="intent-fill", seed=3)
    default = run(spec, world=scenario_world)
    fast = run(dataclasses.replace(spec, confirmations="fast"), world=scenario_world)
    assert fast.to_json()["metrics"] == default.to_json()["metrics"]
    assert fast.to_json()["timeline"] == default.to_json()["timeline"]


def test_a_run_with_reorgs_is_deterministic(scenario_world: World) -> None:
    first = run(HIT, world=scenario_world)
    second = run(HIT, world=scenario_world)
    assert first.dumps() == second.dumps()


def test_safe_confirmations_wait_for_blocks_and_cost_time(scenario_world: World) -> None:
    """``safe`` on the world's anvil finality waits 32 blocks per hop: the empty blocks
    the run seals make them come (2 s each), so the run completes, later."""
    spec = RunSpec(mode="bridged", latency="intent-fill", seed=3)
    fast = run(spec, world=scenario_world).metrics
    safe = run(dataclasses.replace(spec, confirmations="safe"), world=scenario_world).metrics
    assert fast["outcome"] == safe["outcome"] == "complete"
    assert safe["latency_s"] > fast["latency_s"] + 32 * 2.0


def test_cell_risk_counts_settlement_failures() -> None:
    rows = [
        {"all_in_cost_bps": 1.0, "outcome": "complete", "latency_s": 10.0, "unbacked_usdc": 0},
        {"all_in_cost_bps": 2.0, "outcome": "complete", "latency_s": 10.0, "unbacked_usdc": 300.0},
        {"all_in_cost_bps": 9.0, "outcome": "partial", "orphaned_usdc": 100.0},
        {"all_in_cost_bps": 1.0, "outcome": "complete", "latency_s": 10.0},
    ]
    risk = get_cell_risk(rows)
    assert risk.p_settlement == 0.5
    assert risk.unbacked_mean == 75.0 and risk.orphaned_mean == 25.0


def test_sweep_axes_apply_to_bridged_runs_only() -> None:
    sweep = SweepSpec(
        modes=("atomic", "bridged"),
        latencies=("intent-fill",),
        seeds=2,
        reorgs=("", "severe"),
        confirmations=("fast", "safe"),
    )
    sweep.validate()
    specs = sweep.specs()
    atomic = [s for s in specs if s.mode == "atomic"]
    bridged = [s for s in specs if s.mode == "bridged"]
    assert [(s.reorgs, s.confirmations) for s in atomic] == [("", "")] * 2
    assert len(bridged) == 2 * 2 * 2
    assert {(s.reorgs, s.confirmations) for s in bridged} == {
        ("", "fast"),
        ("", "safe"),
        ("severe", "fast"),
        ("severe", "safe"),
    }
    data = sweep.to_json()
    assert data["reorgs"] == ["", "severe"] and SweepSpec.from_json(data) == sweep
    assert "reorgs" not in SweepSpec().to_json()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reorgs", "rate=1;mean=2"], "rate=<reorgs per hour> is required"),
        (["--confirmations", "fast,soon"], "'soon' is not a policy"),
    ],
    ids=["reorgs", "confirmations"],
)
def test_sweep_cli_refuses_bad_settlement_options(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--modes", "bridged", *args, "--out", "unused"])
    assert info.value.code == 2
    assert message in capsys.readouterr().err
