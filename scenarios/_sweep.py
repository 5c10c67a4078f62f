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

Files in the output folder:

- ``sweep.json``: the sweep arguments (``SweepSpec.to_json``). A resume refuses a folder
  whose arguments differ, naming the differing fields. The worker count is not an argument
  of the result and may change between sessions.
- ``runs.jsonl``: one line per finished run, :meth:`RunResult.dumps` (canonical JSON: spec,
  metrics, capital-in-flight series, timeline), in completion order. A resumed sweep skips
  every spec whose :meth:`RunSpec.key` is there; a truncated last line (a crash mid-write)
  is cut off and its run redone.
- ``results.json`` / ``results.csv``: key, spec fields and metrics of every run, in grid
  order, written once the grid is complete. They depend only on the arguments, never on
  worker count, completion order or interruptions.

Executors are the plugin point for where runs execute: anything with
``map_unordered(specs) -> Iterator[(position, RunResult)]`` and ``close()`` (see
:class:`Executor`). :class:`SerialExecutor` runs in this process; :class:`ProcessExecutor`
runs a ``spawn`` process pool where each worker builds one :class:`~scenarios.World` per
layout on first use and reuses it (runs revert to the world's anchor, never redeploy), and
takes one *baseline group* per task — the specs of one seed and market across modes and
latency presets — so the atomic baseline that divergence needs runs once per group. A
distributed engine (Ray, Dask, a job queue) implements the same two methods; each of its
workers should likewise keep one world per layout. Plugin runners
(:func:`~scenarios.register_runner`) reach process workers through ``imports``: modules
imported in every worker before it runs anything.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import fcntl
import importlib
import io
import json
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from scenarios._runspec import (
    LATENCY_PRESETS,
    METRIC_KEYS,
    RunResult,
    RunSpec,
    ScenarioConfigError,
    get_runner,
    run,
    with_divergence,
)

if TYPE_CHECKING:
    from scenarios._world import World

__all__ = [
    "LOCAL_MODES",
    "RESULT_FILES",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "SweepError",
    "SweepOutcome",
    "SweepSpec",
    "load_runs",
    "run_sweep",
    "write_results",
]

logger = logging.getLogger(__name__)

#: Modes that run on one chain without the bridge: latency and layout do not change their
#: result, so the grid runs them once per (σ, notional, seed), recording the first latency
#: and layout listed, instead of repeating identical runs.
LOCAL_MODES = frozenset({"atomic", "sequential"})

SWEEP_FILE = "sweep.json"
RUNS_FILE = "runs.jsonl"
RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
LOCK_FILE = ".sweep.lock"
#: The files a finished sweep (or ``testbed demo``) leaves; ``testbed report`` reads them.
RESULT_FILES = (SWEEP_FILE, RUNS_FILE, RESULTS_JSON, RESULTS_CSV)
FORMAT_VERSION = 1
SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(RunSpec))
_FSYNC_EVERY = 16


class SweepError(ValueError):
    """A sweep cannot start, resume or finish; the message says why and what to do."""


# ---------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """The sweep grid: modes × layouts × latency presets × σ × notionals × seeds.

    ``seeds`` is a count: seeds ``seed_start .. seed_start + seeds - 1``. ``drift``,
    ``target_ltv`` and ``slippage`` are fixed for the whole sweep. Modes in
    :data:`LOCAL_MODES` skip the latency and layout axes (see there).
    """

    modes: tuple[str, ...] = ("bridged",)
    latencies: tuple[str, ...] = ("fast-attestation",)
    sigmas: tuple[float, ...] = (0.8,)
    notionals: tuple[float, ...] = (100_000.0,)
    chains: tuple[int, ...] = (3,)
    seeds: int = 10
    seed_start: int = 0
    drift: float = 0.0
    target_ltv: float = 0.5
    slippage: float = 0.01

    def __post_init__(self) -> None:
        for name in ("modes", "latencies", "sigmas", "notionals", "chains"):
            value = getattr(self, name)
            if isinstance(value, list):  # lists from JSON or Python callers: same grid
                object.__setattr__(self, name, tuple(value))

    def validate(self) -> None:
        """Raise :class:`~scenarios.ScenarioConfigError` naming every bad axis or value.

        Every axis must be a non-empty tuple without repeats; each value must make a valid
        :class:`RunSpec`; every mode must have a runner now (``bridged`` before its runner
        lands is refused here, before anything runs).
        """
        errors: list[str] = []
        axes = {
            "modes": self.modes,
            "latencies": self.latencies,
            "sigmas": self.sigmas,
            "notionals": self.notionals,
            "chains": self.chains,
        }
        for name, values in axes.items():
            if not isinstance(values, tuple) or not values:
                errors.append(f"{name} must be a non-empty tuple, got {values!r}")
                continue
            repeated = sorted({repr(v) for v in values if values.count(v) > 1})
            if repeated:
                errors.append(f"{name} lists {', '.join(repeated)} more than once")
        for name in ("seeds", "seed_start"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.append(f"{name}={value!r} must be a non-negative integer")
        if not errors and self.seeds == 0:
            errors.append("seeds=0: a sweep needs at least one seed")
        if errors:
            raise ScenarioConfigError("invalid sweep: " + "; ".join(errors))
        base = RunSpec(
            mode=self.modes[0],
            chains=self.chains[0],
            latency=self.latencies[0],
            sigma=self.sigmas[0],
            drift=self.drift,
            notional=self.notionals[0],
            target_ltv=self.target_ltv,
            slippage=self.slippage,
            seed=self.seed_start,
        )
        probes = [base]
        probes += [dataclasses.replace(base, mode=m) for m in self.modes[1:]]
        probes += [dataclasses.replace(base, chains=c) for c in self.chains[1:]]
        probes += [dataclasses.replace(base, latency=lat) for lat in self.latencies[1:]]
        probes += [dataclasses.replace(base, sigma=s) for s in self.sigmas[1:]]
        probes += [dataclasses.replace(base, notional=n) for n in self.notionals[1:]]
        probes.append(dataclasses.replace(base, seed=self.seed_start + self.seeds - 1))
        messages: list[str] = []
        for probe in probes:
            try:
                probe.validate()
            except ScenarioConfigError as exc:
                text = str(exc).removeprefix("invalid RunSpec: ")
                messages += [m for m in text.split("; ") if m not in messages]
        if not messages:
            for mode in self.modes:
                try:
                    get_runner(mode)
                except ScenarioConfigError as exc:
                    messages.append(str(exc))
        if messages:
            raise ScenarioConfigError("invalid sweep: " + "; ".join(messages))

    def specs(self) -> list[RunSpec]:
        """Every run of the grid in a stable order: mode, layout, latency, σ, notional, seed
        (each axis in the order given; the seed varies fastest)."""
        out: list[RunSpec] = []
        seeds = range(self.seed_start, self.seed_start + self.seeds)
        for mode in self.modes:
            is_local = mode in LOCAL_MODES
            layouts = self.chains[:1] if is_local else self.chains
            latencies = self.latencies[:1] if is_local else self.latencies
            for chains in layouts:
                for latency in latencies:
                    for sigma in self.sigmas:
                        for notional in self.notionals:
                            out.extend(
                                RunSpec(
                                    mode=mode,
                                    chains=chains,
                                    latency=latency,
                                    sigma=sigma,
                                    drift=self.drift,
                                    notional=notional,
                                    target_ltv=self.target_ltv,
                                    slippage=self.slippage,
                                    seed=seed,
                                )
                                for seed in seeds
                            )
        return out

    def to_json(self) -> dict[str, Any]:
        """The arguments as a JSON-safe dict (tuples become lists)."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepSpec:
        """Inverse of :meth:`to_json`; unknown keys are errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ScenarioConfigError(
                f"unknown sweep key(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)


def latency_order(latency: str) -> int:
    """Position of a latency preset in typical-latency order (unknown presets last)."""
    return LATENCY_PRESETS.index(latency) if latency in LATENCY_PRESETS else len(LATENCY_PRESETS)


# ---------------------------------------------------------------------------------------
# Executors
# ---------------------------------------------------------------------------------------


class Executor(Protocol):
    """Where runs execute: the plugin point for other engines.

    ``map_unordered`` runs every spec and yields ``(position in specs, result)`` as each
    finishes, in any order; an exception from a run propagates out of the iterator. If the
    caller stops iterating early, runs not yet started must not start. ``close`` releases
    the workers (the executor may be reused for several ``map_unordered`` calls before).
    """

    def map_unordered(self, specs: Sequence[RunSpec]) -> Iterator[tuple[int, RunResult]]: ...

    def close(self) -> None: ...


Item = tuple[int, RunSpec]
Done = tuple[int, RunResult]


def baseline_group(spec: RunSpec) -> tuple[Any, ...]:
    """Specs with the same group share one atomic baseline run: every field but the mode
    and the latency preset (which only shapes bridged runs, never the atomic one)."""
    return (
        spec.chains,
        spec.sigma,
        spec.drift,
        spec.notional,
        spec.target_ltv,
        spec.slippage,
        spec.seed,
    )


def group_by_baseline(specs: Sequence[RunSpec]) -> list[list[Item]]:
    """``(position, spec)`` pairs grouped by :func:`baseline_group`, groups in order of
    first appearance, specs in grid order within a group."""
    groups: dict[tuple[Any, ...], list[Item]] = {}
    for position, spec in enumerate(specs):
        groups.setdefault(baseline_group(spec), []).append((position, spec))
    return list(groups.values())


class WorldCache:
    """One :class:`~scenarios.World` per layout, built on first use and reused, and the
    runs of a baseline group executed in it.

    Worlds are built with seed 0 whatever the run, so a run's result depends only on its
    spec, never on which worker ran it or what ran before (runs revert to the anchor).
    """

    def __init__(self, factory: Callable[[int], World] | None = None) -> None:
        self._factory = factory
        self._worlds: dict[int, World] = {}

    def get(self, chains: int) -> World:
        """The world for layout ``chains``."""
        world = self._worlds.get(chains)
        if world is None:
            if self._factory is None:
                from scenarios._world import World

                world = World.build(chains, seed=0)
            else:
                world = self._factory(chains)
            self._worlds[chains] = world
        return world

    def run(self, spec: RunSpec) -> RunResult:
        """Run one spec in its layout's world (:func:`scenarios.run`)."""
        return run(spec, world=self.get(spec.chains))

    def run_group(self, items: Sequence[Item]) -> Iterator[Done]:
        """Run specs of one baseline group, yielding ``(position, result)`` after each.

        Each result is what :func:`scenarios.run` returns for its spec — the runner's result
        with the divergence against the atomic run of the same seed and market — but the
        atomic run is done once per group (or taken from the group's own ``atomic`` spec)
        instead of once per spec: a bridged sweep over six latency presets runs 7, not 12,
        scenarios per seed. ``tests/scenarios/test_sweep.py`` holds the results equal to
        :func:`scenarios.run`'s, byte for byte.
        """
        if len({baseline_group(spec) for _, spec in items}) > 1:
            raise ValueError("run_group: the specs do not share one baseline group")
        baseline: RunResult | None = None
        # The group's atomic spec (if any) first: its result is the others' baseline.
        for position, spec in sorted(items, key=lambda item: item[1].mode != "atomic"):
            spec.validate()
            world = self.get(spec.chains)
            result = get_runner(spec.mode).run(world, spec)
            if spec.mode == "atomic":
                baseline = result
            elif baseline is None:
                atomic = dataclasses.replace(spec, mode="atomic")
                baseline = get_runner("atomic").run(world, atomic)
            yield position, with_divergence(result, baseline)


def _import_plugins(imports: Iterable[str]) -> None:
    """Import plugin modules (they register runners); a clear error if one cannot load."""
    for name in imports:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ScenarioConfigError(f"plugin module {name!r} cannot be imported: {exc}") from exc


class SerialExecutor:
    """Runs every spec in this process, one baseline group after another (``--workers 1``)."""

    def __init__(
        self,
        *,
        imports: Sequence[str] = (),
        world_factory: Callable[[int], World] | None = None,
    ) -> None:
        _import_plugins(imports)
        self._worlds = WorldCache(world_factory)

    def map_unordered(self, specs: Sequence[RunSpec]) -> Iterator[Done]:
        for group in group_by_baseline(specs):
            yield from self._worlds.run_group(group)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: The world cache of a pool worker process, set by :func:`_init_worker`. Module state is
#: the only way a ``ProcessPoolExecutor`` initializer can hand state to later tasks; it
#: lives in the worker processes only (the parent never sets it).
_WORKER_WORLDS: WorldCache | None = None


def _init_worker(imports: tuple[str, ...]) -> None:
    """Pool initializer (spawn-safe: module-level, picklable arguments)."""
    global _WORKER_WORLDS
    # Ctrl-C goes to the whole process group; the parent shuts the pool down cleanly, so
    # workers ignore it instead of each printing a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _import_plugins(imports)
    _WORKER_WORLDS = WorldCache()


def _run_group_in_worker(items: list[Item]) -> list[Done]:
    if _WORKER_WORLDS is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("worker used without _init_worker")
    return list(_WORKER_WORLDS.run_group(items))


class ProcessExecutor:
    """Runs specs in ``workers`` spawned processes (``concurrent.futures``).

    Each worker keeps one world per layout (:class:`WorldCache`) for its lifetime, so a
    sweep deploys ``workers × layouts`` times in total, never per run. A task is one
    baseline group (:func:`group_by_baseline`: the latency presets and modes of one seed and
    market), so its atomic baseline runs once. At most ``2 × workers`` tasks are queued at
    once, so stopping early (an error, Ctrl-C) wastes little. ``imports`` are modules
    imported in each worker first (plugin runners).
    """

    def __init__(self, workers: int, *, imports: Sequence[str] = ()) -> None:
        if workers < 1:
            raise ScenarioConfigError(f"workers={workers!r} must be at least 1")
        _import_plugins(imports)  # fail here, clearly, rather than in every worker
        self.workers = workers
        self.imports = tuple(imports)
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(self.imports,),
            )
        return self._pool

    def map_unordered(self, specs: Sequence[RunSpec]) -> Iterator[Done]:
        pool = self._get_pool()
        queue = iter(group_by_baseline(specs))
        in_flight: set[Future[list[Done]]] = set()
        window = 2 * self.workers
        try:
            while True:
                while len(in_flight) < window:
                    group = next(queue, None)
                    if group is None:
                        break
                    in_flight.add(pool.submit(_run_group_in_worker, group))
                if not in_flight:
                    return
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                # Errors first, so they surface before more results are written; then
                # results in grid order (the files never depend on this, the log reads
                # better).
                failed = [f for f in done if f.cancelled() or f.exception() is not None]
                for future in failed:
                    future.result()
                yield from sorted(
                    (item for future in done for item in future.result()), key=lambda i: i[0]
                )
        finally:
            for future in in_flight:
                future.cancel()

    def close(self) -> None:
        """Stop the workers (waits for runs already executing)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def abort(self) -> None:
        """Stop the workers now, killing runs in progress (Ctrl-C, a failed run): their
        results were not written, so a resume redoes them."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        terminate = getattr(pool, "terminate_workers", None)  # Python ≥ 3.14
        if terminate is not None:
            terminate()
        else:
            processes = getattr(pool, "_processes", None) or {}
            for process in list(processes.values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(workers: int, *, imports: Sequence[str] = ()) -> Executor:
    """``SerialExecutor`` for one worker, else a ``ProcessExecutor``."""
    if workers == 1:
        return SerialExecutor(imports=imports)
    return ProcessExecutor(workers, imports=imports)


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def _dump_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, allow_nan=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_runs(out: Path | str, *, repair: bool = False) -> dict[str, dict[str, Any]]:
    """The finished runs of a folder's ``runs.jsonl`` by spec key (first occurrence wins).

    A last line without its newline is a write cut short by a crash: it is ignored, and
    with ``repair`` cut off the file so new lines start clean. Any other unreadable line is
    an error naming the line.
    """
    path = Path(out) / RUNS_FILE
    if not path.exists():
        return {}
    data = path.read_bytes()
    complete_end = data.rfind(b"\n") + 1
    if complete_end < len(data):
        logger.warning(
            "%s: ignoring a truncated last line (%d bytes); its run is redone",
            path,
            len(data) - complete_end,
        )
        if repair:
            with open(path, "r+b") as f:
                f.truncate(complete_end)
    runs: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(data[:complete_end].splitlines(), start=1):
        try:
            record = json.loads(raw)
            key = RunSpec.from_mapping(record["spec"]).key()
        except (ValueError, KeyError, TypeError) as exc:
            raise SweepError(
                f"{path}: line {number} is not a run record ({exc}); "
                "remove the line (or the folder) and resume"
            ) from exc
        runs.setdefault(key, record)
    return runs


def _check_arguments(out: Path, sweep: SweepSpec, *, resume: bool) -> None:
    path = out / SWEEP_FILE
    wanted: dict[str, Any] = {"format": FORMAT_VERSION, "sweep": sweep.to_json()}
    if path.exists():
        if not resume:
            raise SweepError(
                f"{out} already holds a sweep; pass --resume to continue it, "
                "or choose another --out folder"
            )
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
            found_sweep = found["sweep"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SweepError(f"{path} is not a sweep description ({exc})") from exc
        if found != wanted:
            mine = sweep.to_json()
            diffs = [
                f"{k}: folder has {found_sweep.get(k)!r}, arguments give {mine.get(k)!r}"
                for k in sorted(set(mine) | set(found_sweep))
                if found_sweep.get(k) != mine.get(k)
            ]
            if found.get("format") != FORMAT_VERSION:
                diffs.append(f"format: folder has {found.get('format')!r}")
            raise SweepError(
                f"cannot resume {out}: it was made with different arguments ("
                + "; ".join(diffs)
                + "); use the same arguments or another --out folder"
            )
        return
    stray = [name for name in (RUNS_FILE, RESULTS_JSON) if (out / name).exists()]
    if stray:
        raise SweepError(
            f"{out} has {', '.join(stray)} but no {SWEEP_FILE}; it is not a sweep folder "
            "this command made — choose another --out folder"
        )
    _write_atomic(path, _dump_json(wanted))


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_results(
    out: Path | str,
    records: Sequence[dict[str, Any]],
    *,
    arguments: dict[str, Any] | None = None,
) -> None:
    """Write ``results.json`` and ``results.csv`` for ``records`` (in the order given).

    ``records`` are :meth:`RunResult.to_json` dicts. The files hold each run's key, spec
    and metrics (series and timelines stay in ``runs.jsonl``). ``testbed demo`` calls this
    (after writing its own ``runs.jsonl``) so ``testbed report`` reads both alike;
    ``arguments`` is what produced the runs (the sweep's ``SweepSpec.to_json()``).
    """
    out = Path(out)
    rows = []
    for record in records:
        spec = RunSpec.from_mapping(record["spec"])
        rows.append({"key": spec.key(), "spec": record["spec"], "metrics": record["metrics"]})
    _write_atomic(
        out / RESULTS_JSON,
        _dump_json({"format": FORMAT_VERSION, "arguments": arguments, "runs": rows}),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["key", *SPEC_FIELDS, *METRIC_KEYS])
    for row in rows:
        writer.writerow(
            [
                row["key"],
                *(_csv_value(row["spec"][k]) for k in SPEC_FIELDS),
                *(_csv_value(row["metrics"].get(k)) for k in METRIC_KEYS),
            ]
        )
    _write_atomic(out / RESULTS_CSV, buffer.getvalue())


@contextlib.contextmanager
def _folder_lock(out: Path) -> Iterator[None]:
    with open(out / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SweepError(f"another sweep is writing to {out}; wait for it to end") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    ``os.cpu_count()``); an executor passed in is not closed here. ``progress(done, total)``
    is called once before the first run (``done`` = runs found from an earlier session)
    and after every run. If a run fails or the sweep is interrupted, the finished runs stay
    in ``runs.jsonl`` and the error propagates (a run's error as :class:`SweepError` naming
    the run); calling again with ``resume=True`` finishes the grid.
    """
    _import_plugins(imports)
    sweep.validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    specs = sweep.specs()
    keys = [spec.key() for spec in specs]
    with _folder_lock(out):
        _check_arguments(out, sweep, resume=resume)
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
