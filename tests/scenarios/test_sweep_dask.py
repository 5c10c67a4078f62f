"""The Dask executor on a LocalCluster of two worker processes: the same result files as
the process executor, a worker killed mid-sweep, a resume after the client stopped, and
the errors for an unreachable scheduler and for workers without the package."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import distributed  # the dask extra: tox installs it, a missing one fails here
import pytest
import sweep_runners

from scenarios import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    SweepError,
    SweepSpec,
    load_runs,
    run_sweep,
)
from scenarios.cli import main
from scenarios.sweep import (
    RESULTS_CSV,
    RESULTS_JSON,
    RESULTS_PARQUET,
    RUNS_FILE,
    SWEEP_FILE,
    DaskExecutorError,
)

pytestmark = pytest.mark.usefixtures("probe_modes")

PLUGINS = ("sweep_plugin",)
RESULT_NAMES = (RESULTS_CSV, RESULTS_JSON, RESULTS_PARQUET, SWEEP_FILE)
HERE = Path(__file__).parent

#: The real modes on one seed: atomic and sequential once, bridged per preset.
REAL = SweepSpec(
    modes=("atomic", "sequential", "bridged"),
    latencies=("interop", "finality"),
    sigmas=(0.8,),
    notionals=(50_000.0,),
    chains=(3,),
    seeds=1,
)
#: The test-only probe mode: cheap runs.
PROBE = SweepSpec(
    modes=("probe",),
    latencies=("interop", "finality"),
    sigmas=(0.2, 0.8),
    notionals=(10_000.0,),
    chains=(3,),
    seeds=3,
)


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in RESULT_NAMES}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[DaskExecutor]:
    """A LocalCluster of two single-threaded worker processes, shared by the module."""
    with DaskExecutor(workers=2, imports=PLUGINS) as executor:
        executor.start()
        yield executor


@pytest.fixture(scope="module")
def probe_whole(tmp_path_factory: pytest.TempPathFactory, serial_executor: SerialExecutor) -> Path:
    """The PROBE sweep run in-process, uninterrupted: the reference files."""
    folder = tmp_path_factory.mktemp("probe-whole")
    run_sweep(PROBE, folder, executor=serial_executor)
    return folder


def test_dask_results_byte_identical_to_process_executor(
    tmp_path: Path, dask_executor: DaskExecutor, process_executor: ProcessExecutor
) -> None:
    on_dask = run_sweep(REAL, tmp_path / "dask", executor=dask_executor)
    on_pool = run_sweep(REAL, tmp_path / "pool", executor=process_executor)
    assert on_dask.total == on_pool.total == len(REAL.specs()) == 4
    assert _files(tmp_path / "dask") == _files(tmp_path / "pool")
    lines_dask = sorted((tmp_path / "dask" / RUNS_FILE).read_text().splitlines())
    lines_pool = sorted((tmp_path / "pool" / RUNS_FILE).read_text().splitlines())
    assert lines_dask == lines_pool


def test_worker_killed_mid_sweep_reruns_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, probe_whole: Path
) -> None:
    """The probe run of seed 2 kills its worker process once; the scheduler reruns the
    task on a live worker and the sweep completes with the same files."""
    markers = tmp_path / "markers"
    markers.mkdir()
    (markers / "crash-seed2").touch()
    monkeypatch.setenv(sweep_runners.CRASH_ENV, str(markers))  # the workers inherit it
    folder = tmp_path / "killed"
    with DaskExecutor(workers=2, imports=PLUGINS) as executor:
        outcome = run_sweep(PROBE, folder, executor=executor)
    assert not (markers / "crash-seed2").exists()  # a worker really died there
    assert (outcome.total, outcome.ran, outcome.resumed) == (12, 12, 0)
    assert _files(folder) == _files(probe_whole)
    assert len((folder / RUNS_FILE).read_text().splitlines()) == 12


def test_resume_after_the_client_stops(
    tmp_path: Path, dask_executor: DaskExecutor, probe_whole: Path
) -> None:
    class Interrupt(Exception):
        pass

    def stop_after_five(done: int, total: int) -> None:
        if done == 5:
            raise Interrupt

    folder = tmp_path / "cut"
    with pytest.raises(Interrupt):
        run_sweep(PROBE, folder, executor=dask_executor, progress=stop_after_five)
    assert len(load_runs(folder)) == 5
    assert not (folder / RESULTS_PARQUET).exists()
    outcome = run_sweep(PROBE, folder, executor=dask_executor, resume=True)
    assert (outcome.resumed, outcome.ran) == (5, 7)
    assert _files(folder) == _files(probe_whole)


def test_cli_sweep_on_a_local_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], probe_whole: Path
) -> None:
    out = tmp_path / "cli"
    argv = ["sweep", "--executor", "dask", "--workers", "2", "--modes", "probe"]
    argv += ["--latency", "interop,finality", "--sigma", "0.2,0.8", "--notional", "1e4"]
    argv += ["--chains", "3", "--seeds", "3", "--plugin", "sweep_plugin", "--quiet"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "12 runs" in capsys.readouterr().out
    assert _files(out) == _files(probe_whole)


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


def test_unreachable_scheduler_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "never"
    executor = DaskExecutor(scheduler=address, imports=PLUGINS, connect_timeout=2)
    with pytest.raises(DaskExecutorError, match=f"cannot reach the Dask scheduler at {address}"):
        run_sweep(PROBE, out, executor=executor)
    assert not out.exists()
    argv = ["sweep", "--executor", "dask", "--scheduler", address, "--connect-timeout", "2"]
    assert main([*argv, "--modes", "atomic", "--seeds", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"testbed: error: cannot reach the Dask scheduler at {address}")
    assert "within 2 s" in err
    assert not out.exists()


def test_scheduler_needs_the_dask_executor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sweep", "--scheduler", "tcp://127.0.0.1:8786", "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "--scheduler needs --executor dask" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_workers_without_the_package_are_named(tmp_path: Path) -> None:
    """A real ``dask worker`` whose environment lacks composability-testbed (simulated by
    a preload module that hides its packages and distribution) joins a scheduler; the
    executor refuses the cluster, naming the package, before anything is written."""
    with distributed.LocalCluster(
        n_workers=0,
        dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
        processes=False,
        protocol="tcp",
    ) as cluster:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                cluster.scheduler_address,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
                "--preload",
                str(HERE / "dask_worker_without_testbed.py"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            executor = DaskExecutor(scheduler=cluster.scheduler_address, connect_timeout=120)
            with pytest.raises(DaskExecutorError, match="lack the package composability-testbed"):
                run_sweep(PROBE, tmp_path / "never", executor=executor)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
    assert not (tmp_path / "never").exists()


def test_workers_with_other_code_are_named(
    tmp_path: Path, dask_executor: DaskExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process's sources differ from the workers' (a changed digest): refused."""
    import scenarios.sweep._dask as dask_module

    real = dask_module.environment_fingerprint

    def edited() -> dict[str, str]:
        return {**real(), "sources": "0000000000000000"}

    monkeypatch.setattr(dask_module, "environment_fingerprint", edited)
    executor = DaskExecutor(scheduler=dask_executor.where, imports=PLUGINS)
    with pytest.raises(SweepError, match="run other code than this process.*sources"):
        run_sweep(PROBE, tmp_path / "never", executor=executor)
    assert not (tmp_path / "never").exists()
