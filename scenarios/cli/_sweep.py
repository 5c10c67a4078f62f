"""``testbed sweep``, ``testbed report`` and ``testbed bench scenario``: arguments and output.

Registered by :mod:`scenarios.cli`; the work happens in :mod:`scenarios.sweep`,
:mod:`scenarios.report` and :mod:`scenarios.bench`. This module is the
presentation layer (it prints); bad arguments fail with argparse's usage message naming
the argument, invalid values (unknown mode or preset) with ``testbed: error: ...``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from bridge import REORG_PROFILES, parse_confirmations, parse_reorgs
from chains import ConfigError
from scenarios.model import LATENCY_PRESETS, MODES, ScenarioConfigError
from scenarios.report import format_table
from scenarios.sweep import RESULTS_CSV, RESULTS_JSON, SweepSpec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from scenarios.sweep import DaskExecutor

__all__ = ["add_bench_scenario_parser", "add_report_parser", "add_sweep_parser"]

T = TypeVar("T")


def _list_of(kind: Callable[[str], T], what: str) -> Callable[[str], tuple[T, ...]]:
    """An argparse type: a comma-separated list of ``kind`` values."""

    def parse(text: str) -> tuple[T, ...]:
        items = [item.strip() for item in text.split(",")]
        if not text.strip() or any(not item for item in items):
            raise argparse.ArgumentTypeError(f"{text!r}: expected a comma-separated list of {what}")
        values = []
        for item in items:
            try:
                values.append(kind(item))
            except ValueError:
                raise argparse.ArgumentTypeError(f"{item!r} is not {what}") from None
        return tuple(values)

    return parse


def _float(text: str) -> float:
    return float(text)


def _name(text: str) -> str:
    return text


def _latencies(text: str) -> tuple[str, ...]:
    if text.strip() == "all":
        return LATENCY_PRESETS
    return _list_of(_name, "latency preset names")(text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def _progress_bar(enabled: bool) -> tuple[Callable[[int, int], None] | None, Callable[[], None]]:
    """A ``progress(done, total)`` callback drawing a bar on stderr, and its closer."""
    if not enabled:
        return None, lambda: None
    from scenarios.cli._progress import ProgressBar

    bar: list[ProgressBar] = []

    def progress(done: int, total: int) -> None:
        if not bar:  # the first call reports the runs found from an earlier session
            bar.append(ProgressBar(total, stream=sys.stderr, skipped=done))
        bar[0].update(done)

    def close() -> None:
        if bar:
            bar[0].close()

    return progress, close


# ---------------------------------------------------------------------------------------
# testbed sweep
# ---------------------------------------------------------------------------------------


def _cost_profiles(text: str) -> list[dict[str, Any]]:
    """``;``-separated cost profiles, each ``key=value,...`` (see ``testbed run --cost``)."""
    from scenarios.cli._run import parse_cost

    return [parse_cost(part) for part in text.split(";")]


def _reorg_processes(text: str) -> tuple[str, ...]:
    """``;``-separated reorg processes (``bridge.parse_reorgs``), checked here."""
    values = tuple("" if part.strip() == "none" else part.strip() for part in text.split(";"))
    for value in values:
        try:
            parse_reorgs(value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return values


def _confirmation_policies(text: str) -> tuple[str, ...]:
    """Comma-separated confirmation policies (``bridge.parse_confirmations``)."""
    values = tuple(part.strip() for part in text.split(","))
    for value in values:
        if value == "preset":
            continue  # resolved against each latency preset by the sweep's validation
        try:
            parse_confirmations(value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return values


def _cmd_sweep(args: argparse.Namespace) -> int:
    from scenarios.sweep import load_runs, run_sweep

    sweep = SweepSpec(
        modes=args.modes,
        latencies=args.latency,
        sigmas=args.sigma,
        notionals=args.notional,
        chains=args.chains,
        seeds=args.seeds,
        seed_start=args.seed_start,
        drift=args.drift,
        target_ltv=args.target_ltv,
        slippage=args.slippage,
        scenarios=args.scenario,
        placement=args.placement or "",
        costs=tuple(args.cost) if args.cost else ((),),
        reorgs=args.reorgs,
        confirmations=args.confirmations,
    )
    executor = _make_executor(args)
    progress, close = _progress_bar(not args.quiet)
    try:
        outcome = run_sweep(
            sweep,
            args.out,
            workers=args.workers,
            executor=executor,
            resume=args.resume,
            imports=args.plugin,
            progress=progress,
        )
    except KeyboardInterrupt:
        close()
        if executor is not None:
            executor.abort()
        saved = len(load_runs(args.out))
        print(
            f"\ninterrupted: {saved} finished runs are saved in {args.out}; "
            "run the same command with --resume to finish",
            file=sys.stderr,
        )
        return 130
    finally:
        close()
        if executor is not None:
            executor.close()
    resumed = f" ({outcome.resumed} from an earlier session)" if outcome.resumed else ""
    print(f"{outcome.total} runs{resumed} → {outcome.out / RESULTS_CSV}, {RESULTS_JSON}")
    print(f"report: testbed report {outcome.out}")
    return 0


def _make_executor(args: argparse.Namespace) -> DaskExecutor | None:
    """The Dask executor for ``--executor dask`` (``None``: the sweep picks serial or
    process by ``--workers``); ``--scheduler`` only goes with it."""
    if args.executor != "dask":
        if args.scheduler is not None:
            raise ScenarioConfigError("--scheduler needs --executor dask")
        return None
    from scenarios.sweep import DaskExecutor

    return DaskExecutor(
        scheduler=args.scheduler,
        workers=args.workers,
        imports=args.plugin,
        connect_timeout=args.connect_timeout,
    )


def add_sweep_parser(sub: Any) -> None:
    """Register ``testbed sweep`` on the top-level subparsers."""
    p = sub.add_parser(
        "sweep",
        help="run a grid of scenario runs in parallel (resumable, deterministic)",
        description=(
            "Run modes × layouts × latency presets × σ × notionals × seeds. Results are "
            "appended to DIR/runs.jsonl as runs finish (an interrupted sweep resumes with "
            "--resume) and written to DIR/results.csv and DIR/results.json, sorted in grid "
            "order (and DIR/results.parquet, typed columns for scenarios.load_results), so "
            "the same arguments give byte-identical files. atomic and sequential "
            "run on one chain, so they run once per σ, notional and seed, not per latency "
            "preset or layout."
        ),
    )
    p.add_argument(
        "--modes",
        type=_list_of(_name, "mode names"),
        default=("bridged",),
        help=f"comma-separated modes (default bridged; known: {', '.join(MODES)})",
    )
    p.add_argument(
        "--latency",
        type=_latencies,
        default=("fast-attestation",),
        help=f"comma-separated latency presets or 'all' ({', '.join(LATENCY_PRESETS)})",
    )
    p.add_argument(
        "--sigma",
        type=_list_of(_float, "a number"),
        default=(0.8,),
        help="comma-separated annualised volatilities (default 0.8)",
    )
    p.add_argument(
        "--notional",
        type=_list_of(_float, "a number"),
        default=(100_000.0,),
        help="comma-separated USDC notionals (default 1e5)",
    )
    p.add_argument(
        "--chains",
        type=_list_of(int, "an integer"),
        default=(3,),
        help="comma-separated chain counts of the world, 2 to 5 (default 3)",
    )
    p.add_argument(
        "--seeds", type=_positive_int, default=10, help="seeds per grid cell (default 10)"
    )
    p.add_argument("--seed-start", type=_non_negative_int, default=0, help="first seed (default 0)")
    p.add_argument("--drift", type=float, default=0.0, help="annualised drift (default 0)")
    p.add_argument("--target-ltv", type=float, default=0.5, help="borrow LTV (default 0.5)")
    p.add_argument("--slippage", type=float, default=0.01, help="max slippage (default 0.01)")
    p.add_argument(
        "--scenario",
        type=_list_of(str, "scenario names or .toml paths"),
        default=("swap-borrow-refinance",),
        help="comma-separated scenarios (built-in names or .toml files): an axis of the grid",
    )
    p.add_argument("--placement", help="venues on chains for every scenario (default: each's)")
    p.add_argument(
        "--cost",
        type=_cost_profiles,
        help="cost-model profiles, an axis: ';'-separated, each key=value,... (e.g. "
        "'user_rate=0.05;user_rate=0.10,solver_rate=0.2'; default: the default model)",
    )
    p.add_argument(
        "--reorgs",
        type=_reorg_processes,
        default=("",),
        help="reorg processes per chain, an axis: ';'-separated, each 'none', a profile "
        f"({', '.join(REORG_PROFILES)}) or rate=R[,mean=M][,cap=C][,depth=D]"
        "[,dropped=discard|pool] (R per hour; default none; bridged runs only)",
    )
    p.add_argument(
        "--confirmations",
        type=_confirmation_policies,
        default=("",),
        help="the relayer's confirmation policies, an axis: comma-separated, each fast "
        "(0 blocks), safe, finalized, preset (the latency preset's) or N blocks "
        "(default fast; bridged runs only)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=os.cpu_count() or 1,
        help=(
            "worker processes (default: CPU count; 1 runs in this process); with "
            "--executor dask and no --scheduler, the LocalCluster's workers"
        ),
    )
    p.add_argument(
        "--executor",
        choices=("process", "dask"),
        default="process",
        help=(
            "process: a local process pool (default); dask: a Dask cluster (--scheduler) "
            'or a LocalCluster of --workers processes (pip install "composability-testbed[dask]")'
        ),
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="a running Dask scheduler, e.g. tcp://HOST:8786 (with --executor dask)",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds to reach the Dask scheduler and see a worker (default 10)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--resume", action="store_true", help="continue the sweep already in --out")
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE (which registers extra runners) here and in every worker",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_sweep)


# ---------------------------------------------------------------------------------------
# testbed report
# ---------------------------------------------------------------------------------------


def _cmd_report(args: argparse.Namespace) -> int:
    from scenarios.report import report

    result = report(args.dir, out=args.out, run_key=args.run)
    print(f"report: {result.index}")
    for image in result.images:
        print(f"  {image}")
    print(f"  {result.summary_csv}")
    return 0


def add_report_parser(sub: Any) -> None:
    """Register ``testbed report`` on the top-level subparsers."""
    p = sub.add_parser(
        "report",
        help="PNG plots and an HTML page from a sweep or demo folder",
        description=(
            "Read DIR/results.json (and runs.jsonl for one run's capital-in-flight curve) "
            "and write DIR/report/: divergence.png, outcomes.png, capital_in_flight.png, "
            "summary.csv and a self-contained index.html."
        ),
    )
    p.add_argument("dir", help="a finished sweep (or demo) folder")
    p.add_argument("--out", help="write here instead of DIR/report")
    p.add_argument("--run", metavar="KEY", help="run to draw capital in flight for (a key)")
    p.set_defaults(func=_cmd_report)


# ---------------------------------------------------------------------------------------
# testbed bench scenario
# ---------------------------------------------------------------------------------------


def _cmd_bench_scenario(args: argparse.Namespace) -> int:
    from scenarios.bench import run_scenario_bench, run_sweep_bench
    from scenarios.plan import BUILTINS

    def say(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    result: dict[str, Any] = {}
    if args.runs > 0:
        names = [n.strip() for n in args.scenario.split(",") if n.strip()]
        if names == ["all"]:
            names = list(BUILTINS)
        result = run_scenario_bench(
            modes=args.modes,
            runs=args.runs,
            repeats=args.repeats,
            chains=args.chains,
            scenario=names[0],
            scenarios=names if len(names) > 1 else None,
            boa_swaps=args.boa_swaps,
            progress=say,
        )
    if args.sweep_runs:
        say(
            f"timing a {args.sweep_mode} sweep of ~{args.sweep_runs} runs, {args.workers} "
            f"workers, {args.executor} executor"
        )
        progress, close = _progress_bar(True)  # stderr: --json output stays clean
        try:
            result["sweep"] = run_sweep_bench(
                n_runs=args.sweep_runs,
                workers=args.workers,
                mode=args.sweep_mode,
                chains=args.chains,
                progress=progress,
                executor=args.executor,
            )
        finally:
            close()
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if "modes" in result:
        print(
            f"{result['chains']}-chain world built in {result['world_build_s']} s; "
            f"{result['runs_per_repeat']} runs × {result['repeats']} repeats per mode"
        )
        tables = result.get("scenarios") or {result["scenario"]: {"modes": result["modes"]}}
        for name, table in tables.items():
            rows = []
            for mode, info in table["modes"].items():
                if info["available"]:
                    rates = " ".join(str(r) for r in info["cpu_repeats_runs_per_s"])
                    rows.append(
                        [
                            mode,
                            info["median_runs_per_s"],
                            info["cpu_median_runs_per_s"],
                            info["cpu_ms_per_run"],
                            info.get("runs_per_boa_swap", ""),
                            rates,
                        ]
                    )
                else:
                    rows.append([mode, "n/a", "", "", "", info["reason"]])
            print(f"\n{name}")
            headers = ["mode", "runs/s", "runs/s (CPU)", "CPU ms/run", "÷ boa swaps/s", "repeats"]
            print(format_table(headers, rows))
        if "all_modes_per_seed" in result:
            a = result["all_modes_per_seed"]
            print(
                f"\nall {len(a['modes'])} modes per seed as a sweep runs them (one atomic "
                f"baseline per seed): {a['median_runs_per_s']} runs/s, "
                f"{a['cpu_median_runs_per_s']} by CPU time ({a['runs_per_repeat']} runs per repeat)"
            )
        if "boa" in result:
            b = result["boa"]
            print(
                f"\ntitanoboa swap loop (same session): {b['cpu_median_swaps_per_s']} swaps/s "
                f"by CPU time; bridged runs/s ÷ boa swaps/s = "
                f"{result.get('bridged_runs_per_boa_swap', 'n/a')} (target ≥ 0.021)"
            )
    if "sweep" in result:
        s = result["sweep"]
        print(
            f"\nsweep: {s['runs']} {s['mode']} runs ({s['chains']} chains, "
            f"{len(s['latencies'])} presets × {len(s['sigmas'])} σ × {s['seeds']} seeds), "
            f"{s['workers']} workers: {s['wall_s']} s = {s['runs_per_s']} runs/s "
            f"(1,000 runs ≈ {s['projected_s_for_1000']} s; target < {s['target_s_for_1000']:.0f} s)"
        )
        print(
            f"CPU {s['cpu_s']} s over {s['workers']} workers → ≈ "
            f"{s['idle_cores_wall_s_estimate']} s on idle cores "
            f"(1-min load average at the end: {s['load_average_1min']})"
        )
        print(f"executor {s['executor']}: first result after {s['first_result_s']} s")
        if "task_overhead_ms" in s:
            print(
                f"Dask scheduler overhead {s['task_overhead_ms']} ms/task "
                f"({s['overhead_tasks']} no-op tasks); {s['worker_s_per_run']} worker-s/run, "
                f"{s['runs_per_task']} runs/task → 100,000 runs on 32 workers ≈ "
                f"{s['projected_100k_runs_32_workers_s']} s at this machine's load; from CPU "
                f"time ({s['cpu_s_per_run']} s/run) on idle workers ≈ "
                f"{s['projected_100k_runs_32_idle_workers_s']} s"
            )
    return 0


def add_bench_scenario_parser(bench_sub: Any) -> None:
    """Register ``testbed bench scenario`` on the ``bench`` subparsers."""
    p = bench_sub.add_parser(
        "scenario",
        help="runs/s per scenario mode on a reused world; optionally time a bridged sweep",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--runs", type=_non_negative_int, default=20, help="runs per repeat (0: skip; default 20)"
    )
    p.add_argument("--repeats", type=_positive_int, default=3, help="repeats (median; default 3)")
    p.add_argument(
        "--modes",
        type=_list_of(_name, "mode names"),
        default=MODES,
        help=f"comma-separated modes (default {','.join(MODES)})",
    )
    p.add_argument("--chains", type=int, choices=(2, 3, 4, 5), default=3, help="chains (default 3)")
    p.add_argument(
        "--scenario",
        default="swap-borrow-refinance",
        help="built-in scenario or .toml file to time, a comma-separated list, or 'all' "
        "(every built-in; default swap-borrow-refinance)",
    )
    p.add_argument(
        "--boa-swaps",
        type=_non_negative_int,
        default=300,
        help="titanoboa swaps timed before each repeat, for bridged_runs_per_boa_swap "
        "(0: skip; default 300)",
    )
    p.add_argument(
        "--sweep-runs",
        type=_non_negative_int,
        default=0,
        help="also time a sweep of about this many runs (e.g. 1000)",
    )
    p.add_argument("--sweep-mode", default="bridged", help="mode of the timed sweep")
    p.add_argument("--workers", type=_positive_int, default=2, help="sweep workers (default 2)")
    p.add_argument(
        "--executor",
        choices=("process", "dask"),
        default="process",
        help="where the timed sweep runs: process pool (default) or a Dask LocalCluster",
    )
    p.set_defaults(func=_cmd_bench_scenario)
