"""The engine benchmark's bookkeeping (not its speed): modes, rounds and ratios."""

from __future__ import annotations

import json
import statistics

import pytest

from scenarios.bench import _engine as _bench
from scenarios.cli import main


def test_interleaved_ratio_is_the_median_of_per_round_ratios(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order: list[str] = []
    rates = {"native_interval": [100.0, 90.0, 30.0], "boa": [50.0, 200.0, 10.0]}

    def fake_timed(loop: _bench.Loop, swaps: int) -> tuple[float, float]:
        loop(swaps)
        rate = rates[order[-1]].pop(0)
        return rate * 2, rate  # wall, CPU

    def setup(path: str) -> _bench.Loop:
        return lambda n: order.append(path)

    monkeypatch.setattr(_bench, "_timed", fake_timed)
    monkeypatch.setitem(_bench._SETUPS, "native_interval", lambda: setup("native_interval"))
    monkeypatch.setitem(_bench._SETUPS, "boa", lambda: setup("boa"))
    result = _bench.run_engine_bench(
        paths=("native_interval", "boa"), repeats=3, startup=False, isolate=False
    )
    # warm-up of each, then rounds in rotated order
    assert order == ["native_interval", "boa"] + ["native_interval", "boa"] + [
        "boa",
        "native_interval",
    ] + ["native_interval", "boa"]
    assert result["mode"] == "interleaved"
    # per round: 2.0, 0.45, 3.0 -> median 2.0 (the ratio of medians would be 90/50 = 1.8)
    assert result["ratios"]["native_interval_vs_boa"] == statistics.median([2.0, 0.45, 3.0])
    assert result["ratios_wall"]["native_interval_vs_boa"] == 2.0
    assert result["paths"]["boa"]["cpu_runs"] == [50.0, 200.0, 10.0]
    assert result["paths"]["boa"]["runs"] == [100.0, 400.0, 20.0]


def test_sequential_ratio_is_the_ratio_of_medians(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = {"native_interval": [10.0, 40.0, 20.0], "boa": [10.0, 10.0, 100.0]}
    monkeypatch.setattr(
        _bench, "measure_path", lambda path, swaps, repeats: [(r, r) for r in rates[path]]
    )
    result = _bench.run_engine_bench(
        paths=("native_interval", "boa"), repeats=3, startup=False, interleave=False
    )
    assert result["mode"] == "sequential"
    assert result["ratios"]["native_interval_vs_boa"] == 2.0


def test_cli_runs_real_native_paths_interleaved(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "engine", "--json", "--repeats", "2", "--scale", "0.01", "--no-startup"]
    assert main([*argv, "--paths", "native_interval", "native_automine"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "interleaved, a process per path"
    for path in ("native_interval", "native_automine"):
        assert result["paths"][path]["swaps_per_run"] == 10
        assert len(result["paths"][path]["runs"]) == 2
        assert all(rate > 0 for rate in result["paths"][path]["runs"])
        assert len(result["paths"][path]["cpu_runs"]) == 2
    assert result["ratios"] == {}  # no boa path: no ratio against it


def test_scenario_bench_reports_each_scenario_and_mode() -> None:
    """``testbed bench scenario --scenario a,b``: a table per scenario, one row per mode, each
    scenario in the world its placement needs (bookkeeping only: no speed is asserted)."""
    from scenarios.bench import run_scenario_bench

    result = run_scenario_bench(
        scenarios=["swap-borrow-refinance", "cross-chain-arb"],
        modes=("atomic",),
        runs=1,
        repeats=1,
        boa_swaps=0,
    )
    assert list(result["scenarios"]) == ["swap-borrow-refinance", "cross-chain-arb"]
    assert result["scenario"] == "swap-borrow-refinance"
    for one in result["scenarios"].values():
        info = one["modes"]["atomic"]
        assert info["available"] and len(info["repeats_runs_per_s"]) == 1
        assert info["median_runs_per_s"] > 0


def test_scenario_bench_reports_a_sweeps_throughput_apart() -> None:
    """With several modes, the runs of each seed's modes as one baseline group (as a sweep
    runs them) are timed apart from the per-mode figures, on seeds of their own
    (bookkeeping only: no speed is asserted)."""
    from scenarios.bench import run_scenario_bench

    result = run_scenario_bench(modes=("atomic", "sequential"), runs=2, repeats=2, boa_swaps=0)
    for mode in ("atomic", "sequential"):
        assert len(result["modes"][mode]["cpu_repeats_runs_per_s"]) == 2
    sweep = result["all_modes_per_seed"]
    assert sweep["modes"] == ["atomic", "sequential"]
    assert sweep["seeds_per_repeat"] == 1 and sweep["runs_per_repeat"] == 2
    assert len(sweep["cpu_repeats_runs_per_s"]) == 2
    assert sweep["median_runs_per_s"] > 0 and sweep["cpu_median_runs_per_s"] > 0


def test_scenario_bench_of_one_mode_has_no_sweep_figure() -> None:
    """One mode has no baseline to share: no ``all_modes_per_seed``."""
    from scenarios.bench import run_scenario_bench

    result = run_scenario_bench(modes=("atomic",), runs=1, repeats=1, boa_swaps=0)
    assert "all_modes_per_seed" not in result
