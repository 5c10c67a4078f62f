"""Cost overrides from the CLI and as a sweep axis."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

from scenarios import RunSpec, ScenarioConfigError, SerialExecutor, SweepSpec, report, run_sweep
from scenarios.cli._run import parse_cost

pytestmark = pytest.mark.usefixtures("probe_modes")

COSTS = SweepSpec(
    modes=("probe",),
    latencies=("interop",),
    sigmas=(0.2,),
    notionals=(10_000.0,),
    seeds=2,
    costs=({}, {"user_rate": 0.5}),
)


def test_parse_cost_nests_dotted_keys() -> None:
    assert parse_cost("user_rate=0.08,gas.L1.gwei=30,chain_kinds.A=L1") == {
        "user_rate": 0.08,
        "gas": {"L1": {"gwei": 30.0}},
        "chain_kinds": {"A": "L1"},
    }
    with pytest.raises(argparse.ArgumentTypeError, match="not key=value"):
        parse_cost("user_rate")


def test_cost_profiles_are_an_axis() -> None:
    specs = COSTS.specs()
    assert len(specs) == 4
    assert [s.cost_model().user_rate for s in specs] == [0.05, 0.05, 0.5, 0.5]
    assert SweepSpec.from_json(COSTS.to_json()) == COSTS
    assert "costs" not in SweepSpec().to_json()
    with pytest.raises(ScenarioConfigError, match="unknown cost key"):
        SweepSpec(modes=("probe",), costs=({"rate": 1},)).validate()
    with pytest.raises(ScenarioConfigError, match="costs lists"):
        SweepSpec(modes=("probe",), costs=({}, {})).validate()


def test_sweep_prices_each_profile(tmp_path: Path, serial_executor: SerialExecutor) -> None:
    """The same runs under two funding rates: funding scales with the rate, the rest of the
    decomposition is unchanged, and the report keeps one row per profile."""
    run_sweep(COSTS, tmp_path, executor=serial_executor)
    rows = list(csv.DictReader((tmp_path / "results.csv").read_text().splitlines()))
    by_seed: dict[tuple[int, str], dict[str, str]] = {(int(r["seed"]), r["cost"]): r for r in rows}
    for seed in (0, 1):
        base, dear = by_seed[(seed, "")], by_seed[(seed, '{"user_rate":0.5}')]
        assert float(dear["cost_funding_bps"]) == pytest.approx(
            10 * float(base["cost_funding_bps"]), rel=1e-6
        )
        assert float(base["cost_funding_bps"]) > 0
        assert base["cost_gas_bps"] == dear["cost_gas_bps"]
    summary = list(csv.DictReader(report(tmp_path).summary_csv.read_text().splitlines()))
    assert [r["cost"] for r in summary] == ["", '{"user_rate":0.5}']
    assert RunSpec(cost={"user_rate": 0.5}).key() != RunSpec().key()
