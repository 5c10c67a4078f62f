"""Scenario benchmark: runs per second of each mode, and the wall time of a bridged sweep.

Per mode (``testbed bench scenario``): one :class:`~scenarios.World` per layout is built
once (its build time is reported apart) and every run reverts to the world's anchor — the
deployment is reused, never redeployed. After one warm-up run, ``repeats`` times ``runs``
runs (seeds ``0 .. runs-1``) are timed; the figure is the median runs/s. A ``bridged`` run
includes its atomic baseline run (divergence needs it), as in a sweep. Modes without a
runner yet are reported as unavailable, not measured.

Sweep (``--sweep-runs N``): a real :func:`~scenarios.run_sweep` into a temporary folder,
``workers`` processes, mode ``bridged`` on the 3-chain layout in virtual time over all
latency presets × σ ∈ {0.2, 0.8} × ``ceil(N / 12)`` seeds, timed end to end (worker start,
world builds, runs, result files). The issue's target: 1,000 runs in under 5 minutes on
2 cores. Besides the wall time it reports the CPU seconds of the parent and the workers:
on a machine shared with other jobs, ``cpu_s / workers`` estimates the wall time on idle
cores.
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

from scenarios.model import (
    DEFAULT_SCENARIO,
    LATENCY_PRESETS,
    MODES,
    RunSpec,
    ScenarioConfigError,
)
from scenarios.runners import get_runner, run
from scenarios.sweep import SweepSpec, WorldCache, run_sweep

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
    progress: Callable[[str], None] = _noop,
) -> dict[str, Any]:
    """Runs/s per mode of ``scenario`` on one reused world per layout; see the module
    docstring."""
    if runs < 1 or repeats < 1:
        raise ScenarioConfigError(f"runs={runs} and repeats={repeats} must be at least 1")
    worlds = WorldCache()
    result: dict[str, Any] = {
        "runs_per_repeat": runs,
        "repeats": repeats,
        "chains": chains,
        "latency": latency,
        "sigma": sigma,
        "scenario": scenario,
        "world_build_s": None,
        "modes": {},
    }
    start = time.perf_counter()
    progress(f"building the {chains}-chain world")
    worlds.get(chains)
    result["world_build_s"] = round(time.perf_counter() - start, 3)
    for mode in modes:
        try:
            get_runner(mode)
        except ScenarioConfigError as exc:
            result["modes"][mode] = {"available": False, "reason": str(exc)}
            progress(f"{mode}: not available ({exc})")
            continue
        specs = [
            RunSpec(
                mode=mode,
                chains=chains,
                latency=latency,
                sigma=sigma,
                seed=seed,
                scenario=scenario,
            )
            for seed in range(runs)
        ]
        for spec in specs:
            spec.validate()
        warm = time.perf_counter()
        run(specs[0], world=worlds.get(chains))
        warm_s = time.perf_counter() - warm
        rates = []
        for i in range(repeats):
            t0 = time.perf_counter()
            for spec in specs:
                run(spec, world=worlds.get(chains))
            elapsed = time.perf_counter() - t0
            rates.append(round(runs / elapsed, 2))
            progress(f"{mode}: repeat {i + 1}/{repeats}: {rates[-1]} runs/s")
        median = statistics.median(rates)
        result["modes"][mode] = {
            "available": True,
            "median_runs_per_s": median,
            "ms_per_run": round(1000 / median, 1),
            "repeats_runs_per_s": rates,
            "first_run_s": round(warm_s, 3),
        }
    return result


def run_sweep_bench(
    *,
    n_runs: int = 1000,
    workers: int = 2,
    mode: str = "bridged",
    chains: int = 3,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Time a real sweep of about ``n_runs`` runs (rounded up to whole seeds per cell)."""
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
    with tempfile.TemporaryDirectory(prefix="testbed-bench-sweep-") as tmp:
        cpu0 = _cpu_seconds()
        t0 = time.perf_counter()
        outcome = run_sweep(sweep, tmp, workers=workers, progress=progress)
        elapsed = time.perf_counter() - t0
        cpu = _cpu_seconds() - cpu0
    return {
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


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
