"""Executors: where a sweep's runs execute, one baseline group per task.

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

import dataclasses
import importlib
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

from scenarios.model import (
    RunResult,
    RunSpec,
    ScenarioConfigError,
    with_divergence,
)
from scenarios.runners import get_runner, hosting_for_spec, run
from scenarios.world import Hosting, World

__all__ = [
    "Done",
    "Executor",
    "Item",
    "ProcessExecutor",
    "SerialExecutor",
    "WorldCache",
    "baseline_group",
    "group_by_baseline",
    "import_plugins",
    "make_executor",
]

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
    and the latency preset (which only shapes bridged runs, never the atomic one) — the
    scenario and placement included, so each scenario diffs against its own atomic run."""
    return (
        spec.scenario,
        spec.placement,
        spec.chains,
        spec.sigma,
        spec.drift,
        spec.notional,
        spec.target_ltv,
        spec.slippage,
        spec.seed,
        spec.arb_gap_bps,
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
        self._worlds: dict[Hosting, World] = {}

    def get(self, layout: int | Hosting) -> World:
        """The world for ``layout``: a standard layout's chain count, or a hosting (a
        factory, when given, builds the standard layouts)."""
        hosting = Hosting.standard(layout) if isinstance(layout, int) else layout.effective()
        world = self._worlds.get(hosting)
        if world is None:
            if self._factory is not None and hosting.is_standard:
                world = self._factory(hosting.chains)
            else:
                world = World.build(hosting.chains, seed=0, hosting=hosting)
            self._worlds[hosting] = world
        return world

    def put(self, world: World) -> None:
        """Reuse ``world`` for its hosting."""
        self._worlds[world.hosting] = world

    def for_spec(self, spec: RunSpec) -> World:
        """The world ``spec``'s scenario and placement need (:func:`hosting_for_spec`)."""
        return self.get(hosting_for_spec(spec))

    def run(self, spec: RunSpec) -> RunResult:
        """Run one spec in its layout's world (:func:`scenarios.run`)."""
        return run(spec, world=self.for_spec(spec))

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
            world = self.for_spec(spec)
            result = get_runner(spec.mode).run(world, spec)
            if spec.mode == "atomic":
                baseline = result
            elif baseline is None:
                atomic = dataclasses.replace(spec, mode="atomic")
                baseline = get_runner("atomic").run(world, atomic)
            yield position, with_divergence(result, baseline)


def import_plugins(imports: Iterable[str]) -> None:
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
        import_plugins(imports)
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
    import_plugins(imports)
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
        import_plugins(imports)  # fail here, clearly, rather than in every worker
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
