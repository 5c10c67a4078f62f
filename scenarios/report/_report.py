"""The sweep report: PNG plots, a summary table and one self-contained HTML page.

``report(folder)`` reads a sweep folder (``results.json``, ``runs.jsonl``, ``sweep.json``;
the files :func:`~scenarios.run_sweep` and ``testbed demo`` write) and writes
``folder/report/``:

- ``divergence.png``: divergence from the atomic run (bps of notional) against the bridge
  latency preset, one panel per mode and layout, one line per σ: the median with the
  25–75 % and 10–90 % quantile bands across seeds;
- ``outcomes.png``: the share of runs ending complete / partial / reverted / liquidated,
  a stacked bar per latency preset and σ, one panel per mode;
- ``capital_in_flight.png``: the USD value in transit over time for one run (by default
  the bridged run with the median capital-in-flight integral), with its step and hop
  events marked;
- ``summary.csv``: the table of the page, one row per grid cell (beside the cost and outcome
  statistics: median ``latency_s`` and ``user_latency_s``, the user's and the solvers'
  capital tied up, the cell's most frequent ``risk_bearer``);
- ``index.html``: all of the above, PNGs embedded as base64, the sweep arguments, and a
  short explanation of each plot.

Plots use matplotlib's Agg canvas directly (no pyplot, no global state, no display). The
bytes of ``summary.csv`` depend only on the results; PNG files carry no timestamp or
version metadata.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.model import COMPONENTS, LATENCY_PRESETS, get_cell_risk
from scenarios.report._cells import (
    TYPICAL_LATENCY,
    Cell,
    cells_of,
    mode_order,
    quantiles,
    read_results,
)
from scenarios.report._cost_figures import component_means, plot_components, plot_cost
from scenarios.report._figures import pick_run, plot_capital, plot_divergence, plot_outcomes
from scenarios.sweep import (
    load_runs,
)

__all__ = ["REPORT_DIR", "Report", "report", "write_report"]

REPORT_DIR = "report"


@dataclass(frozen=True)
class Report:
    """Where :func:`report` wrote its files."""

    folder: Path
    index: Path
    images: tuple[Path, ...]
    summary_csv: Path


# ---------------------------------------------------------------------------------------
# Table and page
# ---------------------------------------------------------------------------------------

_SUMMARY_HEADERS = (
    "mode",
    "chains",
    "latency",
    "sigma",
    "notional",
    "cost",
    "settlement",
    "runs",
    "all_in_cost_bps_mean",
    "all_in_cost_bps_std",
    "all_in_cost_bps_p5",
    "all_in_cost_bps_p95",
    "all_in_cost_bps_cvar5",
    "p_partial",
    "unwind_loss_bps",
    "time_to_complete_s_p50",
    "time_to_complete_s_p95",
    "p_settlement",
    "unbacked_usdc_mean",
    "orphaned_usdc_mean",
    *(f"cost_{name}_bps_mean" for name in COMPONENTS),
    "divergence_bps_p10",
    "divergence_bps_median",
    "divergence_bps_p90",
    "complete_pct",
    "partial_pct",
    "reverted_pct",
    "liquidated_pct",
    "latency_s_median",
    "user_latency_s_median",
    "capital_in_flight_peak_usd_median",
    "capital_in_flight_usd_s_median",
    "solver_capital_usd_s_median",
    "risk_bearer",
    "fronted_usdc_median",
    "min_health_factor_p10",
)


def _fmt(value: float, digits: int = 4) -> str:
    """Four significant digits, whole numbers from 1,000 up (no exponents); "" for NaN."""
    if not math.isfinite(value):
        return ""
    if abs(value) >= 1_000:
        return f"{value:.0f}"
    return f"{value:.{digits}g}"


def _readable(cell: str) -> str:
    """Thousands separators for whole numbers in the HTML table (the CSV keeps plain digits)."""
    if cell.lstrip("-").isdigit() and len(cell.lstrip("-")) > 4:
        return f"{int(cell):,}"
    return cell


def _summary_rows(cells: Sequence[Cell]) -> list[list[str]]:
    rows = []
    for c in cells:
        p10, med, p90 = quantiles(c.values("divergence_bps"), (0.1, 0.5, 0.9))
        shares = c.outcome_shares()
        risk = get_cell_risk(r["metrics"] for r in c.rows)
        parts = component_means(c)
        rows.append(
            [
                c.mode,
                str(c.chains) if not c.is_local else "1",
                c.latency_label,
                f"{c.sigma:g}",
                f"{c.notional:g}",
                c.cost,
                c.settlement,
                str(len(c.rows)),
                _fmt(risk.mean),
                _fmt(risk.std),
                _fmt(risk.p5),
                _fmt(risk.p95),
                _fmt(risk.cvar5),
                _fmt(risk.p_partial),
                _fmt(risk.unwind_loss),
                _fmt(risk.time_p50),
                _fmt(risk.time_p95),
                _fmt(risk.p_settlement),
                _fmt(risk.unbacked_mean),
                _fmt(risk.orphaned_mean),
                *(_fmt(parts[name]) for name in COMPONENTS),
                _fmt(p10),
                _fmt(med),
                _fmt(p90),
                f"{100 * shares.get('complete', 0):.0f}",
                f"{100 * shares.get('partial', 0):.0f}",
                f"{100 * shares.get('reverted', 0):.0f}",
                f"{100 * shares.get('liquidated', 0):.0f}",
                _fmt(quantiles(c.values("latency_s"), (0.5,))[0]),
                _fmt(quantiles(c.values("user_latency_s"), (0.5,))[0]),
                _fmt(quantiles(c.values("capital_in_flight_peak_usd"), (0.5,))[0]),
                _fmt(quantiles(c.values("capital_in_flight_usd_s"), (0.5,))[0]),
                _fmt(quantiles(c.values("solver_capital_usd_s"), (0.5,))[0]),
                _risk_bearer(c),
                _fmt(quantiles(c.values("fronted_usdc"), (0.5,))[0]),
                _fmt(quantiles(c.values("min_health_factor"), (0.1,))[0]),
            ]
        )
    return rows


def _risk_bearer(cell: Cell) -> str:
    """The cell's most frequent ``risk_bearer`` (ties: the first in run order); "" if none."""
    seen = [str(r["metrics"].get("risk_bearer") or "") for r in cell.rows]
    seen = [s for s in seen if s]
    return max(seen, key=seen.count) if seen else ""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(_readable(c))}</td>" for c in row) + "</tr>"
        for row in rows
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
img { max-width: 100%; border: 1px solid #eee; }
table { border-collapse: collapse; font-size: 0.82em; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th { background: #f3f3f3; } td:first-child, td:nth-child(3) { text-align: left; }
p.note { color: #555; font-size: 0.92em; } code { background: #f5f5f5; padding: 0 0.2em; }
"""


def report(
    folder: Path | str, *, out: Path | str | None = None, run_key: str | None = None
) -> Report:
    """Write the report of the sweep (or demo) folder ``folder``; see the module docstring.

    ``out`` defaults to ``folder/report``; ``run_key`` picks the run whose capital-in-flight
    curve is drawn (a key from ``results.csv``).
    """
    folder = Path(folder)
    runs, arguments = read_results(folder)
    target = Path(out) if out is not None else folder / REPORT_DIR
    target.mkdir(parents=True, exist_ok=True)
    cells = cells_of(runs)

    divergence_png = target / "divergence.png"
    outcomes_png = target / "outcomes.png"
    capital_png = target / "capital_in_flight.png"
    cost_png = target / "cost.png"
    components_png = target / "cost_components.png"
    plot_cost(cells, cost_png)
    plot_components(cells, components_png)
    plot_divergence(cells, divergence_png)
    plot_outcomes(cells, outcomes_png)
    chosen = pick_run(runs, run_key)
    assert chosen is not None  # read_results refuses an empty results file
    records = load_runs(folder)
    capital_caption = plot_capital(chosen, records.get(chosen["key"]), capital_png)

    summary = _summary_rows(cells)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_SUMMARY_HEADERS)
    writer.writerows(summary)
    summary_csv = target / "summary.csv"
    summary_csv.write_text(buffer.getvalue(), encoding="utf-8")

    index = target / "index.html"
    index.write_text(
        _page(
            folder,
            runs,
            arguments,
            summary,
            capital_caption,
            divergence_png,
            outcomes_png,
            capital_png,
            cost_png,
            components_png,
        ),
        encoding="utf-8",
    )
    return Report(
        folder=target,
        index=index,
        images=(cost_png, components_png, divergence_png, outcomes_png, capital_png),
        summary_csv=summary_csv,
    )


def _page(
    folder: Path,
    runs: Sequence[dict[str, Any]],
    arguments: dict[str, Any] | None,
    summary: Sequence[Sequence[str]],
    capital_caption: str,
    divergence_png: Path,
    outcomes_png: Path,
    capital_png: Path,
    cost_png: Path,
    components_png: Path,
) -> str:
    modes = mode_order(r["spec"]["mode"] for r in runs)
    args_rows = (
        [[k, json.dumps(v)] for k, v in sorted(arguments.items())]
        if arguments
        else [["(not recorded)", ""]]
    )
    presets = ", ".join(f"<code>{p}</code> ({TYPICAL_LATENCY[p]})" for p in LATENCY_PRESETS)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>composability-testbed report — {html.escape(folder.name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Cross-chain composability report: {html.escape(folder.name)}</h1>",
        "<p>One scenario — swap USDC → WETH on an AMM, borrow USDC against the WETH on a "
        "lending market, refinance the debt into a CDP vault — run in several <em>modes</em> "
        "on the same seeded market: <code>atomic</code> (one transaction on one chain), "
        "<code>sequential</code> (one transaction per step on one chain, the market moving "
        "between blocks) and <code>bridged</code> (the steps on different chains, joined by "
        "an asynchronous bridge). Each run's <em>divergence</em> is its net value minus "
        "the atomic run's net value on the same price path, in basis points of the "
        f"notional. {len(runs)} runs, modes: {html.escape(', '.join(modes))}.</p>",
        "<h2>All-in cost against bridge latency</h2>",
        _img(cost_png, "all-in cost vs latency"),
        "<p class='note'>The all-in cost of each mode against the same scenario's atomic run, "
        "in bps of the notional (positive: the mode costs more): on-chain fees and price "
        "impact, gas valued per chain at the ETH price, the fee the real bridge of each preset "
        "charges, funding of capital in flight, the solver's premium for fronting (capital, "
        "expected loss, price risk, gas), the latency-risk P&amp;L ∫(w<sub>mode</sub> − "
        "w<sub>atomic</sub>) dP, and for a run that did not finish the cost of unwinding it "
        "and re-entering. The line is the mean over seeds, the bands hold 50 % and 90 % of "
        "the seeds, the crosses are the 5 % CVaR (mean of the worst 5 %).</p>",
        "<h2>All-in cost by component</h2>",
        _img(components_png, "cost components per latency preset"),
        "<p class='note'>One stacked bar per latency preset: the mean of each component "
        "(costs above zero, savings such as the flash fee the split modes avoid below); the "
        "black dot is the mean all-in cost, the sum of the bar's components. Formulas: "
        "<code>scenarios/model/_cost.py</code>.</p>",
        "<h2>Divergence against bridge latency</h2>",
        _img(divergence_png, "divergence vs latency"),
        "<p class='note'>Each panel is one mode (and chain layout). The x axis is the bridge "
        f"latency preset, slowest on the right: {presets}. For every σ (annualised "
        "volatility of the WETH price) the line is the median divergence across seeds; the "
        "darker band holds the middle half of the seeds (25–75 %), the lighter one 80 % "
        "(10–90 %). Below zero the mode ended poorer than atomic. One-chain modes do not use "
        "the bridge, so they have a single column. When divergences span orders of magnitude "
        "the y axis is symmetric-log (linear within ±1 bp, logarithmic beyond), so small "
        "and large divergences both stay readable.</p>",
        "<h2>Outcomes</h2>",
        _img(outcomes_png, "outcome shares"),
        "<p class='note'>The share of runs per outcome: <b>complete</b> (every step done), "
        "<b>partial</b> (stopped at a step, value stranded on some chain), <b>reverted</b> "
        "(nothing happened), <b>liquidated</b> (the position fell below health factor 1 "
        "during the run). One bar per latency preset and σ; <code>n</code> is the number "
        "of seeds.</p>",
        "<h2>Capital in flight, one run</h2>",
        _img(capital_png, "capital in flight over time"),
        f"<p class='note'>{html.escape(capital_caption)} The curve is the USD value in "
        "transit between chains (locked in the bridge or fronted by a solver) over the run; "
        "its area is the capital-in-flight metric (USD·s). Dotted lines mark step and hop "
        "events. Pick another run with <code>testbed report DIR --run KEY</code>.</p>",
        "<h2>Summary table</h2>",
        "<p class='note'>One row per grid cell (mode, layout, latency, σ, notional), over its "
        "seeds: the all-in cost's mean, std, 5th/95th percentiles and 5 % CVaR, the share of "
        "runs that did not finish (p_partial) and their mean unwind cost, the time to "
        "complete, the mean of each cost component, divergence quantiles (bps of notional), "
        "outcome shares (%), medians of "
        "end-to-end latency (s), peak and integral of capital in flight, fronted inventory, "
        "and the 10th percentile of the lowest health factor. Also in "
        "<code>summary.csv</code>; every run is in <code>results.csv</code>.</p>",
        _html_table(_SUMMARY_HEADERS, summary),
        "<h2>Sweep arguments</h2>",
        _html_table(["argument", "value"], args_rows),
        "<p class='note'>Same arguments, same results byte for byte: virtual time, seeded "
        "market paths. Rerun with <code>testbed sweep</code> and these values.</p>",
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


def write_report(folder: Path | str) -> Report:
    """:func:`report` with the defaults: what ``testbed demo`` calls on its folder."""
    return report(folder)
