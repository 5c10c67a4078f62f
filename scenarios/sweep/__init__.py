"""scenarios.sweep: parameter sweeps — the grid spec, the executors (serial, process pool,
Dask), the sweep folder's files and the engine that runs a grid resumably and deterministically.
"""

from __future__ import annotations

from scenarios.sweep._columns import (
    METRIC_TYPES,
    RESULTS_PARQUET,
    build_table,
    component_column,
    dict_metrics,
    structured_spec_fields,
    write_parquet,
)
from scenarios.sweep._dask import (
    DIST_NAME,
    DaskExecutor,
    DaskExecutorError,
    WorldsPlugin,
    environment_fingerprint,
)
from scenarios.sweep._engine import (
    SweepOutcome,
    run_sweep,
)
from scenarios.sweep._executors import (
    Done,
    Executor,
    Item,
    ProcessExecutor,
    SerialExecutor,
    WorldCache,
    baseline_group,
    group_by_baseline,
    import_plugins,
    make_executor,
)
from scenarios.sweep._spec import (
    LOCAL_MODES,
    SweepError,
    SweepSpec,
    latency_order,
)
from scenarios.sweep._storage import (
    FORMAT_VERSION,
    LOCK_FILE,
    RESULT_FILES,
    RESULTS_CSV,
    RESULTS_JSON,
    RUNS_FILE,
    SPEC_FIELDS,
    SWEEP_FILE,
    check_arguments,
    folder_lock,
    load_results,
    load_runs,
    write_results,
)

__all__ = [
    "DIST_NAME",
    "DaskExecutor",
    "DaskExecutorError",
    "WorldsPlugin",
    "environment_fingerprint",
    "Done",
    "Executor",
    "FORMAT_VERSION",
    "Item",
    "LOCAL_MODES",
    "LOCK_FILE",
    "METRIC_TYPES",
    "RESULTS_PARQUET",
    "ProcessExecutor",
    "RESULTS_CSV",
    "RESULTS_JSON",
    "RESULT_FILES",
    "RUNS_FILE",
    "SPEC_FIELDS",
    "SWEEP_FILE",
    "SerialExecutor",
    "SweepError",
    "SweepOutcome",
    "SweepSpec",
    "WorldCache",
    "baseline_group",
    "build_table",
    "component_column",
    "dict_metrics",
    "structured_spec_fields",
    "check_arguments",
    "folder_lock",
    "group_by_baseline",
    "import_plugins",
    "latency_order",
    "load_results",
    "load_runs",
    "make_executor",
    "run_sweep",
    "write_parquet",
    "write_results",
]
