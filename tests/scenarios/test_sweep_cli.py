"""``testbed sweep``, ``testbed report`` and ``testbed bench scenario`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.cli import main

#: The test-only probe and fail modes exist for this module only (conftest).
pytestmark = pytest.mark.usefixtures("probe_modes")

SMALL = ["--modes", "probe", "--latency", "interop,finality", "--sigma", "0.2", "--seeds", "2"]


def _sweep(out: Path, *extra: str) -> int:
    return main(["sweep", *SMALL, "--plugin", "sweep_plugin", "--out", str(out), *extra])


def test_sweep_then_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _sweep(tmp_path / "s", "--workers", "1") == 0
    out, err = capsys.readouterr()
    assert "4 runs →" in out and "results.csv" in out
    assert "4/4 runs" in err  # the progress bar (plain lines: stderr is not a tty)
    assert _sweep(tmp_path / "s", "--workers", "1", "--resume") == 0
    assert "(4 from an earlier session)" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "index.html" in out and (tmp_path / "s" / "report" / "index.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latency", "interop,warp-drive"], "latency='warp-drive' is not a known latency preset"),
        (["--modes", "teleport"], "mode='teleport' is not a known mode"),
        (["--chains", "6"], "chains=6 must be 2 to 5"),
        (["--sigma", "0.2,0.2"], "sigmas lists 0.2 more than once"),
    ],
    ids=["preset", "mode", "chains", "duplicate"],
)
def test_sweep_invalid_values(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sweep", *SMALL, *args, "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("testbed: error: invalid sweep: ") and message in err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sigma", "0.2,abc"], "argument --sigma: 'abc' is not a number"),
        (["--sigma", "0.2,"], "expected a comma-separated list of a number"),
        (["--seeds", "0"], "argument --seeds: '0' must be at least 1"),
        (["--workers", "two"], "argument --workers: 'two' is not an integer"),
        (["--chains", "3.5"], "argument --chains: '3.5' is not an integer"),
    ],
    ids=["sigma", "empty-item", "seeds", "workers", "chains"],
)
def test_sweep_unreadable_arguments(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["sweep", *SMALL, *args, "--out", "unused"])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_sweep_resume_with_other_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sweep(tmp_path, "--workers", "1", "--quiet") == 0
    code = main(
        ["sweep", *SMALL[:-1], "3", "--plugin", "sweep_plugin", "--out", str(tmp_path), "--resume"]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "made with different arguments (seeds: folder has 2, arguments give 3)" in err
    assert _sweep(tmp_path, "--workers", "1") == 2
    assert "pass --resume" in capsys.readouterr().err


def test_sweep_unknown_plugin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sweep", *SMALL, "--plugin", "no_such_runners", "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "plugin module 'no_such_runners' cannot be imported" in err


def test_report_of_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "results.json not found" in capsys.readouterr().err


def test_bench_scenario_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "bench", "scenario", "--json", "--runs", "2", "--repeats", "1",
            "--modes", "atomic,warp", "--boa-swaps", "0",
        ]
    )  # fmt: skip
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    atomic = result["modes"]["atomic"]
    assert atomic["available"] and atomic["median_runs_per_s"] > 0
    assert atomic["repeats_runs_per_s"] == [atomic["median_runs_per_s"]]
    assert atomic["cpu_repeats_runs_per_s"] == [atomic["cpu_median_runs_per_s"]]
    assert "boa" not in result and "bridged_runs_per_boa_swap" not in result
    warp = result["modes"]["warp"]
    assert not warp["available"] and "mode='warp' is not a known mode" in warp["reason"]


def test_bench_scenario_reports_runs_per_boa_swap(capsys: pytest.CaptureFixture[str]) -> None:
    """Every built-in scenario gets a table; the bridged rate is divided by titanoboa's
    swaps/s measured in the same session, repeat by repeat."""
    argv = ["bench", "scenario", "--runs", "1", "--repeats", "2", "--modes", "bridged"]
    code = main([*argv, "--json", "--boa-swaps", "10", "--scenario", "all"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    from scenarios.plan import BUILTINS

    assert list(result["scenarios"]) == list(BUILTINS)
    boa = result["boa"]
    assert len(boa["cpu_runs_swaps_per_s"]) == 2 * len(BUILTINS)
    bridged = result["modes"]["bridged"]
    assert result["modes"] == result["scenarios"][result["scenario"]]["modes"]
    # the ratio of each repeat is runs/s ÷ the boa run just before it; the median of two
    expected = [
        bridged["cpu_repeats_runs_per_s"][i] / boa["cpu_runs_swaps_per_s"][i] for i in range(2)
    ]
    assert result["bridged_runs_per_boa_swap"] == pytest.approx(sum(expected) / 2, rel=0.02)
