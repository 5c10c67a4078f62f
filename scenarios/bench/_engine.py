"""Engine benchmark: the same swap loop on every execution path, in one process.

Paths (each runs the identical loop: two ERC-20s and a constant-product pool, 1e18-sized
swaps alternating direction):

- ``native_interval``: the native Chain API with interval mining (blocks of ~100 swaps);
- ``native_automine``: the native Chain API, a block per transaction;
- ``web3``: this project's in-process web3 provider, used as a user would —
  ``pool.functions.swap(...).transact()`` with default gas estimation, then
  ``wait_for_transaction_receipt``;
- ``ethtester``: the same web3 loop on ``EthereumTesterProvider`` (default config);
- ``boa``: titanoboa's own loop on the same Vyper sources.

Two ways to time them, both in one process:

- **interleaved** (the default): every path is set up and warmed first, each in its own
  worker process, then each round runs every path once, in an order rotated from round
  to round (one worker runs at a time; the others wait on a pipe). A ratio is computed
  per round (``native_interval / boa`` within the same round) and the reported ratio is
  the median of those per-round ratios. On a shared machine the load drifts over a run;
  paths measured seconds apart in the same round see nearly the same load, so their
  ratio is far steadier than a ratio of medians taken minutes apart. Separate processes
  keep the paths from affecting each other: titanoboa patches py-evm's shared opcode
  table at every ``boa.Env()`` (wrapping SHA3 and SSTORE in tracers), which would slow
  ``ethtester`` down in a shared process, and one path's heap would tax another's GC.
- **sequential** (``interleave=False``, ``--sequential``): each path is set up, warmed
  and run ``repeats`` times before the next; the ratio is between the paths' medians.

Each run is timed by the wall clock and by the process's CPU time. ``ratios`` are taken
on CPU time: every path is single-threaded and CPU-bound, so on an idle machine the two
agree, and on a loaded one CPU time leaves out the time the process waited for a core
(other sessions' load), which wall time charges to whichever path was running.
``ratios_wall`` gives the same ratios by the wall clock. Each path's ``median``
(wall) and ``cpu_median`` are the medians of its runs' swaps/s. Start-up time and peak
RSS of a devnet of 10 chains, each with the token pair and pool deployed, are measured
in a fresh process.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

__all__ = [
    "PATHS",
    "RATIOS",
    "SUPPLY",
    "bench_source",
    "measure_interleaved",
    "measure_path",
    "measure_startup",
    "run_engine_bench",
]

SUPPLY = 10**30
LIQUIDITY = 10**24
SWAP = 10**18
PATHS = ("native_interval", "native_automine", "web3", "ethtester", "boa")
DEFAULT_SWAPS = {
    "native_interval": 1000,
    "native_automine": 500,
    "web3": 300,
    "ethtester": 60,
    "boa": 1000,
}


def bench_source(name: str) -> Path:
    """Path of a benchmark contract shipped with the package."""
    return Path(str(resources.files("scenarios.bench") / "benchdata" / name))


Loop = Callable[[int], None]


def _native(mining: str) -> Loop:
    from chains import Devnet

    devnet = Devnet(n_chains=1, seed=0, mining=mining, block_time=2)
    chain = devnet.chains[0]
    token0 = chain.deploy(bench_source("BenchToken.vy"), "Token0", "T0", SUPPLY)
    token1 = chain.deploy(bench_source("BenchToken.vy"), "Token1", "T1", SUPPLY)
    pool = chain.deploy(bench_source("BenchPool.vy"), token0.address, token1.address)
    token0.approve(pool.address, 2**256 - 1)
    token1.approve(pool.address, 2**256 - 1)
    pool.add_liquidity(LIQUIDITY, LIQUIDITY)
    devnet.advance(2)
    swap = pool.swap

    def loop(n: int) -> None:
        for i in range(n):
            swap(SWAP, i % 2 == 0, 0)
            if mining == "interval" and i % 100 == 99:
                devnet.advance(2)  # a block every 2 s of clock time, ~100 swaps each
        if mining == "interval":
            devnet.advance(2)

    return loop


def _web3_loop(w3: Any) -> Loop:
    from chains import Compiler

    compiler = Compiler()
    token = compiler.compile_file(bench_source("BenchToken.vy"))
    pool_c = compiler.compile_file(bench_source("BenchPool.vy"))
    w3.eth.default_account = w3.eth.accounts[0]

    def deploy(compiled: Any, *args: Any) -> Any:
        factory = w3.eth.contract(abi=compiled.abi_list, bytecode=compiled.bytecode)
        receipt = w3.eth.wait_for_transaction_receipt(factory.constructor(*args).transact())
        return w3.eth.contract(address=receipt.contractAddress, abi=compiled.abi_list)

    token0 = deploy(token, "Token0", "T0", SUPPLY)
    token1 = deploy(token, "Token1", "T1", SUPPLY)
    pool = deploy(pool_c, token0.address, token1.address)
    for t in (token0, token1):
        w3.eth.wait_for_transaction_receipt(
            t.functions.approve(pool.address, 2**256 - 1).transact()
        )
    w3.eth.wait_for_transaction_receipt(
        pool.functions.add_liquidity(LIQUIDITY, LIQUIDITY).transact()
    )

    def loop(n: int) -> None:
        for i in range(n):
            tx = pool.functions.swap(SWAP, i % 2 == 0, 0).transact()
            w3.eth.wait_for_transaction_receipt(tx)

    return loop


def _web3() -> Loop:
    from chains import Devnet

    return _web3_loop(Devnet(n_chains=1, seed=0).chains[0].w3)


def _ethtester() -> Loop:
    from web3 import EthereumTesterProvider, Web3

    return _web3_loop(Web3(EthereumTesterProvider()))


def _boa() -> Loop:
    import boa

    env = boa.Env()
    with boa.swap_env(env):
        token0 = boa.load(str(bench_source("BenchToken.vy")), "Token0", "T0", SUPPLY)
        token1 = boa.load(str(bench_source("BenchToken.vy")), "Token1", "T1", SUPPLY)
        pool = boa.load(str(bench_source("BenchPool.vy")), token0.address, token1.address)
        token0.approve(pool.address, 2**256 - 1)
        token1.approve(pool.address, 2**256 - 1)
        pool.add_liquidity(LIQUIDITY, LIQUIDITY)

    def loop(n: int) -> None:
        with boa.swap_env(env):
            for i in range(n):
                pool.swap(SWAP, i % 2 == 0, 0)

    return loop


_SETUPS: dict[str, Callable[[], Loop]] = {
    "native_interval": lambda: _native("interval"),
    "native_automine": lambda: _native("auto"),
    "web3": _web3,
    "ethtester": _ethtester,
    "boa": _boa,
}


def measure_path(
    path: str, swaps: int, repeats: int, warmup: int = 20
) -> list[tuple[float, float]]:
    """(wall, CPU) swaps/s of ``repeats`` runs of ``swaps`` swaps each on one fresh setup."""
    loop = _SETUPS[path]()
    loop(warmup)
    return [_timed(loop, swaps) for _ in range(repeats)]


def measure_startup(n_chains: int = 10) -> dict[str, float]:
    """Build ``n_chains`` chains each with the pair and pool deployed; time and peak RSS."""
    start = time.perf_counter()
    from chains import Devnet

    devnet = Devnet(n_chains=n_chains, seed=0)
    for chain in devnet.chains:
        token0 = chain.deploy(bench_source("BenchToken.vy"), "Token0", "T0", SUPPLY)
        token1 = chain.deploy(bench_source("BenchToken.vy"), "Token1", "T1", SUPPLY)
        chain.deploy(bench_source("BenchPool.vy"), token0.address, token1.address)
    elapsed = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"chains": n_chains, "startup_s": elapsed, "peak_rss_mib": peak_kib / 1024}


def _startup_in_fresh_process(n_chains: int) -> dict[str, float]:
    code = (
        "import json, sys; from scenarios.bench._engine import measure_startup; "
        f"print(json.dumps(measure_startup({n_chains})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


RATIOS = {
    "native_interval_vs_boa": ("native_interval", "boa"),
    "native_automine_vs_boa": ("native_automine", "boa"),
    "web3_vs_ethtester": ("web3", "ethtester"),
}


def _timed(loop: Loop, swaps: int) -> tuple[float, float]:
    """swaps/s of one run, by the wall clock and by this process's CPU time."""
    wall, cpu = time.perf_counter(), time.process_time()
    loop(swaps)
    return swaps / (time.perf_counter() - wall), swaps / (time.process_time() - cpu)


def _worker(path: str, warmup: int, conn: Any) -> None:
    """A path's own process: set up, warm up, then time runs of the sizes it is sent."""
    loop = _SETUPS[path]()
    loop(warmup)
    conn.send("ready")
    while (swaps := conn.recv()) is not None:
        conn.send(_timed(loop, swaps))


class _InProcess:
    """The worker protocol run in this process (``isolate=False``)."""

    def __init__(self, path: str, warmup: int) -> None:
        self.loop = _SETUPS[path]()
        self.loop(warmup)

    def run(self, swaps: int) -> tuple[float, float]:
        return _timed(self.loop, swaps)


class _Isolated:
    """A path set up and timed in a worker process of its own."""

    def __init__(self, path: str, warmup: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(path, warmup, child), daemon=True)
        self.process.start()

    def wait_ready(self) -> None:
        if self.conn.recv() != "ready":
            raise RuntimeError("benchmark worker failed to start")

    def run(self, swaps: int) -> tuple[float, float]:
        self.conn.send(swaps)
        wall, cpu = self.conn.recv()
        return float(wall), float(cpu)

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(timeout=30)


def measure_interleaved(
    swaps: dict[str, int],
    repeats: int,
    warmup: int = 20,
    progress: Callable[[str], None] | None = None,
    isolate: bool = True,
) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) swaps/s per path and round; each round runs every path once, rotated.

    With ``isolate`` each path lives in a worker process of its own (set up in parallel,
    timed one at a time); otherwise all run in this process.
    """
    paths = list(swaps)
    if progress:
        progress(f"set-up and {warmup} warm-up swaps: {' '.join(paths)}")
    runners: dict[str, Any] = {}
    try:
        if isolate:
            for path in paths:
                runners[path] = _Isolated(path, warmup)
            for runner in runners.values():
                runner.wait_ready()
        else:
            runners = {path: _InProcess(path, warmup) for path in paths}
        rates: dict[str, list[tuple[float, float]]] = {path: [] for path in paths}
        for round_ in range(repeats):
            shift = round_ % len(paths)
            order = paths[shift:] + paths[:shift]
            if progress:
                progress(f"round {round_ + 1}/{repeats}: {' '.join(order)}")
            for path in order:
                rates[path].append(runners[path].run(swaps[path]))
    finally:
        for runner in runners.values():
            if isinstance(runner, _Isolated):
                runner.close()
    return rates


def _ratios(rates: dict[str, list[float]], *, per_round: bool) -> dict[str, float]:
    """Each target ratio: median of per-round ratios, or the ratio of medians."""
    out = {}
    for name, (a, b) in RATIOS.items():
        if a in rates and b in rates:
            if per_round:
                pairs = zip(rates[a], rates[b], strict=True)
                out[name] = round(statistics.median(x / y for x, y in pairs), 3)
            else:
                out[name] = round(statistics.median(rates[a]) / statistics.median(rates[b]), 3)
    return out


def run_engine_bench(
    *,
    paths: tuple[str, ...] = PATHS,
    repeats: int = 5,
    scale: float = 1.0,
    startup: bool = True,
    interleave: bool = True,
    isolate: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the engine benchmark; return the JSON-ready result.

    ``interleave`` (default) alternates the paths round by round and reports the median
    of per-round ratios; otherwise paths run one after the other and ratios are taken
    between medians (see the module docstring for why the default is the honest one).
    ``isolate`` (interleaved only) runs each path in a worker process of its own.
    """
    unknown = set(paths) - set(PATHS)
    if unknown:
        raise ValueError(f"unknown benchmark path(s): {sorted(unknown)}; known: {list(PATHS)}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    result: dict[str, Any] = {
        "unit": "swaps/s (median)",
        "repeats": repeats,
        "mode": ("interleaved, a process per path" if isolate else "interleaved")
        if interleave
        else "sequential",
        "paths": {},
    }
    swaps = {path: max(10, int(DEFAULT_SWAPS[path] * scale)) for path in paths}
    if interleave:
        timings = measure_interleaved(swaps, repeats, progress=progress, isolate=isolate)
    else:
        timings = {}
        for path in paths:
            if progress:
                progress(f"{path}: {repeats} x {swaps[path]} swaps")
            timings[path] = measure_path(path, swaps[path], repeats)
    wall = {path: [t[0] for t in runs] for path, runs in timings.items()}
    cpu = {path: [t[1] for t in runs] for path, runs in timings.items()}
    for path in paths:
        result["paths"][path] = {
            "swaps_per_run": swaps[path],
            "median": round(statistics.median(wall[path]), 1),
            "runs": [round(r, 1) for r in wall[path]],
            "cpu_median": round(statistics.median(cpu[path]), 1),
            "cpu_runs": [round(r, 1) for r in cpu[path]],
        }
    result["ratios"] = _ratios(cpu, per_round=interleave)
    result["ratios_wall"] = _ratios(wall, per_round=interleave)
    # The speed targets the engine is held to (ratios of CPU swaps/s, side by side).
    result["targets"] = {
        "native_interval_vs_boa": 1.5,
        "native_automine_vs_boa": 0.7,
        "web3_vs_ethtester": 8.0,
        "startup_s": 10.0,
        "peak_rss_mib": 1024.0,
    }
    if startup:
        if progress:
            progress("startup: 10 chains with the pair and pool deployed (fresh process)")
        result["startup"] = _startup_in_fresh_process(10)
    return result
