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
import statistics
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from scenarios.model import (
    COMPONENTS,
    DEFAULT_SCENARIO,
    LATENCY_PRESETS,
    MAX_CHAINS,
    RunResult,
    RunSpec,
    ScenarioConfigError,
    get_cell_risk,
    registered_modes,
)
from scenarios.report import format_table, get_solver_economics
from scenarios.runners import run

__all__ = [
    "add_commands",
    "format_comparison",
    "format_presets",
    "format_solver",
    "load_spec_file",
    "parse_cost",
]

#: The demo table's rows: metric key, label, unit / meaning for a newcomer.
DEMO_ROWS: tuple[tuple[str, str, str], ...] = (
    ("all_in_cost_bps", "ALL-IN COST (bps)", "what coordinating costs vs atomic, all priced"),
    ("cost:amm_fees", "  AMM fees", "0.3 % swap fees, minus atomic's"),
    ("cost:flash_fees", "  flash fees", "flash-mint fees, minus atomic's"),
    ("cost:gas", "  gas", "every transaction's gas at its chain's price, USD"),
    ("cost:bridge_fees", "  bridge fees", "what the real bridge of the preset charges"),
    ("cost:funding", "  funding", "rate × capital in flight × time"),
    ("cost:solver_premium", "  solver premium", "capital + expected loss + risk + gas"),
    ("cost:latency_risk", "  latency risk", "−∫(w_mode − w_atomic) dP: exposure while waiting"),
    ("cost:execution", "  execution", "price impact, interest, rounding: the rest"),
    ("cost:unwind", "  unwind", "unwinding and re-entering an unfinished run"),
    ("cost:settlement", "  settlement", "unbacked mints a reorg left (borne by the bridge)"),
    ("outcome", "outcome", "complete / partial / reverted / liquidated"),
    ("net_value_usdc", "net value (USDC)", "what the user owns minus owes at the end"),
    ("divergence_usdc", "vs atomic (USDC)", "net value minus the atomic run's, same prices"),
    ("divergence_bps", "vs atomic (bps)", "the same, per 10,000 of notional"),
    ("shortfall_bps", "shortfall (bps)", "lost against the quote at the start"),
    ("latency_s", "latency (s)", "first to last step (intent: to the last settlement)"),
    ("user_latency_s", "user latency (s)", "first action until the user holds its position"),
    ("capital_in_flight_usd_s", "in flight (USD·s)", "the user's value in transit × time"),
    ("solver_capital_usd_s", "solver capital (USD·s)", "fronter's and solver's capital × time"),
    ("risk_bearer", "risk borne by", "who has the most capital tied up"),
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
    one.add_argument(
        "--mode",
        default="atomic",
        help="atomic | superblock | shared-sequencer | intent | bridged | sequential (+ plugins)",
    )
    one.add_argument("--config", help="TOML or JSON file of RunSpec fields (flags override)")
    one.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    one.set_defaults(func=cmd_run)

    plan = sub.add_parser("plan", help="print what a scenario's plan will run in a mode")
    plan.add_argument("--scenario", default="swap-borrow-refinance", help="name or .toml file")
    plan.add_argument("--placement", help="e.g. amm=A,lending=B,cdp=C[,start=B]")
    plan.add_argument("--chains", type=int, default=3, help="default placement's chains")
    plan.add_argument(
        "--mode",
        default="bridged",
        help="atomic | superblock | shared-sequencer | intent | bridged | sequential",
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(func=cmd_plan)

    demo = sub.add_parser("demo", help="the scenario in every mode on one seed, side by side")
    _spec_arguments(demo)
    demo.add_argument(
        "--out", default="testbed-demo", help="report folder (default ./testbed-demo)"
    )
    demo.add_argument(
        "--preset-seeds",
        type=int,
        default=4,
        metavar="N",
        help="seeds per latency preset in the second table (default 4; 0 skips it)",
    )
    demo.set_defaults(func=cmd_demo)


def _spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--chains", type=int, help="chains of the world: 2 to 5 (default 3; a placement's own)"
    )
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
    parser.add_argument(
        "--scenario",
        help="built-in scenario name or a scenario .toml file (default swap-borrow-refinance)",
    )
    parser.add_argument(
        "--placement",
        help="venues on chains, e.g. amm=A,lending=B,cdp=C[,start=B] (default: the file's or "
        "the --chains layout)",
    )
    parser.add_argument(
        "--reorgs",
        help="reorg process on every chain (bridged runs): none, a profile (mild, severe) or "
        "rate=R[,mean=M][,cap=C][,depth=D][,dropped=discard|pool], R per hour (default none)",
    )
    parser.add_argument(
        "--confirmations",
        help="the relayer's confirmation policy (bridged runs): fast (0 blocks, default), "
        "safe, finalized, preset (the latency preset's) or N blocks",
    )
    parser.add_argument(
        "--arb-gap-bps",
        type=float,
        dest="arb_gap_bps",
        help="price premium of an arbitrage scenario's dear pool, bps (default 100)",
    )
    parser.add_argument(
        "--cost",
        type=parse_cost,
        help="cost-model overrides, e.g. user_rate=0.08,gas.L1.gwei=30,chain_kinds.A=L1 "
        "(keys of scenarios.CostModel; a config file takes a [cost] table)",
    )


def parse_cost(text: str) -> dict[str, Any]:
    """``key=value,...`` with dotted keys for nested tables → a cost-override mapping
    (numbers where they parse, text otherwise)."""
    out: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip() or not raw.strip():
            raise argparse.ArgumentTypeError(f"cost override {item!r} is not key=value")
        value: Any
        try:
            value = float(raw)
        except ValueError:
            value = raw.strip()
        *path, last = key.strip().split(".")
        node = out
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise argparse.ArgumentTypeError(f"cost override {item!r} conflicts")
        node[last] = value
    return out


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
        "scenario",
        "placement",
        "reorgs",
        "confirmations",
        "arb_gap_bps",
    ):
        value = getattr(args, name, None)
        if value is not None:
            fields[name] = value
    if "chains" not in fields and fields.get("placement"):
        # a placement on more chains than the default 3 sets the world's chain count
        from scenarios.plan import Placement

        needed = Placement.parse(fields["placement"]).chains
        if RunSpec.chains < needed <= MAX_CHAINS:
            fields["chains"] = needed
    if getattr(args, "cost", None):
        fields["cost"] = {**dict(fields.get("cost") or {}), **args.cost}
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
    rows = [[label, _fmt(_metric(result, key)), meaning] for key, label, meaning in DEMO_ROWS]
    print(format_table(["metric", spec.mode, "meaning"], rows))
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """``testbed plan``: the plan's legs as a table (or JSON), before anything runs."""
    from scenarios.plan import Placement, build_plan, load_scenario

    scenario, file_placement = load_scenario(args.scenario)
    if args.placement:
        placement = Placement.parse(args.placement)
    elif file_placement is not None:
        placement = file_placement
    else:
        placement = Placement.spread(scenario, args.chains)
    plan = build_plan(scenario, placement, args.mode)
    if args.json:
        print(json.dumps(plan.to_json(), sort_keys=True))
        return 0
    print(plan.table())
    if scenario.doc:
        print(f"\n{scenario.doc}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``testbed demo``: deploy, run every mode on one seed, print and save the comparison."""
    from scenarios.runners import hosting_for_spec
    from scenarios.world import World

    base = _spec_from_args(args, mode="atomic")
    progress = _progress
    progress(f"building the world: {base.chains} chains, suites deployed once")
    world = World.build(base.chains, hosting=hosting_for_spec(base))
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
    if args.preset_seeds < 0:
        raise ScenarioConfigError(f"--preset-seeds must be ≥ 0, got {args.preset_seeds}")
    by_mode = {
        mode: _by_preset(world, base, mode, args.preset_seeds, progress) for mode in PRESET_MODES
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = {m: r for m, r in results.items() if isinstance(r, RunResult)}
    per_preset = [r for by in by_mode.values() for rs in by.values() for r in rs]
    with (out / "runs.jsonl").open("w") as fh:
        written = set()
        for result in [*done.values(), *per_preset]:
            if result.spec.key() not in written:
                written.add(result.spec.key())
                fh.write(result.dumps() + "\n")
    text = format_comparison(base, results)
    for mode, by_preset in by_mode.items():
        if by_preset:
            text += "\n\n" + format_presets(base, by_preset, mode=mode)
    if by_mode.get("intent"):
        text += "\n\n" + format_solver(base, by_mode["intent"], world.suite.config.weth_price)
    (out / "summary.md").write_text(_summary_markdown(base, text))
    report_note = _write_report(out, progress)
    print(text)
    print(f"\nreport folder: {out}/ (runs.jsonl, summary.md{report_note})")
    return 0


#: The ladder's modes whose outcome depends on the bridge preset (the demo's second tables).
PRESET_MODES = ("intent", "bridged")


def _by_preset(
    world: Any, base: RunSpec, mode: str, n_seeds: int, progress: Callable[[str], None]
) -> dict[str, list[RunResult]]:
    """Runs of ``mode`` for every latency preset on seeds ``base.seed ..``, in this world.

    One baseline group per seed (the sweep's grouping), so each seed's atomic baseline runs
    once for all presets; results equal :func:`scenarios.run`'s.
    """
    if n_seeds == 0 or mode not in registered_modes():
        return {}
    from scenarios.sweep import WorldCache, group_by_baseline

    cache = WorldCache()
    cache.put(world)
    specs = [
        dataclasses.replace(base, mode=mode, latency=preset, seed=base.seed + i)
        for i in range(n_seeds)
        for preset in LATENCY_PRESETS
    ]
    progress(f"{mode} under every latency preset: {len(specs)} runs on {n_seeds} seed(s) ...")
    found: dict[int, RunResult] = {}
    for group in group_by_baseline(specs):
        found.update(cache.run_group(group))
    by_preset: dict[str, list[RunResult]] = {preset: [] for preset in LATENCY_PRESETS}
    for position in sorted(found):
        by_preset[specs[position].latency].append(found[position])
    return by_preset


def format_presets(
    base: RunSpec, by_preset: dict[str, list[RunResult]], *, mode: str = "bridged"
) -> str:
    """A second demo table: ``mode`` under each latency preset, over seeds.

    Medians over the seeds, except ``complete`` (a count), ``worst stranded`` (the maximum)
    and ``worst HF`` (the minimum).
    """
    rows = []
    for preset, results in by_preset.items():
        m = [r.metrics for r in results]
        complete = sum(1 for x in m if x["outcome"] == "complete")
        risk = get_cell_risk(m)
        rows.append(
            [
                preset,
                _fmt(risk.mean),
                _fmt(risk.std),
                _fmt(risk.cvar5),
                f"{complete}/{len(m)}",
                _duration(_median([float(x["latency_s"]) for x in m])),
                _duration(_median([float(x["user_latency_s"]) for x in m])),
                _fmt(_median([float(x["capital_in_flight_usd_s"]) for x in m]) / 86_400),
                _fmt(_median([float(x["solver_capital_usd_s"]) for x in m]) / 86_400),
                _duration(_median([float(x["fronted_s"]) for x in m])),
                _fmt(_median([float(x["divergence_bps"]) for x in m])),
                _fmt(max(float(x["stranded_usdc"]) for x in m)),
                _fmt(min(float(x["min_health_factor"]) for x in m)),
            ]
        )
    n = len(next(iter(by_preset.values())))
    header = (
        f"{mode} ({base.chains} chains) under each latency preset, seeds {base.seed}.."
        f"{base.seed + n - 1}, σ = {base.sigma:g} (all-in cost: mean, std and 5 % CVaR over "
        "seeds; the rest: medians)\n"
    )
    table = format_table(
        [
            "latency preset",
            "all-in (bps)",
            "std",
            "CVaR 5%",
            "complete",
            "latency",
            "user latency",
            "in flight (USD·day)",
            "solver capital (USD·day)",
            "fronted for",
            "vs atomic (bps)",
            "worst stranded (USDC)",
            "worst HF",
        ],
        rows,
    )
    parts = format_table(
        ["latency preset", *COMPONENTS],
        [
            [
                preset,
                *(
                    _fmt(
                        statistics.fmean(
                            float(r.metrics["cost_components_bps"][c]) for r in results
                        )
                    )
                    for c in COMPONENTS
                ),
            ]
            for preset, results in by_preset.items()
        ],
    )
    table += "\n\nall-in cost by component, bps (means over seeds; they sum to the all-in mean)\n"
    table += parts
    if mode == "intent":
        note = (
            "\nThe user waits for fills only (user latency is the same at every preset); the"
            "\nsolver waits for the bridge to be repaid, and its quote prices that wait: the"
            "\nslower the bridge, the larger the premium the user pays."
        )
    else:
        note = (
            "\nThe slower the bridge, the longer capital sits in flight and the solver waits"
            "\nto be repaid; the market moves meanwhile, so health factors drift and, at slow"
            "\npresets and high σ, runs stop half-way (complete < n) with value stranded."
        )
    return header + table + note


def format_solver(base: RunSpec, by_preset: dict[str, list[RunResult]], weth_price: float) -> str:
    """The intent solver's economics per preset over the demo's seeds (formulas:
    ``scenarios/report/_solver.py``)."""
    rows = []
    chains: list[str] = []
    stats = {p: get_solver_economics(rs, weth_price) for p, rs in by_preset.items()}
    for s in stats.values():
        chains.extend(c for c in s.peak_usd if c not in chains)
    for preset, s in stats.items():
        rows.append(
            [
                preset,
                f"{s.orders - s.declined}/{s.orders}",
                _fmt(s.premium_bps),
                _fmt(s.risk_pnl_bps),
                _fmt(s.risk_std_bps),
                _fmt(s.capital_usd_day),
                *(
                    f"{_fmt(s.peak_usd.get(c, 0.0))} ({s.utilisation.get(c, 0.0):.0%})"
                    for c in chains
                ),
                *(_fmt(s.little_usd.get(c, 0.0)) for c in chains),
            ]
        )
    n = len(next(iter(by_preset.values())))
    header = (
        f"intent solver economics over {n} seed(s) per preset (one user's orders each): fills,"
        " premium earned and price risk borne (bps of the volume it filled), capital tied up"
        " until repaid, peak inventory out per chain (USD; share of its working inventory),"
        " and the inventory a stream of one such user a minute keeps out (Little's law)\n"
    )
    table = format_table(
        [
            "latency preset",
            "filled",
            "premium (bps)",
            "risk P&L (bps)",
            "risk std (bps)",
            "capital (USD·day)",
            *(f"peak {c}" for c in chains),
            *(f"λ·W {c}" for c in chains),
        ],
        rows,
    )
    return header + table


def _metric(result: RunResult, key: str) -> Any:
    """A metric, or ``cost:<component>`` for one component of ``cost_components_bps``."""
    if key.startswith("cost:"):
        return float((result.metrics["cost_components_bps"] or {}).get(key[5:], math.nan))
    return result.metrics[key]


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _duration(seconds: float) -> str:
    """Seconds as the unit a reader would pick: 0 s, 14 s, 16 min, 6.7 d."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7_200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds / 86_400:.1f} d"


def format_comparison(base: RunSpec, results: dict[str, RunResult | str]) -> str:
    """The side-by-side table: one column per mode, one row per metric, with meanings."""
    modes = list(results)
    rows = []
    for key, label, meaning in DEMO_ROWS:
        cells = []
        for mode in modes:
            r = results[mode]
            cells.append(_fmt(_metric(r, key)) if isinstance(r, RunResult) else "—")
        rows.append([label, *cells, meaning])
    name = "swap → borrow → refinance" if base.scenario == DEFAULT_SCENARIO else base.scenario
    where = f", placement {base.placement}" if base.placement else ""
    header = (
        f"{name}{where}, notional {base.notional:,.0f} USDC, target LTV "
        f"{base.target_ltv:g}, σ = {base.sigma:g}, seed {base.seed}; bridged: {base.chains} "
        f"chains, latency {base.latency}\n"
    )
    lines = [header, format_table(["metric", *modes, "meaning"], rows)]
    for mode, r in results.items():
        if isinstance(r, str):
            lines.append(f"\n{mode}: {r}")
    return "\n".join(lines)


def _summary_markdown(base: RunSpec, text: str) -> str:
    return (
        "# testbed demo\n\n"
        "The same scenario on the same seeded market, in each mode of the coordination ladder. "
        "`atomic` is the baseline: one transaction on one chain. `superblock` spreads it over "
        "chains but commits every leg in one slot or none (two-phase commit); "
        "`shared-sequencer` includes each run of legs up to a hop in one slot, messages at "
        "interop latency, legs reverting alone; `intent` turns every hop into an ERC-7683 "
        "order a solver fills at once from its inventory, repaid after the bridge; "
        "`bridged` waits for the bridge at every hop; "
        "`sequential` is one transaction per block on the same chain.\n\n"
        f"```\n{text}\n```\n\nSpec: `{json.dumps(base.to_json(), sort_keys=True)}`\n"
    )


def _write_report(out: Path, progress: Callable[[str], None]) -> str:
    """Plots and HTML through the sweep's report module, when it exists."""
    from scenarios.report import write_report

    progress("writing plots and HTML")
    write_report(out)
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
