"""The Dask executor: a sweep's baseline groups as tasks on a ``dask.distributed`` cluster.

``DaskExecutor(scheduler="tcp://HOST:8786")`` uses a running cluster;
``DaskExecutor(workers=N)`` starts a ``LocalCluster`` of ``N`` single-threaded worker
processes on this machine. Either way:

- **Checks first** (:meth:`DaskExecutor.start`, before the sweep writes anything): the
  scheduler answers within ``connect_timeout`` seconds and has a worker; every worker has
  the ``composability-testbed`` distribution, can import the plugin modules, and runs the
  same code as this process — :func:`environment_fingerprint` (package version, Python,
  Vyper and py-evm versions, a digest of the package sources and contracts) must match,
  or the error names each differing worker and field.
- **One world per layout per worker thread**: a worker plugin (:class:`WorldsPlugin`)
  keeps a :class:`~scenarios.sweep.WorldCache`, built on first use and reverted to its
  anchor for every run, like the process executor's workers.
- **A task is one baseline group** (:func:`~scenarios.sweep.group_by_baseline`), so the
  atomic baseline runs once per group; results come back as tasks finish and the engine
  appends them to ``runs.jsonl``.
- **A worker lost mid-task**: the scheduler reruns its tasks on other workers (Dask's
  ``distributed.scheduler.allowed-failures``, 3 by default; a task that kills more workers
  fails the sweep with ``KilledWorker``). Results depend only on the spec, so a rerun gives
  the same bytes.

``dask.distributed`` is an optional dependency (``pip install
"composability-testbed[dask]"``); nothing here imports it before it is needed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import platform
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from scenarios.model import RunSpec, ScenarioConfigError
from scenarios.sweep._executors import (
    Done,
    Item,
    WorldCache,
    group_by_baseline,
    import_plugins,
)
from scenarios.sweep._spec import SweepError

try:  # the optional extra; without it DaskExecutor.start() says how to install it
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover - the extra is installed where the tests run
    WorkerPlugin = object  # type: ignore[misc,assignment]

__all__ = [
    "DIST_NAME",
    "DaskExecutor",
    "DaskExecutorError",
    "WorldsPlugin",
    "environment_fingerprint",
]

logger = logging.getLogger(__name__)

#: The distribution every worker must have installed.
DIST_NAME = "composability-testbed"
_PLUGIN_NAME = "testbed-worlds"
_INSTALL_HINT = 'pip install "composability-testbed[dask]"'


class DaskExecutorError(SweepError):
    """The Dask cluster cannot run the sweep (unreachable, no workers, wrong environment)."""


# ---------------------------------------------------------------------------------------
# The workers' environment
# ---------------------------------------------------------------------------------------


def _source_digest() -> str:
    """sha256 over the package sources (``chains``, ``bridge``, ``scenarios``) and the
    Vyper contracts, by relative path: equal digests mean the same code runs."""
    import bridge
    import chains

    digest = hashlib.sha256()
    # this package's own folder by path: importing `scenarios` here would reach up the layers
    roots = [Path(m.__file__).parent for m in (chains, bridge) if m.__file__]
    roots.append(Path(__file__).resolve().parents[1])
    roots.append(chains.contracts_dir())
    for root in roots:
        files = sorted(
            p for p in root.rglob("*") if p.suffix in (".py", ".vy", ".vyi") and p.is_file()
        )
        for path in files:
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def environment_fingerprint() -> dict[str, str]:
    """What must be identical on every worker for results to be byte-identical: the
    package version, the Python, Vyper and py-evm versions, and the digest of the sources."""

    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        DIST_NAME: version(DIST_NAME),
        "python": platform.python_version(),
        "vyper": version("vyper"),
        "py-evm": version("py-evm"),
        "sources": _source_digest(),
    }


def _worker_check(imports: tuple[str, ...], dask_worker: Any = None) -> dict[str, Any]:
    """Runs on each worker (``Client.run``, which passes ``dask_worker``): import the
    plugins, report the fingerprint and the worker's thread count."""
    import_plugins(imports)
    nthreads = dask_worker.state.nthreads if dask_worker is not None else 1
    return {"fingerprint": environment_fingerprint(), "nthreads": nthreads}


# ---------------------------------------------------------------------------------------
# The worker side
# ---------------------------------------------------------------------------------------


class WorldsPlugin(WorkerPlugin):
    """Worker plugin: imports the plugin modules when the worker starts and keeps one
    :class:`~scenarios.sweep.WorldCache` per worker thread (a world is not thread-safe;
    ``dask worker --nthreads 1`` gives one per process, the intended setup)."""

    name = _PLUGIN_NAME

    def __init__(self, imports: Sequence[str] = ()) -> None:
        self.imports = tuple(imports)
        self._local = threading.local()

    def setup(self, worker: Any) -> None:
        import_plugins(self.imports)

    def cache(self) -> WorldCache:
        """This thread's world cache."""
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = WorldCache()
        return cache

    def __getstate__(self) -> dict[str, Any]:
        return {"imports": self.imports}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.imports = state["imports"]
        self._local = threading.local()


def _run_group_task(items: list[Item]) -> list[Done]:
    """A task: one baseline group in this worker's world."""
    from distributed import get_worker

    plugin = get_worker().plugins.get(_PLUGIN_NAME)
    if not isinstance(
        plugin, WorldsPlugin
    ):  # pragma: no cover - registered before any task is submitted
        raise RuntimeError(f"worker has no {_PLUGIN_NAME!r} plugin")
    return list(plugin.cache().run_group(items))


# ---------------------------------------------------------------------------------------
# The executor
# ---------------------------------------------------------------------------------------


class DaskExecutor:
    """Runs baseline groups as tasks on a Dask cluster (see the module docstring).

    ``scheduler``: the address of a running scheduler (``tcp://HOST:8786``); without it a
    ``LocalCluster`` of ``workers`` processes (default ``os.cpu_count()``) is started and
    stopped with the executor. ``imports``: plugin modules (runners) imported on every
    worker. ``connect_timeout``: seconds to reach the scheduler and see a first worker.
    """

    def __init__(
        self,
        *,
        scheduler: str | None = None,
        workers: int | None = None,
        imports: Sequence[str] = (),
        connect_timeout: float = 10.0,
    ) -> None:
        if workers is not None and workers < 1:
            raise ScenarioConfigError(f"workers={workers!r} must be at least 1")
        if connect_timeout <= 0:
            raise ScenarioConfigError(f"connect_timeout={connect_timeout!r} must be positive")
        import_plugins(imports)  # fail here, clearly, rather than on every worker
        self.scheduler = scheduler
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self.imports = tuple(imports)
        self.connect_timeout = connect_timeout
        self._client: Any = None
        self._cluster: Any = None

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (started on first use)."""
        self.start()
        return self._client

    @property
    def where(self) -> str:
        """The scheduler's address, or ``LocalCluster(N)`` before it is started."""
        if self._client is not None:
            return str(self._client.scheduler.address)
        return self.scheduler or f"LocalCluster({self.workers})"

    def start(self) -> None:
        """Connect (or start the local cluster) and check the workers; idempotent. The
        sweep calls this before it writes anything."""
        if self._client is not None:
            return
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise DaskExecutorError(
                f"the dask executor needs dask.distributed ({exc}); {_INSTALL_HINT}"
            ) from exc
        if self.scheduler is not None:
            try:
                client = Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise DaskExecutorError(
                    f"cannot reach the Dask scheduler at {self.scheduler} within "
                    f"{self.connect_timeout:g} s ({type(exc).__name__}: {exc}); is "
                    "`dask scheduler` running there and the address right?"
                ) from exc
        else:
            try:
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    # A free loopback port: the scheduler always serves HTTP (health, metrics);
                    # its default 8787 would clash with another cluster on this machine.
                    dashboard_address="127.0.0.1:0",
                    host="127.0.0.1",
                )
            except (OSError, RuntimeError, TimeoutError) as exc:
                raise DaskExecutorError(
                    f"could not start a local Dask cluster of {self.workers} workers "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            client = Client(self._cluster, set_as_default=False)
        self._client = client
        try:
            self._check_workers()
            client.register_plugin(WorldsPlugin(self.imports), name=_PLUGIN_NAME)
        except BaseException:
            self.close()
            raise

    def _check_workers(self) -> None:
        client = self._client
        try:
            client.wait_for_workers(1, timeout=self.connect_timeout)
        except TimeoutError as exc:
            raise DaskExecutorError(
                f"the Dask scheduler at {self.where} has no workers after "
                f"{self.connect_timeout:g} s; start some with `dask worker {self.where}`"
            ) from exc
        # A stdlib function, so a worker without the package can still run it.
        versions = client.run(importlib.metadata.version, DIST_NAME, on_error="return")
        missing = sorted(w for w, v in versions.items() if isinstance(v, BaseException))
        if missing:
            raise DaskExecutorError(
                f"{len(missing)} Dask worker(s) lack the package {DIST_NAME} "
                f"({', '.join(missing)}): install the same version as here "
                f"({environment_fingerprint()[DIST_NAME]}) on every worker: {_INSTALL_HINT}"
            )
        reports = client.run(_worker_check, self.imports, on_error="return")
        failed = {w: r for w, r in reports.items() if isinstance(r, BaseException)}
        if failed:
            worker, error = sorted(failed.items())[0]
            raise DaskExecutorError(
                f"{len(failed)} Dask worker(s) cannot run the sweep; {worker}: "
                f"{type(error).__name__}: {error}"
            )
        mine = environment_fingerprint()
        problems = []
        for worker, report in sorted(reports.items()):
            theirs = report["fingerprint"]
            diffs = [
                f"{k} {theirs.get(k)!r} (here {v!r})" for k, v in mine.items() if theirs.get(k) != v
            ]
            if diffs:
                problems.append(f"{worker}: {', '.join(diffs)}")
        if problems:
            raise DaskExecutorError(
                "Dask workers run other code than this process, so their results would "
                "differ: " + "; ".join(problems) + f" — install the same {DIST_NAME} "
                "(and Python, Vyper, py-evm) on every worker"
            )
        threaded = sorted(w for w, r in reports.items() if r["nthreads"] > 1)
        if threaded:
            logger.warning(
                "Dask workers with several threads (%s): the runs are CPU-bound and hold the "
                "GIL, so each thread builds its own worlds for no gain; start workers with "
                "`dask worker --nthreads 1 --nworkers N`",
                ", ".join(threaded),
            )

    def map_unordered(self, specs: Sequence[RunSpec]) -> Iterator[Done]:
        self.start()
        from distributed import as_completed

        client = self._client
        token = uuid.uuid4().hex[:8]
        futures = [
            client.submit(_run_group_task, group, key=f"testbed-group-{token}-{i}", pure=False)
            for i, group in enumerate(group_by_baseline(specs))
        ]
        pending = set(futures)
        try:
            for future in as_completed(futures, loop=client.loop):
                pending.discard(future)
                items = future.result()  # a run's error (or KilledWorker) raises here
                future.release()
                yield from sorted(items, key=lambda item: item[0])
        finally:
            if pending:
                client.cancel(list(pending))

    def close(self) -> None:
        """Disconnect; stop the local cluster if this executor started it (idempotent)."""
        client, self._client = self._client, None
        cluster, self._cluster = self._cluster, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def abort(self) -> None:
        """Stop now (Ctrl-C, a failed run): pending tasks are cancelled and a local
        cluster's workers stopped; a resume redoes what was not written."""
        self.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
