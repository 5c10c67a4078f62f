"""Scenario benchmark: runs per second of each mode, and the wall time of a bridged sweep.

Per mode (``testbed bench scenario``): one :class:`~scenarios.World` per layout is built
once (its build time is reported apart) and every run reverts to the world's anchor — the
deployment is reused, never redeployed. After one warm-up run, ``repeats`` times ``runs``
runs are timed, each repeat on seeds of its own (``i·runs .. (i+1)·runs − 1``, the warm-up
on the seed after them: a sweep never runs a seed twice, and a re-run would rebuild
identical blocks), by the wall clock and by this process's CPU time; the figures are the
medians of runs/s (``median_runs_per_s``: wall, ``cpu_median_runs_per_s``: CPU — on a
machine shared with other jobs CPU time leaves out the time spent waiting for a core). A
``bridged`` run includes its atomic baseline run (divergence needs it), as in a sweep.
Modes without a runner yet are reported as unavailable, not measured.
``scenarios`` may name several scenarios (or every built-in one); each gets its own table.

A sweep runs every mode of a seed as one group whose atomic baseline runs once
(:meth:`~scenarios.sweep.WorldCache.run_group`), so its throughput is higher than the
per-mode figures, which time each run with its own baseline: with two or more modes,
``all_modes_per_seed`` reports it apart — runs/s of all the modes of fresh seeds (none of
the per-mode figures' seeds) run as such groups, wall and CPU, medians over repeats. The
per-mode figures stay cold: nothing is shared between two runs of a mode.

Machines differ about 2x in absolute speed, so the figure the targets use is relative to
titanoboa measured in the same session: before each repeat, titanoboa's swap loop (the
engine benchmark's ``boa`` path, in a worker process of its own) runs ``boa_swaps`` swaps,
and

    bridged_runs_per_boa_swap = median over repeats i of
        (bridged CPU runs/s in repeat i) / (titanoboa CPU swaps/s just before repeat i)

for the first scenario (and per scenario in ``scenarios``). Taking the ratio within one
repeat, seconds apart, cancels most of the drift of a shared machine's load.

Sweep (``--sweep-runs N``): a real :func:`~scenarios.run_sweep` into a temporary folder,
``workers`` processes, mode ``bridged`` on the 3-chain layout in virtual time over all
latency presets × σ ∈ {0.2, 0.8} × ``ceil(N / 12)`` seeds, timed end to end (worker start,
world builds, runs, result files). The issue's target: 1,000 runs in under 5 minutes on
2 cores. Besides the wall time it reports the CPU seconds of the parent and the workers:
on a machine shared with other jobs, ``cpu_s / workers`` estimates the wall time on idle
cores. ``executor="dask"`` runs the same grid on a ``LocalCluster`` of ``workers``
processes (cluster start included in the wall time) and also times the scheduler's cost
per task (no-op tasks round-tripped through the same cluster), from which it projects the
wall time of a 100,000-run sweep on a 32-worker cluster:

    T(100k, 32) ≈ build_s + 100,000 · run_s / 32 + tasks(100k) · task_overhead_s

with ``run_s`` = worker-seconds per run measured here (wall of the run phase × workers /
runs), ``tasks`` = runs / runs-per-task (one task per baseline group) and ``build_s`` the
measured start (cluster and first world builds) — the scheduler handles tasks one at a
time, so its overhead is added, not divided. On a shared machine ``run_s`` is inflated by
the load; the same formula with the CPU seconds per run (start scaled alike) estimates
idle workers.
"""

from __future__ import annotations

import logging
import math
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from scenarios.bench._engine import _Isolated
from scenarios.model import (
    DEFAULT_SCENARIO,
    LATENCY_PRESETS,
    MODES,
    RunSpec,
    ScenarioConfigError,
)
from scenarios.runners import get_runner, run
from scenarios.sweep import SweepSpec, WorldCache, group_by_baseline, run_sweep

__all__ = ["run_scenario_bench", "run_sweep_bench"]

logger = logging.getLogger(__name__)

SWEEP_SIGMAS = (0.2, 0.8)
SWEEP_TARGET_S = 300.0


def _noop(message: str) -> None:
    del message


def run_scenario_bench(
    *,
    modes: Sequence[str] = MODES,
    runs: int = 20,
    repeats: int = 3,
    chains: int = 3,
    latency: str = "fast-attestation",
    sigma: float = 0.8,
    scenario: str = DEFAULT_SCENARIO,
    scenarios: Sequence[str] | None = None,
    boa_swaps: int = 300,
    progress: Callable[[str], None] = _noop,
) -> dict[str, Any]:
    """Runs/s per mode of each scenario on one reused world per layout, and titanoboa's
    swaps/s in the same session (``boa_swaps=0``: not measured); see the module docstring.

    ``scenarios`` (default: just ``scenario``) are timed in order; the top-level
    ``modes`` and ``bridged_runs_per_boa_swap`` are the first one's.
    """
    if runs < 1 or repeats < 1:
        raise ScenarioConfigError(f"runs={runs} and repeats={repeats} must be at least 1")
    if boa_swaps < 0:
        raise ScenarioConfigError(f"boa_swaps={boa_swaps} must not be negative")
    names = list(scenarios) if scenarios else [scenario]
    worlds = WorldCache()
    result: dict[str, Any] = {
        "runs_per_repeat": runs,
        "repeats": repeats,
        "chains": chains,
        "latency": latency,
        "sigma": sigma,
        "scenario": names[0],
        "world_build_s": None,
        "modes": {},
    }
    boa = _Isolated("boa", warmup=20) if boa_swaps else None
    try:
        start = time.perf_counter()
        progress(f"building the {chains}-chain world")
        for name in names:
            worlds.for_spec(_probe(name, chains, latency, sigma))
        result["world_build_s"] = round(time.perf_counter() - start, 3)
        if boa is not None:
            progress("titanoboa's swap loop: set-up and warm-up (worker process)")
            boa.wait_ready()
        boa_rates: list[float] = []
        per_scenario: dict[str, Any] = {}
        for name in names:
            per_scenario[name] = _time_modes(
                name, modes, runs, repeats, chains, latency, sigma, worlds, boa, boa_swaps,
                boa_rates, progress,
            )  # fmt: skip
    finally:
        if boa is not None:
            boa.close()
    result["modes"] = per_scenario[names[0]]["modes"]
    if "all_modes_per_seed" in per_scenario[names[0]]:
        result["all_modes_per_seed"] = per_scenario[names[0]]["all_modes_per_seed"]
    if boa is not None:
        result["boa"] = {
            "swaps_per_run": boa_swaps,
            "cpu_median_swaps_per_s": round(statistics.median(boa_rates), 1),
            "cpu_runs_swaps_per_s": [round(r, 1) for r in boa_rates],
        }
        ratio = per_scenario[names[0]].get("bridged_runs_per_boa_swap")
        if ratio is not None:
            result["bridged_runs_per_boa_swap"] = ratio
    if scenarios:
        result["scenarios"] = per_scenario
    return result


def _probe(scenario: str, chains: int, latency: str, sigma: float) -> RunSpec:
    """A spec naming the world ``scenario`` runs on (a scenario may need venues of its own)."""
    probe = RunSpec(chains=chains, latency=latency, sigma=sigma, scenario=scenario)
    probe.validate()
    return probe


def _time_modes(
    scenario: str,
    modes: Sequence[str],
    runs: int,
    repeats: int,
    chains: int,
    latency: str,
    sigma: float,
    worlds: WorldCache,
    boa: _Isolated | None,
    boa_swaps: int,
    boa_rates: list[float],
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """One scenario's modes (see :func:`run_scenario_bench`); a titanoboa run before each
    repeat of each mode goes into ``boa_rates``."""
    out: dict[str, Any] = {"modes": {}}
    world = worlds.for_spec(_probe(scenario, chains, latency, sigma))
    for mode in modes:
        try:
            get_runner(mode)
        except ScenarioConfigError as exc:
            out["modes"][mode] = {"available": False, "reason": str(exc)}
            progress(f"{mode}: not available ({exc})")
            continue
        # Seeds 0 .. runs·repeats − 1, a fresh block of ``runs`` per repeat, and the
        # warm-up on the seed after them: a sweep never runs a seed twice, and a re-run
        # seed rebuilds byte-identical blocks that any state-keyed memo would recognise.
        specs = [
            RunSpec(
                mode=mode,
                chains=chains,
                latency=latency,
                sigma=sigma,
                seed=seed,
                scenario=scenario,
            )
            for seed in range(runs * repeats + 1)
        ]
        for spec in specs:
            spec.validate()
        warm = time.perf_counter()
        run(specs[-1], world=world)
        warm_s = time.perf_counter() - warm
        rates: list[float] = []
        cpu_rates: list[float] = []
        ratios: list[float] = []
        for i in range(repeats):
            boa_rate = boa.run(boa_swaps)[1] if boa is not None else None
            t0, c0 = time.perf_counter(), time.process_time()
            for spec in specs[i * runs : (i + 1) * runs]:
                run(spec, world=world)
            elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
            rates.append(round(runs / elapsed, 2))
            cpu_rates.append(round(runs / cpu, 2))
            if boa_rate is not None:
                boa_rates.append(boa_rate)
                ratios.append(runs / cpu / boa_rate)  # runs/s ÷ boa swaps/s, same repeat
            progress(
                f"{scenario} {mode}: repeat {i + 1}/{repeats}: {rates[-1]} runs/s "
                f"({cpu_rates[-1]} by CPU time)"
            )
        median = statistics.median(rates)
        entry: dict[str, Any] = {
            "available": True,
            "median_runs_per_s": median,
            "ms_per_run": round(1000 / median, 1),
            "repeats_runs_per_s": rates,
            "cpu_median_runs_per_s": statistics.median(cpu_rates),
            "cpu_ms_per_run": round(1000 / statistics.median(cpu_rates), 1),
            "cpu_repeats_runs_per_s": cpu_rates,
            "first_run_s": round(warm_s, 3),
        }
        if ratios:
            entry["runs_per_boa_swap"] = round(statistics.median(ratios), 5)
        out["modes"][mode] = entry
        if mode == "bridged" and ratios:
            out["bridged_runs_per_boa_swap"] = entry["runs_per_boa_swap"]
    available = [m for m, info in out["modes"].items() if info["available"]]
    if len(available) > 1:
        out["all_modes_per_seed"] = _time_all_modes(
            scenario, available, runs, repeats, chains, latency, sigma, worlds, progress
        )
    return out


def _time_all_modes(
    scenario: str,
    modes: Sequence[str],
    runs: int,
    repeats: int,
    chains: int,
    latency: str,
    sigma: float,
    worlds: WorldCache,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """A sweep's throughput: every mode of each seed as one baseline group
    (:meth:`WorldCache.run_group`, what a sweep's workers run), so the seed's atomic
    baseline runs once for all its modes instead of once per run as in the per-mode
    figures. Each repeat takes ``max(1, runs // len(modes))`` seeds of its own, after the
    per-mode figures' seeds (none runs twice); runs/s = (modes × seeds) / seconds."""
    seeds = max(1, runs // len(modes))
    first = runs * repeats + 1  # the per-mode figures used seeds 0 .. runs·repeats
    rates: list[float] = []
    cpu_rates: list[float] = []
    for i in range(repeats):
        groups = []
        for seed in range(first + i * seeds, first + (i + 1) * seeds):
            group: list[tuple[int, RunSpec]] = []
            for mode in modes:
                spec = RunSpec(
                    mode=mode, chains=chains, latency=latency, sigma=sigma, seed=seed,
                    scenario=scenario,
                )  # fmt: skip
                spec.validate()
                group.append((len(group), spec))
            groups.append(group)
        t0, c0 = time.perf_counter(), time.process_time()
        for group in groups:
            for _ in worlds.run_group(group):
                pass
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        n = seeds * len(modes)
        rates.append(round(n / elapsed, 2))
        cpu_rates.append(round(n / cpu, 2))
        progress(
            f"{scenario} all modes per seed: repeat {i + 1}/{repeats}: {rates[-1]} runs/s "
            f"({cpu_rates[-1]} by CPU time)"
        )
    return {
        "modes": list(modes),
        "seeds_per_repeat": seeds,
        "runs_per_repeat": seeds * len(modes),
        "median_runs_per_s": statistics.median(rates),
        "repeats_runs_per_s": rates,
        "cpu_median_runs_per_s": statistics.median(cpu_rates),
        "cpu_repeats_runs_per_s": cpu_rates,
    }


def run_sweep_bench(
    *,
    n_runs: int = 1000,
    workers: int = 2,
    mode: str = "bridged",
    chains: int = 3,
    progress: Callable[[int, int], None] | None = None,
    executor: str = "process",
) -> dict[str, Any]:
    """Time a real sweep of about ``n_runs`` runs (rounded up to whole seeds per cell) on
    the ``executor`` (``process`` or ``dask``)."""
    if executor not in ("process", "dask"):
        raise ScenarioConfigError(f"executor={executor!r} must be 'process' or 'dask'")
    if n_runs < 1:
        raise ScenarioConfigError(f"sweep runs={n_runs} must be at least 1")
    cells = len(LATENCY_PRESETS) * len(SWEEP_SIGMAS)
    sweep = SweepSpec(
        modes=(mode,),
        latencies=LATENCY_PRESETS,
        sigmas=SWEEP_SIGMAS,
        chains=(chains,),
        seeds=math.ceil(n_runs / cells),
    )
    sweep.validate()
    first_result: list[float] = []

    def timed_progress(done: int, total: int) -> None:
        if done > 0 and not first_result:
            first_result.append(time.perf_counter())
        if progress is not None:
            progress(done, total)

    dask_info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="testbed-bench-sweep-") as tmp:
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        if executor == "dask":
            from scenarios.sweep import DaskExecutor

            with DaskExecutor(workers=workers) as dask_executor:
                outcome = run_sweep(sweep, tmp, executor=dask_executor, progress=timed_progress)
                elapsed = time.perf_counter() - t0
                dask_info = _dask_task_overhead(dask_executor)
        else:
            outcome = run_sweep(sweep, tmp, workers=workers, progress=timed_progress)
            elapsed = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
    # Until the first result: pool or cluster start, world builds, the first group.
    start_s = (first_result[0] - t0) if first_result else elapsed
    run_phase = max(elapsed - start_s, 1e-9)
    runs_per_task = outcome.total / len(group_by_baseline(sweep.specs()))
    result_extra: dict[str, Any] = {"executor": executor, "first_result_s": round(start_s, 2)}
    if dask_info:
        run_s = run_phase * workers / outcome.total
        tasks = 100_000 / runs_per_task
        overhead = dask_info["task_overhead_ms"] / 1000
        projected = start_s + 100_000 * run_s / 32 + tasks * overhead
        # The same from CPU time (what a run costs on a core of its own): the estimate for
        # a cluster whose cores are not shared with other jobs.
        cpu_run_s = (_cpu_seconds() - cpu0) / outcome.total
        projected_idle = start_s * cpu_run_s / run_s + 100_000 * cpu_run_s / 32 + tasks * overhead
        result_extra.update(
            dask_info,
            worker_s_per_run=round(run_s, 3),
            cpu_s_per_run=round(cpu_run_s, 3),
            runs_per_task=round(runs_per_task, 1),
            projected_100k_runs_32_workers_s=round(projected),
            projected_100k_runs_32_idle_workers_s=round(projected_idle),
        )
    return {
        **result_extra,
        "mode": mode,
        "chains": chains,
        "runs": outcome.total,
        "workers": workers,
        "latencies": list(LATENCY_PRESETS),
        "sigmas": list(SWEEP_SIGMAS),
        "seeds": sweep.seeds,
        "wall_s": round(elapsed, 2),
        "runs_per_s": round(outcome.total / elapsed, 2),
        "target_s_for_1000": SWEEP_TARGET_S,
        "projected_s_for_1000": round(1000 * elapsed / outcome.total, 1),
        # CPU time of this process and its (finished) workers: on a machine shared with
        # other jobs the wall time above is inflated; cpu_s / workers is the wall time the
        # same sweep needs on `workers` otherwise idle cores (perfect balance assumed).
        "cpu_s": round(cpu, 1),
        "idle_cores_wall_s_estimate": round(cpu / workers, 1),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def _noop_task(x: int) -> int:
    return x


def _dask_task_overhead(executor: Any, tasks: int = 1000) -> dict[str, Any]:
    """The scheduler's wall time per task: ``tasks`` no-op tasks submitted and gathered
    through the executor's cluster (their own work is nil, so all of it is overhead:
    serialisation, scheduling, transfer)."""
    client = executor.client
    t0 = time.perf_counter()
    futures = client.map(_noop_task, range(tasks), pure=False)
    client.gather(futures)
    elapsed = time.perf_counter() - t0
    return {"task_overhead_ms": round(1000 * elapsed / tasks, 3), "overhead_tasks": tasks}


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
