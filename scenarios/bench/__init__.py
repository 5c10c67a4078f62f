"""scenarios.bench: benchmarks: the engine against titanoboa and eth-tester, the JSON-RPC
server, scenario runs and sweeps. The benchmark contracts are in ``benchdata/``.
"""

from __future__ import annotations

from scenarios.bench._engine import (
    PATHS,
    RATIOS,
    SUPPLY,
    bench_source,
    measure_interleaved,
    measure_path,
    measure_startup,
    run_engine_bench,
)
from scenarios.bench._rpc import (
    run_rpc_bench,
)
from scenarios.bench._scenario import (
    run_scenario_bench,
    run_scenarios_bench,
    run_sweep_bench,
)

__all__ = [
    "PATHS",
    "RATIOS",
    "SUPPLY",
    "bench_source",
    "measure_interleaved",
    "measure_path",
    "measure_startup",
    "run_engine_bench",
    "run_rpc_bench",
    "run_scenario_bench",
    "run_scenarios_bench",
    "run_sweep_bench",
]
