"""``testbed run`` (one run) and ``testbed demo`` (every mode on one seed, side by side).

Presentation only: the runs come from :func:`scenarios.run`; this module formats them.

The demo's report folder holds ``runs.jsonl`` (one ``RunResult.to_json()`` per line, the
format ``testbed report DIR`` reads), ``summary.md`` (the table and what each row means) and,
when the report module is available, its plots and HTML.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scenarios._runspec import (
    LATENCY_PRESETS,
    RunResult,
    RunSpec,
    ScenarioConfigError,
    registered_modes,
    run,
)

__all__ = ["add_commands", "format_comparison", "load_spec_file"]

#: The demo table's rows: metric key, label, unit / meaning for a newcomer.
DEMO_ROWS: tuple[tuple[str, str, str], ...] = (
    ("outcome", "outcome", "complete / partial / reverted / liquidated"),
    ("net_value_usdc", "net value (USDC)", "what the user owns minus owes at the end"),
    ("divergence_usdc", "vs atomic (USDC)", "net value minus the atomic run's, same prices"),
    ("divergence_bps", "vs atomic (bps)", "the same, per 10,000 of notional"),
    ("shortfall_bps", "shortfall (bps)", "lost against the quote at the start"),
    ("latency_s", "latency (s)", "first to last step"),
    ("capital_in_flight_usd_s", "in flight (USD·s)", "value inside the bridge × time"),
    ("fronted_usdc", "fronted (USDC)", "USDC a solver lent to make it work"),
    ("fronted_s", "fronted for (s)", "how long the solver waited to be repaid"),
    (
        "min_health_factor",
        "min health factor",
        "riskiest moment (< 1: liquidatable)",
    ),
    ("oracle_gap_max", "oracle gap (max)", "oracle vs market price at a step"),
    ("lvr_usdc", "LVR (USDC)", "value arbitrageurs took from AMM LPs meanwhile"),
    ("stranded_usdc", "stranded (USDC)", "value stuck mid-way if a step failed"),
    ("transactions", "transactions", "the user's and solver's"),
    ("gas", "gas", "their gas"),
    ("fees_usdc", "fees (USDC)", "AMM and flash-mint fees"),
)


def add_commands(sub: Any) -> None:
    """Register ``run`` and ``demo`` on the ``testbed`` sub-parser set."""
    one = sub.add_parser("run", help="one scenario run in one mode; --json for the metrics")
    _spec_arguments(one)
    one.add_argument("--mode", default="atomic", help="atomic | sequential | bridged (+ plugins)")
    one.add_argument("--config", help="TOML or JSON file of RunSpec fields (flags override)")
    one.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    one.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="the scenario in every mode on one seed, side by side")
    _spec_arguments(demo)
    demo.add_argument(
        "--out", default="testbed-demo", help="report folder (default ./testbed-demo)"
    )
    demo.set_defaults(func=cmd_demo)


def _spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--chains", type=int, help="bridged layout: 2 or 3 chains (default 3)")
    parser.add_argument(
        "--latency",
        help=f"bridge latency preset (default fast-attestation): {', '.join(LATENCY_PRESETS)}",
    )
    parser.add_argument("--sigma", type=float, help="annualised WETH volatility (default 0.8)")
    parser.add_argument("--drift", type=float, help="annualised drift (default 0)")
    parser.add_argument("--notional", type=float, help="USDC the user starts with (default 100000)")
    parser.add_argument("--ltv", type=float, dest="target_ltv", help="target LTV (default 0.5)")
    parser.add_argument("--slippage", type=float, help="max slippage per swap (default 0.01)")
    parser.add_argument("--seed", type=int, help="market seed (default 0)")


def load_spec_file(path: str) -> dict[str, Any]:
    """RunSpec fields from a TOML (``.toml``) or JSON file; a clear error when unreadable."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ScenarioConfigError(f"cannot read config {str(file)!r}: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if file.suffix == ".toml" else "JSON"
        raise ScenarioConfigError(f"{file}: not valid {kind}: {exc}") from exc
    if not isinstance(data, dict):
        raise ScenarioConfigError(
            f"{file}: expected a table of RunSpec fields, got {type(data).__name__}"
        )
    try:
        RunSpec.from_mapping(data)
    except TypeError as exc:
        raise ScenarioConfigError(f"{file}: {exc}") from exc
    return data


def _spec_from_args(args: argparse.Namespace, **forced: Any) -> RunSpec:
    fields: dict[str, Any] = {}
    if getattr(args, "config", None):
        fields.update(load_spec_file(args.config))
    for name in (
        "chains",
        "latency",
        "sigma",
        "drift",
        "notional",
        "target_ltv",
        "slippage",
        "seed",
    ):
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    if getattr(args, "mode", None) is not None:
        fields["mode"] = args.mode
    fields.update(forced)
    spec = RunSpec.from_mapping(fields)
    spec.validate()
    return spec


def cmd_run(args: argparse.Namespace) -> int:
    """``testbed run``: one run; the metrics as a table or one JSON object."""
    spec = _spec_from_args(args)
    result = run(spec)
    if args.json:
        print(json.dumps(result.to_json()["metrics"], sort_keys=True))
        return 0
    print(f"run {spec.key()}\n")
    rows = [[label, _fmt(result.metrics[key]), meaning] for key, label, meaning in DEMO_ROWS]
    print(_table(["metric", spec.mode, "meaning"], rows))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``testbed demo``: deploy, run every mode on one seed, print and save the comparison."""
    from scenarios._world import World

    base = _spec_from_args(args, mode="atomic")
    progress = _progress
    progress(f"building the world: {base.chains} chains, suites deployed once")
    world = World.build(base.chains)
    results: dict[str, RunResult | str] = {}
    for mode in registered_modes():
        spec = dataclasses.replace(base, mode=mode)
        progress(f"running {mode} ...")
        try:
            results[mode] = run(spec, world=world)
        except ScenarioConfigError as exc:
            if "not available yet" not in str(exc):
                raise
            results[mode] = str(exc)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = {m: r for m, r in results.items() if isinstance(r, RunResult)}
    with (out / "runs.jsonl").open("w") as fh:
        for result in done.values():
            fh.write(result.dumps() + "\n")
    text = format_comparison(base, results)
    (out / "summary.md").write_text(_summary_markdown(base, text))
    report_note = _write_report(out, progress)
    print(text)
    print(f"\nreport folder: {out}/ (runs.jsonl, summary.md{report_note})")
    return 0


def format_comparison(base: RunSpec, results: dict[str, RunResult | str]) -> str:
    """The side-by-side table: one column per mode, one row per metric, with meanings."""
    modes = list(results)
    rows = []
    for key, label, meaning in DEMO_ROWS:
        cells = []
        for mode in modes:
            r = results[mode]
            cells.append(_fmt(r.metrics[key]) if isinstance(r, RunResult) else "—")
        rows.append([label, *cells, meaning])
    header = (
        f"swap → borrow → refinance, notional {base.notional:,.0f} USDC, target LTV "
        f"{base.target_ltv:g}, σ = {base.sigma:g}, seed {base.seed}; bridged: {base.chains} "
        f"chains, latency {base.latency}\n"
    )
    lines = [header, _table(["metric", *modes, "meaning"], rows)]
    for mode, r in results.items():
        if isinstance(r, str):
            lines.append(f"\n{mode}: {r}")
    return "\n".join(lines)


def _summary_markdown(base: RunSpec, text: str) -> str:
    return (
        "# testbed demo\n\n"
        "The same scenario on the same seeded market, in each mode. `atomic` is the baseline: "
        "one transaction through the composer. `sequential` splits it into one transaction per "
        "block on the same chain; `bridged` spreads it over chains joined by the bridge.\n\n"
        f"```\n{text}\n```\n\nSpec: `{json.dumps(base.to_json(), sort_keys=True)}`\n"
    )


def _write_report(out: Path, progress: Callable[[str], None]) -> str:
    """Plots and HTML through the sweep's report module, when it exists."""
    try:
        from scenarios import _report
    except ImportError:
        return ""
    writer = getattr(_report, "write_report", None)
    if writer is None:
        return ""
    progress("writing plots and HTML")
    writer(out)
    return ", plots and HTML"


def _progress(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)


def _fmt(value: float | int | str) -> str:
    if isinstance(value, str):
        return value or "—"
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return "—"
    if abs(value) < 5e-5:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.4g}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
