"""The sweep report: valid PNGs, a self-contained HTML page with the table, clear errors."""

from __future__ import annotations

import base64
import csv
import re
import struct
from pathlib import Path

import pytest

from scenarios import COMPONENTS, SerialExecutor, SweepError, SweepSpec, report, run_sweep
from scenarios.report import write_report
from scenarios.sweep import RESULTS_JSON, RUNS_FILE, SWEEP_FILE

#: The test-only probe and fail modes exist for this module only (conftest).
pytestmark = pytest.mark.usefixtures("probe_modes")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

REAL = SweepSpec(
    modes=("atomic", "sequential", "bridged"),
    latencies=("interop", "finality"),
    sigmas=(0.8,),
    notionals=(50_000.0,),
    chains=(3,),
    seeds=2,
)
PROBE = SweepSpec(
    modes=("probe",),
    latencies=("same-block", "finality", "interop"),
    sigmas=(0.2, 0.8),
    notionals=(10_000.0,),
    chains=(3,),
    seeds=4,
)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory: pytest.TempPathFactory, serial_executor: SerialExecutor) -> Path:
    """A finished sweep of the real one-chain modes."""
    folder = tmp_path_factory.mktemp("real-sweep")
    run_sweep(REAL, folder, executor=serial_executor)
    return folder


@pytest.fixture(scope="module")
def probe_sweep(tmp_path_factory: pytest.TempPathFactory, serial_executor: SerialExecutor) -> Path:
    """A finished sweep of the probe mode (every outcome, three latency presets)."""
    folder = tmp_path_factory.mktemp("probe-sweep")
    run_sweep(PROBE, folder, executor=serial_executor)
    return folder


def test_report_of_real_modes(real_sweep: Path) -> None:
    _check_report(real_sweep)


def test_report_of_probe_mode(probe_sweep: Path) -> None:
    _check_report(probe_sweep)


def _check_report(folder: Path) -> None:
    """Valid PNGs of a sensible size, each embedded in the page; the table and arguments."""
    result = report(folder)
    assert result.folder == folder / "report"
    assert [p.name for p in result.images] == [
        "cost.png",
        "cost_components.png",
        "divergence.png",
        "outcomes.png",
        "capital_in_flight.png",
    ]
    page = result.index.read_text(encoding="utf-8")
    for image in result.images:
        data = image.read_bytes()
        width, height = png_size(data)
        assert width >= 400 and height >= 300
        assert base64.b64encode(data).decode() in page  # embedded, not linked
    assert page.count("data:image/png;base64,") == 5
    assert "<img" in page and 'src="divergence.png"' not in page
    assert "Summary table" in page and "Sweep arguments" in page
    assert "divergence_bps_median" in page and "<td>seeds</td>" in page


def test_summary_table_has_one_row_per_cell(probe_sweep: Path) -> None:
    result = report(probe_sweep)
    rows = list(csv.DictReader(result.summary_csv.read_text().splitlines()))
    assert len(rows) == 3 * 2  # latencies × σ
    assert [r["latency"] for r in rows[::2]] == ["same-block", "interop", "finality"]
    assert all(r["runs"] == "4" for r in rows)
    # probe seeds 0..3 cycle through the four outcomes: 25 % each
    assert {(r["complete_pct"], r["liquidated_pct"]) for r in rows} == {("25", "25")}
    page = result.index.read_text()
    assert page.count("<tr><td>probe</td>") == 6


def test_report_of_real_modes_rows(real_sweep: Path) -> None:
    result = report(real_sweep)
    rows = list(csv.DictReader(result.summary_csv.read_text().splitlines()))
    # one-chain modes in one row each, bridged per preset in typical-latency order, the
    # modes in ladder order
    assert [(r["mode"], r["latency"], r["chains"]) for r in rows] == [
        ("atomic", "one chain", "1"),
        ("bridged", "interop", "3"),
        ("bridged", "finality", "3"),
        ("sequential", "one chain", "1"),
    ]
    assert all(r["runs"] == "2" for r in rows)
    assert float(rows[0]["divergence_bps_median"]) == 0
    bridged = [r for r in rows if r["mode"] == "bridged"]
    assert all(float(r["capital_in_flight_peak_usd_median"]) > 0 for r in bridged)
    # the all-in cost and its components, per cell; the component means sum to the mean
    assert float(rows[0]["all_in_cost_bps_mean"]) == 0
    for row in rows[1:]:
        parts = [float(row[f"cost_{name}_bps_mean"] or 0) for name in COMPONENTS]
        total = float(row["all_in_cost_bps_mean"])
        assert sum(parts) == pytest.approx(total, rel=1e-3, abs=1e-2)
        assert float(row["all_in_cost_bps_cvar5"]) >= float(row["all_in_cost_bps_p95"]) - 1e-9
    assert all(float(r["cost_bridge_fees_bps_mean"]) > 0 for r in bridged)
    # the capital-in-flight plot shows a bridged run by default
    assert "Capital in flight" in result.index.read_text()
    assert re.search(r"Run bridged-c3-(interop|finality)-", result.index.read_text())


def test_report_is_deterministic(probe_sweep: Path, tmp_path: Path) -> None:
    first = report(probe_sweep, out=tmp_path / "a")
    second = report(probe_sweep, out=tmp_path / "b")
    for one, two in zip(
        (*first.images, first.summary_csv, first.index),
        (*second.images, second.summary_csv, second.index),
        strict=True,
    ):
        assert one.read_bytes() == two.read_bytes(), one.name


def test_report_picks_a_named_run(probe_sweep: Path, tmp_path: Path) -> None:
    key = PROBE.specs()[5].key()
    result = report(probe_sweep, out=tmp_path, run_key=key)
    assert re.search(rf"Run {re.escape(key)}: outcome", result.index.read_text())
    with pytest.raises(SweepError, match="no run with key 'nope'"):
        report(probe_sweep, out=tmp_path, run_key="nope")


def test_report_needs_a_finished_folder(tmp_path: Path) -> None:
    with pytest.raises(SweepError, match="not a finished sweep or demo folder"):
        report(tmp_path)
    (tmp_path / "runs.jsonl").write_text("")
    with pytest.raises(SweepError, match="runs.jsonl holds no runs"):
        report(tmp_path)
    (tmp_path / SWEEP_FILE).write_text("{}")
    with pytest.raises(SweepError, match="has not finished \\(run it again with --resume\\)"):
        report(tmp_path)
    (tmp_path / RESULTS_JSON).write_text('{"runs": [{"spec": {}}]}')
    with pytest.raises(SweepError, match="is not a results file"):
        report(tmp_path)


def test_report_of_a_demo_folder(real_sweep: Path, tmp_path: Path) -> None:
    """``testbed demo`` writes only runs.jsonl: the report reads it (no arguments)."""
    (tmp_path / RUNS_FILE).write_bytes((real_sweep / RUNS_FILE).read_bytes())
    result = write_report(tmp_path)
    assert result.index == tmp_path / "report" / "index.html"
    page = result.index.read_text()
    assert page.count("data:image/png;base64,") == 5 and "(not recorded)" in page
    rows = list(csv.DictReader(result.summary_csv.read_text().splitlines()))
    assert {r["mode"] for r in rows} == {"atomic", "sequential", "bridged"}
