"""Columnar results: results.parquet's typed columns and ``scenarios.load_results``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from scenarios import (
    METRIC_KEYS,
    RunSpec,
    SerialExecutor,
    SweepError,
    SweepSpec,
    load_results,
    run_sweep,
)
from scenarios.sweep import (
    RESULTS_JSON,
    RESULTS_PARQUET,
    SPEC_FIELDS,
    build_table,
    component_column,
    dict_metrics,
    structured_spec_fields,
    write_results,
)

pytestmark = pytest.mark.usefixtures("probe_modes")

PROBE = SweepSpec(
    modes=("probe",),
    latencies=("interop", "finality"),
    sigmas=(0.2, 0.8),
    notionals=(10_000.0,),
    chains=(3,),
    seeds=2,
)

EXPECTED_DTYPES = {
    "key": "string",
    "mode": "string",
    "chains": "Int64",
    "latency": "string",
    "sigma": "float64",
    "drift": "float64",
    "notional": "float64",
    "target_ltv": "float64",
    "slippage": "float64",
    "seed": "Int64",
    "reorgs": "string",
    "confirmations": "string",
    "outcome": "string",
    "failed_step": "string",
    "risk_bearer": "string",
    "transactions": "Int64",
    "gas": "Int64",
    "reorg_count": "Int64",
}


def _record(seed: int, **metrics: object) -> dict[str, object]:
    spec = RunSpec(mode="probe", seed=seed).to_json()
    values: dict[str, object] = dict.fromkeys(METRIC_KEYS, 1.5)
    values.update(
        outcome="complete",
        failed_step="",
        risk_bearer="user",
        transactions=3,
        gas=21_000,
        reorg_count=0,
    )
    values.update(cost_components_bps={"gas": 0.25, "funding": 1.25})  # a table-valued metric
    values.update(metrics)
    return {"spec": spec, "metrics": values}


def test_sweep_writes_parquet_and_load_results_round_trips(
    tmp_path: Path, serial_executor: SerialExecutor
) -> None:
    run_sweep(PROBE, tmp_path, executor=serial_executor)
    frame = load_results(tmp_path)
    runs = json.loads((tmp_path / RESULTS_JSON).read_text())["runs"]
    tables = dict_metrics()  # flattened: one column per entry (none for an empty table)
    flat = [
        component_column(m, entry)
        for m in tables
        for entry in sorted({e for r in runs for e in r["metrics"][m]})
    ]
    plain = [k for k in METRIC_KEYS if k not in tables]
    assert sorted(frame.columns) == sorted(["key", *SPEC_FIELDS, *plain, *flat])
    assert len(frame) == len(runs) == len(PROBE.specs())
    assert frame.attrs["arguments"] == PROBE.to_json()
    for column, dtype in EXPECTED_DTYPES.items():
        assert str(frame[column].dtype) == dtype, column
    float_metrics = [k for k in plain if k not in EXPECTED_DTYPES]
    assert all(frame[k].dtype == "float64" for k in float_metrics)
    # every cell equals the JSON's, in grid order
    assert list(frame["key"]) == [r["key"] for r in runs]
    for row, run in zip(frame.to_dict(orient="records"), runs, strict=True):
        for field in SPEC_FIELDS:
            if field not in run["spec"]:  # left out of the spec's JSON at its default: null
                assert row[field] is None or pd.isna(row[field]), field
            elif field in structured_spec_fields():  # canonical JSON text
                assert json.loads(row[field]) == run["spec"][field], field
            else:
                assert row[field] == run["spec"][field], field
        for metric in plain:
            assert row[metric] == run["metrics"][metric], metric
        for metric in tables:
            for entry, value in run["metrics"][metric].items():
                assert row[component_column(metric, entry)] == value, (metric, entry)


def test_null_and_nan_cells(tmp_path: Path) -> None:
    """A null (or non-finite) float is NaN, a null int or string is <NA>; the other cells
    keep their type."""
    records = [
        _record(0, min_health_factor=None, gas=None, failed_step=None),
        _record(1, min_health_factor=None, divergence_bps=-2.25),
        _record(2),
    ]
    write_results(tmp_path, records, arguments={"note": "hand-made"})
    frame = load_results(tmp_path)
    assert math.isnan(frame["min_health_factor"][0]) and math.isnan(frame["min_health_factor"][1])
    assert frame["min_health_factor"][2] == 1.5
    assert frame["gas"].isna().tolist() == [True, False, False]
    assert str(frame["gas"].dtype) == "Int64" and frame["gas"][1] == 21_000
    assert frame["failed_step"].isna().tolist() == [True, False, False]
    assert frame["failed_step"][1] == ""
    assert frame["divergence_bps"].tolist() == [1.5, -2.25, 1.5]
    assert frame.attrs["arguments"] == {"note": "hand-made"}
    # a non-finite float handed to the table directly is a null as well
    table = build_table([_record(0, lvr_usdc=math.inf), _record(1, lvr_usdc=math.nan)])
    assert table.column("lvr_usdc").null_count == 2


def test_dict_metric_flattens_into_component_columns() -> None:
    """A dict-valued metric (cost components) gives one float column per entry."""
    assert component_column("cost_components_bps", "gas") == "cost_gas_bps"
    assert component_column("extras", "x") == "extras_x"
    records = [
        _record(0, cost_components_bps={"gas": 1.25, "bridge": 3}),
        _record(1, cost_components_bps={"gas": 0.5, "lvr": 7.0}),
        _record(2, cost_components_bps=None),
    ]
    table = build_table(records)
    names = table.schema.names
    assert names[-3:] == ["cost_bridge_bps", "cost_gas_bps", "cost_lvr_bps"]
    assert "cost_components_bps" not in names
    frame = table.to_pandas()
    assert frame["cost_bridge_bps"].dtype == "float64"
    assert frame["cost_bridge_bps"][0] == 3.0 and math.isnan(frame["cost_bridge_bps"][1])
    assert frame["cost_gas_bps"].tolist()[:2] == [1.25, 0.5]
    assert frame.iloc[2][["cost_bridge_bps", "cost_gas_bps", "cost_lvr_bps"]].isna().all()


def test_undeclared_metrics_get_types_from_values() -> None:
    records = [_record(0, extra_count=2, extra_rate=1, flag=True, tag="a")]
    records.append(_record(1, extra_count=5, extra_rate=0.5, flag=False, tag=None))
    frame = build_table(records).to_pandas()
    assert str(frame["extra_count"].dtype) == "int64"
    assert frame["extra_rate"].tolist() == [1.0, 0.5]
    assert frame["flag"].tolist() == [True, False]
    assert frame["tag"].tolist()[0] == "a"


@pytest.mark.parametrize(
    ("metrics", "message"),
    [
        ({"gas": "lots"}, "results column 'gas' \\(int64\\) got 'lots'"),
        ({"outcome": 3}, "results column 'outcome' \\(string\\) got 3"),
        ({"extra": "x"}, "results column 'extra' mixes value types \\(int, str\\)"),
        ({"cost_components_bps": 4.0}, "'cost_components_bps' mixes tables and plain values"),
    ],
    ids=["int-column", "string-column", "mixed-undeclared", "dict-and-number"],
)
def test_bad_cells_are_named(metrics: dict[str, object], message: str) -> None:
    first = {"extra": 1, "cost_components_bps": {"gas": 1.0}}
    with pytest.raises(SweepError, match=message):
        build_table([_record(0, **first), _record(1, **metrics)])


def test_same_records_same_parquet_bytes(tmp_path: Path) -> None:
    records = [_record(seed) for seed in range(3)]
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        write_results(tmp_path / name, records)
    assert (tmp_path / "a" / RESULTS_PARQUET).read_bytes() == (
        tmp_path / "b" / RESULTS_PARQUET
    ).read_bytes()


def test_load_results_of_an_old_folder_reads_results_json(
    tmp_path: Path, serial_executor: SerialExecutor
) -> None:
    run_sweep(PROBE, tmp_path, executor=serial_executor)
    fresh = load_results(tmp_path)
    (tmp_path / RESULTS_PARQUET).unlink()
    old = load_results(tmp_path)
    pd.testing.assert_frame_equal(fresh, old)


def test_load_results_needs_a_results_folder(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="is not a finished sweep or demo folder"):
        load_results(tmp_path)
    (tmp_path / RESULTS_PARQUET).write_bytes(b"not parquet")
    with pytest.raises(SweepError, match="results.parquet is not a results file"):
        load_results(tmp_path)
