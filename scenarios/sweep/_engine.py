"""Parameter sweeps: a grid of :class:`RunSpec` run in parallel, written incrementally,
resumable and byte-for-byte deterministic.

Flow::

    SweepSpec ──specs()──▶ [RunSpec, ...]  (stable grid order)
        │                        │ pending = not yet in runs.jsonl
        ▼                        ▼
    sweep.json             Executor.map_unordered ──▶ (position, RunResult) as they finish
                                 │
                                 ▼
                     runs.jsonl (one canonical line per run, appended, fsync per batch)
                                 │ when every spec is done
                                 ▼
                     results.json + results.csv (grid order: same arguments, same bytes)

The grid is in ``_spec.py``, where runs execute in ``_executors.py``, the files in
``_storage.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.model import (
    RunSpec,
)
from scenarios.sweep._executors import (
    Executor,
    group_by_baseline,
    import_plugins,
    make_executor,
)
from scenarios.sweep._spec import SweepError, SweepSpec
from scenarios.sweep._storage import (
    RUNS_FILE,
    check_arguments,
    folder_lock,
    load_runs,
    write_results,
)

__all__ = [
    "SweepOutcome",
    "run_sweep",
]

#: Runs written to ``runs.jsonl`` between two fsyncs.
_FSYNC_EVERY = 16


# ---------------------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepOutcome:
    """What :func:`run_sweep` did: grid size, runs done now and found from before."""

    out: Path
    total: int
    ran: int
    resumed: int


def run_sweep(
    sweep: SweepSpec,
    out: Path | str,
    *,
    workers: int | None = None,
    executor: Executor | None = None,
    resume: bool = False,
    imports: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> SweepOutcome:
    """Run every spec of ``sweep`` not yet in ``out``, then write the result files.

    ``executor`` defaults to :func:`make_executor` with ``workers`` (default
    ``os.cpu_count()``); an executor passed in is not closed here, and if it has a
    ``start()`` method (:class:`DaskExecutor`) that is called before the folder is touched.
    ``progress(done, total)`` is called once before the first run (``done`` = runs found
    from an earlier session) and after every run. If a run fails or the sweep is
    interrupted, the finished runs stay in ``runs.jsonl`` and the error propagates (a run's
    error as :class:`SweepError` naming the run); calling again with ``resume=True``
    finishes the grid.
    """
    import_plugins(imports)
    sweep.validate()
    start = getattr(executor, "start", None)
    if start is not None:  # a remote engine connects (and fails) before anything is written
        start()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    specs = sweep.specs()
    keys = [spec.key() for spec in specs]
    with folder_lock(out):
        check_arguments(out, sweep, resume=resume)
        done = load_runs(out, repair=True)
        unknown = sorted(set(done) - set(keys))
        if unknown:
            raise SweepError(
                f"{out / RUNS_FILE} holds {len(unknown)} run(s) outside this grid "
                f"(first: {unknown[0]}); the folder is inconsistent — use another --out"
            )
        pending = [spec for spec, key in zip(specs, keys, strict=True) if key not in done]
        resumed = len(specs) - len(pending)
        if progress:
            progress(resumed, len(specs))
        if pending:
            owned = executor is None
            if executor is None:
                count = workers if workers is not None else (os.cpu_count() or 1)
                tasks = len(group_by_baseline(pending))  # a worker per task at most
                executor = make_executor(min(count, tasks), imports=imports)
            try:
                _execute(executor, pending, out, done, len(specs), progress)
            except BaseException:
                if owned:  # stop now rather than wait for runs whose results are dropped
                    getattr(executor, "abort", executor.close)()
                raise
            if owned:
                executor.close()
        write_results(out, [done[key] for key in keys], arguments=sweep.to_json())
    return SweepOutcome(out=out, total=len(specs), ran=len(pending), resumed=resumed)


def _execute(
    executor: Executor,
    pending: Sequence[RunSpec],
    out: Path,
    done: dict[str, dict[str, Any]],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    with open(out / RUNS_FILE, "a", encoding="utf-8", newline="\n") as log:
        unsynced = 0
        results = executor.map_unordered(pending)
        try:
            while True:
                try:
                    item = next(results, None)
                except BrokenProcessPool as exc:
                    raise SweepError(
                        f"a worker process died ({exc}); the {len(done)} finished runs are "
                        "saved — run again with --resume to finish"
                    ) from exc
                except Exception as exc:
                    raise SweepError(
                        f"a run failed: {type(exc).__name__}: {exc}; the {len(done)} finished "
                        "runs are saved — fix the cause and run again with --resume"
                    ) from exc
                if item is None:
                    break
                position, result = item
                text = result.dumps()
                record = json.loads(text)
                if result.spec != pending[position]:
                    raise SweepError(
                        f"executor returned {result.spec.key()} for {pending[position].key()}"
                    )
                log.write(text + "\n")
                log.flush()
                unsynced += 1
                if unsynced >= _FSYNC_EVERY:
                    os.fsync(log.fileno())
                    unsynced = 0
                done[pending[position].key()] = record
                if progress:
                    progress(len(done), total)
        finally:
            close = getattr(results, "close", None)
            if close is not None:  # a generator: cancels what it queued but did not start
                close()
            log.flush()
            os.fsync(log.fileno())
