"""Sweeps: grid order, byte-identical results across worker counts and interruptions,
resume rules and run failures."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import pytest
import sweep_runners

from scenarios import (
    COMPONENTS,
    METRIC_KEYS,
    ProcessExecutor,
    RunSpec,
    ScenarioConfigError,
    SerialExecutor,
    SweepError,
    SweepSpec,
    World,
    load_runs,
    run,
    run_sweep,
)
from scenarios.sweep import (
    RESULTS_CSV,
    RESULTS_JSON,
    RUNS_FILE,
    SPEC_FIELDS,
    SWEEP_FILE,
    group_by_baseline,
)

#: The test-only probe and fail modes exist for this module only (conftest).
pytestmark = pytest.mark.usefixtures("probe_modes")

PLUGINS = ("sweep_plugin",)
RESULT_NAMES = (RESULTS_CSV, RESULTS_JSON, SWEEP_FILE)

#: The real modes, end to end: atomic and sequential once per seed, bridged per preset.
REAL = SweepSpec(
    modes=("atomic", "sequential", "bridged"),
    latencies=("interop", "finality"),
    sigmas=(0.8,),
    notionals=(50_000.0,),
    chains=(3,),
    seeds=2,
)
#: The test-only probe mode: cheap runs for the interruption tests.
PROBE = SweepSpec(
    modes=("probe",),
    latencies=("interop", "finality"),
    sigmas=(0.2, 0.8),
    notionals=(10_000.0,),
    chains=(3,),
    seeds=3,
)


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in RESULT_NAMES}


# ---------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------


def test_specs_grid_order() -> None:
    sweep = SweepSpec(
        modes=("bridged",),
        latencies=("finality", "interop"),
        sigmas=(0.8, 0.2),
        notionals=(1e4, 1e5),
        chains=(3, 2),
        seeds=2,
        seed_start=5,
    )
    specs = sweep.specs()
    assert len(specs) == 2 * 2 * 2 * 2 * 2
    # seed fastest, then notional, σ, latency, layout; each axis in the order given
    assert [(s.chains, s.latency, s.sigma, s.notional, s.seed) for s in specs[:5]] == [
        (3, "finality", 0.8, 1e4, 5),
        (3, "finality", 0.8, 1e4, 6),
        (3, "finality", 0.8, 1e5, 5),
        (3, "finality", 0.8, 1e5, 6),
        (3, "finality", 0.2, 1e4, 5),
    ]
    assert specs[8].latency == "interop" and specs[16].chains == 2
    assert len({s.key() for s in specs}) == len(specs)
    assert sweep.specs() == specs


def test_specs_local_modes_skip_latency_and_layout() -> None:
    sweep = SweepSpec(
        modes=("sequential", "bridged", "atomic"),
        latencies=("interop", "finality", "same-block"),
        sigmas=(0.2,),
        chains=(2, 3),
        seeds=2,
    )
    specs = sweep.specs()
    by_mode = {m: [s for s in specs if s.mode == m] for m in sweep.modes}
    assert len(by_mode["bridged"]) == 3 * 2 * 2
    for local in ("sequential", "atomic"):
        assert len(by_mode[local]) == 2
        assert {(s.latency, s.chains) for s in by_mode[local]} == {("interop", 2)}
    assert [s.mode for s in specs[:3]] == ["sequential", "sequential", "bridged"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"modes": ("warp",)}, "mode='warp' is not a known mode"),
        ({"latencies": ("interop", "carrier-pigeon")}, "latency='carrier-pigeon'"),
        ({"sigmas": (0.2, 0.2)}, "sigmas lists 0.2 more than once"),
        ({"sigmas": (-1.0,)}, "sigma=-1.0 must be"),
        ({"chains": (6,)}, "chains=6 must be 2 to 5"),
        ({"notionals": ()}, "notionals must be a non-empty tuple"),
        ({"seeds": 0}, "at least one seed"),
        (
            {"placement": "amm=A,lending=D,cdp=C"},
            "needs 4 chains but chains=3: run with chains=4",
        ),
    ],
    ids=["mode", "latency", "duplicate", "sigma", "chains", "empty", "seeds", "placement"],
)
def test_validate_names_the_bad_value(changes: dict[str, object], message: str) -> None:
    base = SweepSpec(modes=("atomic",), latencies=("interop",))
    sweep = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
    with pytest.raises(ScenarioConfigError, match="invalid sweep") as info:
        sweep.validate()
    assert message in str(info.value)


def test_sweep_spec_json_roundtrip() -> None:
    sweep = SweepSpec(modes=("atomic", "bridged"), sigmas=(0.2, 0.8), seeds=4)
    assert SweepSpec.from_json(json.loads(json.dumps(sweep.to_json()))) == sweep
    with pytest.raises(ScenarioConfigError, match="unknown sweep key"):
        SweepSpec.from_json({**sweep.to_json(), "sigma": 0.1})


# ---------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------


def test_real_modes_one_vs_two_workers_byte_identical(
    tmp_path: Path, serial_executor: SerialExecutor, process_executor: ProcessExecutor
) -> None:
    one = run_sweep(REAL, tmp_path / "one", executor=serial_executor)
    two = run_sweep(REAL, tmp_path / "two", executor=process_executor)
    assert one.total == two.total == len(REAL.specs()) == 2 + 2 + 2 * 2
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    # runs.jsonl is in completion order, results in grid order: same set of lines
    lines_one = sorted((tmp_path / "one" / RUNS_FILE).read_text().splitlines())
    lines_two = sorted((tmp_path / "two" / RUNS_FILE).read_text().splitlines())
    assert lines_one == lines_two
    rows = list(csv.DictReader((tmp_path / "one" / RESULTS_CSV).read_text().splitlines()))
    assert [r["key"] for r in rows] == [s.key() for s in REAL.specs()]
    assert {r["mode"] for r in rows} == {"atomic", "sequential", "bridged"}
    bridged = [r for r in rows if r["mode"] == "bridged"]
    assert {r["latency"] for r in bridged} == {"interop", "finality"}
    assert all(float(r["capital_in_flight_peak_usd"]) > 0 for r in bridged)
    assert all(r["outcome"] in ("complete", "partial", "reverted", "liquidated") for r in rows)
    atomic = [r for r in rows if r["mode"] == "atomic"]
    assert all(float(r["divergence_bps"]) == 0.0 for r in atomic)


def test_sweep_results_equal_scenarios_run(
    tmp_path: Path, serial_executor: SerialExecutor, scenario_world: World
) -> None:
    """The executors share one atomic baseline per seed and market; each result is still
    byte for byte what ``scenarios.run`` returns for the spec alone."""
    sweep = SweepSpec(
        modes=("sequential", "bridged", "probe"),
        latencies=("same-block", "intent-fill"),
        notionals=(50_000.0,),
        seeds=1,
    )
    run_sweep(sweep, tmp_path, executor=serial_executor)
    records = load_runs(tmp_path)
    assert len(records) == 1 + 2 + 2
    for spec in sweep.specs():
        assert records[spec.key()] == json.loads(run(spec, world=scenario_world).dumps()), (
            spec.key()
        )


def test_baseline_groups() -> None:
    sweep = SweepSpec(
        modes=("atomic", "probe"), latencies=("interop", "finality"), sigmas=(0.2, 0.8), seeds=2
    )
    specs = sweep.specs()
    groups = group_by_baseline(specs)
    assert len(groups) == 2 * 2  # σ × seed
    assert sorted(p for g in groups for p, _ in g) == list(range(len(specs)))
    for group in groups:
        assert [s.mode for _, s in group] == ["atomic", "probe", "probe"]
        assert len({(s.sigma, s.seed) for _, s in group}) == 1
        assert {s.latency for _, s in group} == {"interop", "finality"}


def test_results_files_layout(tmp_path: Path, serial_executor: SerialExecutor) -> None:
    outcome = run_sweep(PROBE, tmp_path, executor=serial_executor)
    assert (outcome.total, outcome.ran, outcome.resumed) == (12, 12, 0)
    header = (tmp_path / RESULTS_CSV).read_text().splitlines()[0].split(",")
    metrics = [k for k in METRIC_KEYS if k != "cost_components_bps"]
    components = [f"cost_{name}_bps" for name in COMPONENTS]
    assert header == ["key", *SPEC_FIELDS, *metrics, *components]
    data = json.loads((tmp_path / RESULTS_JSON).read_text())
    assert data["arguments"] == PROBE.to_json()
    assert [r["key"] for r in data["runs"]] == [s.key() for s in PROBE.specs()]
    assert set(data["runs"][0]) == {"key", "spec", "metrics"}
    assert json.loads((tmp_path / SWEEP_FILE).read_text())["sweep"] == PROBE.to_json()
    records = load_runs(tmp_path)
    assert set(records) == {s.key() for s in PROBE.specs()}
    first = records[PROBE.specs()[0].key()]
    assert first["capital_in_flight"][0][1] > 0 and first["timeline"][0]["event"] == "transfer"


def test_interrupted_then_resumed_matches_uninterrupted(
    tmp_path: Path, serial_executor: SerialExecutor
) -> None:
    run_sweep(PROBE, tmp_path / "whole", executor=serial_executor)

    class Interrupt(Exception):
        pass

    def stop_after_five(done: int, total: int) -> None:
        if done == 5:
            raise Interrupt

    folder = tmp_path / "cut"
    with pytest.raises(Interrupt):
        run_sweep(PROBE, folder, executor=serial_executor, progress=stop_after_five)
    assert len((folder / RUNS_FILE).read_text().splitlines()) == 5
    assert not (folder / RESULTS_CSV).exists()
    # A crash mid-write leaves half a line: it is cut off and that run redone.
    with open(folder / RUNS_FILE, "a") as f:
        f.write('{"spec": {"mode": "probe", "cha')
    seen: list[tuple[int, int]] = []
    outcome = run_sweep(
        PROBE,
        folder,
        executor=serial_executor,
        resume=True,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert (outcome.resumed, outcome.ran) == (5, 7)
    assert seen[0] == (5, 12) and seen[-1] == (12, 12)
    assert _files(folder) == _files(tmp_path / "whole")
    assert len((folder / RUNS_FILE).read_text().splitlines()) == 12


def test_killed_worker_then_resumed_matches_uninterrupted(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    serial_executor: SerialExecutor,
    process_executor: ProcessExecutor,
) -> None:
    run_sweep(PROBE, tmp_path / "whole", executor=serial_executor)
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "crash-seed2").touch()
    monkeypatch.setenv(sweep_runners.CRASH_ENV, str(markers))
    folder = tmp_path / "killed"
    with pytest.raises(SweepError, match="a worker process died") as info:
        run_sweep(PROBE, folder, workers=2, imports=PLUGINS)
    assert "--resume" in str(info.value)
    assert not (markers / "crash-seed2").exists()  # the worker really died there
    saved = len(load_runs(folder))
    assert saved < len(PROBE.specs())
    outcome = run_sweep(PROBE, folder, executor=process_executor, resume=True)
    assert (outcome.resumed, outcome.ran) == (saved, len(PROBE.specs()) - saved)
    assert _files(folder) == _files(tmp_path / "whole")


# ---------------------------------------------------------------------------------------
# Resume rules and failures
# ---------------------------------------------------------------------------------------


def test_resume_refuses_different_arguments(
    tmp_path: Path, serial_executor: SerialExecutor
) -> None:
    small = SweepSpec(modes=("probe",), latencies=("interop",), seeds=1)
    run_sweep(small, tmp_path, executor=serial_executor)
    other = SweepSpec(modes=("probe",), latencies=("interop",), seeds=2, sigmas=(0.5,))
    with pytest.raises(SweepError, match="made with different arguments") as info:
        run_sweep(other, tmp_path, executor=serial_executor, resume=True)
    assert "seeds: folder has 1, arguments give 2" in str(info.value)
    assert "sigmas: folder has [0.8], arguments give [0.5]" in str(info.value)
    assert len(load_runs(tmp_path)) == 1  # nothing touched


def test_existing_folder_needs_resume(tmp_path: Path, serial_executor: SerialExecutor) -> None:
    small = SweepSpec(modes=("probe",), latencies=("interop",), seeds=1)
    run_sweep(small, tmp_path, executor=serial_executor)
    with pytest.raises(SweepError, match="already holds a sweep; pass --resume"):
        run_sweep(small, tmp_path, executor=serial_executor)
    again = run_sweep(small, tmp_path, executor=serial_executor, resume=True)
    assert (again.ran, again.resumed) == (0, 1)


def test_folder_with_foreign_runs_is_refused(tmp_path: Path) -> None:
    (tmp_path / RUNS_FILE).write_text("{}\n")
    small = SweepSpec(modes=("probe",), latencies=("interop",), seeds=1)
    with pytest.raises(SweepError, match="not a sweep folder"):
        run_sweep(small, tmp_path, workers=1, imports=PLUGINS)


def test_corrupt_line_is_an_error(tmp_path: Path, serial_executor: SerialExecutor) -> None:
    small = SweepSpec(modes=("probe",), latencies=("interop",), seeds=2)
    run_sweep(small, tmp_path, executor=serial_executor)
    text = (tmp_path / RUNS_FILE).read_text().splitlines()
    (tmp_path / RUNS_FILE).write_text(text[0] + "\nnot json\n")
    with pytest.raises(SweepError, match="line 2 is not a run record"):
        run_sweep(small, tmp_path, executor=serial_executor, resume=True)


def test_failing_run_names_the_error_and_keeps_finished_runs(
    tmp_path: Path, serial_executor: SerialExecutor
) -> None:
    sweep = SweepSpec(modes=("fail",), latencies=("interop",), seeds=3)
    with pytest.raises(SweepError, match="RuntimeError: probe failure at seed 1") as info:
        run_sweep(sweep, tmp_path, executor=serial_executor)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert set(load_runs(tmp_path)) == {sweep.specs()[0].key()}


def test_unavailable_or_unknown_mode_refused_before_running(tmp_path: Path) -> None:
    with pytest.raises(ScenarioConfigError, match="mode='warp' is not a known mode"):
        run_sweep(SweepSpec(modes=("warp",)), tmp_path, workers=1)
    assert not (tmp_path / SWEEP_FILE).exists()


def test_key_is_the_resume_identity() -> None:
    spec = RunSpec(mode="probe", seed=3)
    assert spec.key() != RunSpec(mode="probe", seed=4).key()
    assert spec.key() == RunSpec(mode="probe", seed=3).key()
