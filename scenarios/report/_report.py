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
- ``summary.csv``: the table of the page, one row per grid cell;
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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.model import LATENCY_PRESETS, OUTCOMES
from scenarios.sweep import (
    LOCAL_MODES,
    RESULTS_JSON,
    RUNS_FILE,
    SWEEP_FILE,
    SweepError,
    latency_order,
    load_runs,
)

__all__ = ["REPORT_DIR", "Report", "load_results", "report", "write_report"]

REPORT_DIR = "report"
_PNG_METADATA: dict[str, Any] = {"Software": None}
_OUTCOME_COLORS = {
    "complete": "#4c9a5b",
    "partial": "#e0a030",
    "reverted": "#8c8c8c",
    "liquidated": "#c0392b",
}
_SIGMA_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
_TYPICAL = {
    "same-block": "0 s",
    "interop": "~2 s",
    "intent-fill": "2–9 s",
    "fast-attestation": "8–20 s",
    "finality": "13–19 min",
    "optimistic-canonical": "~7 days",
}


@dataclass(frozen=True)
class Report:
    """Where :func:`report` wrote its files."""

    folder: Path
    index: Path
    images: tuple[Path, ...]
    summary_csv: Path


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def load_results(folder: Path | str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The runs (key, spec, metrics) of a folder and the arguments that produced them.

    A finished sweep has ``results.json``; a ``testbed demo`` folder has only
    ``runs.jsonl`` (no ``sweep.json``), read in file order. A sweep folder without
    ``results.json`` has not finished: the error says to resume it.
    """
    folder = Path(folder)
    path = folder / RESULTS_JSON
    if not path.exists():
        if (folder / SWEEP_FILE).exists():
            raise SweepError(
                f"{path} not found: the sweep in {folder} has not finished "
                "(run it again with --resume)"
            )
        if (folder / RUNS_FILE).exists():
            runs = [
                {"key": key, "spec": record["spec"], "metrics": record["metrics"]}
                for key, record in load_runs(folder).items()
            ]
            if not runs:
                raise SweepError(f"{folder / RUNS_FILE} holds no runs")
            return runs, None
        raise SweepError(
            f"{path} not found: {folder} is not a finished sweep or demo folder "
            f"(no {RESULTS_JSON} or {RUNS_FILE})"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        runs = data["runs"]
        for row in runs:
            _ = (row["key"], row["spec"]["mode"], row["metrics"]["outcome"])  # shape check
    except (ValueError, KeyError, TypeError) as exc:
        raise SweepError(f"{path} is not a results file ({exc})") from exc
    if not runs:
        raise SweepError(f"{path} holds no runs")
    arguments = data.get("arguments")
    sweep_file = folder / SWEEP_FILE
    if arguments is None and sweep_file.exists():
        arguments = json.loads(sweep_file.read_text(encoding="utf-8")).get("sweep")
    return runs, arguments


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def _quantiles(values: Sequence[float], qs: Sequence[float]) -> list[float]:
    """Quantiles with linear interpolation (numpy's default) of the finite values."""
    finite = sorted(v for v in values if math.isfinite(v))
    if not finite:
        return [math.nan] * len(qs)
    out = []
    for q in qs:
        pos = q * (len(finite) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(finite) - 1)
        out.append(finite[lo] + (finite[hi] - finite[lo]) * (pos - lo))
    return out


def _mode_order(modes: Iterable[str]) -> list[str]:
    known = ("atomic", "sequential", "bridged")
    return sorted(set(modes), key=lambda m: (known.index(m) if m in known else len(known), m))


def _cell_key(spec: dict[str, Any]) -> tuple[Any, ...]:
    return (
        _mode_rank(spec["mode"]),
        spec["mode"],
        spec["chains"],
        latency_order(spec["latency"]),
        spec["latency"],
        spec["sigma"],
        spec["notional"],
    )


def _mode_rank(mode: str) -> int:
    known = ("atomic", "sequential", "bridged")
    return known.index(mode) if mode in known else len(known)


@dataclass(frozen=True)
class _Cell:
    """All seeds of one grid cell."""

    mode: str
    chains: int
    latency: str
    sigma: float
    notional: float
    rows: tuple[dict[str, Any], ...]

    def values(self, metric: str) -> list[float]:
        return [_number(r["metrics"].get(metric)) for r in self.rows]

    def outcome_shares(self) -> dict[str, float]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for r in self.rows:
            outcome = str(r["metrics"].get("outcome"))
            counts[outcome] = counts.get(outcome, 0) + 1
        return {k: v / len(self.rows) for k, v in counts.items()}

    @property
    def is_local(self) -> bool:
        return self.mode in LOCAL_MODES

    @property
    def latency_label(self) -> str:
        return "one chain" if self.is_local else self.latency


def _cells(runs: Sequence[dict[str, Any]]) -> list[_Cell]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in runs:
        groups.setdefault(_cell_key(row["spec"]), []).append(row)
    cells = []
    for key in sorted(groups):
        first = groups[key][0]["spec"]
        cells.append(
            _Cell(
                mode=first["mode"],
                chains=first["chains"],
                latency=first["latency"],
                sigma=first["sigma"],
                notional=first["notional"],
                rows=tuple(groups[key]),
            )
        )
    return cells


# ---------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, format="png", metadata=_PNG_METADATA)


def _panels(cells: Sequence[_Cell], *, skip_atomic: bool) -> list[tuple[str, int | None]]:
    """(mode, layout) panels: one per layout for bridged modes, one for a local mode."""
    panels: list[tuple[str, int | None]] = []
    modes = _mode_order(c.mode for c in cells)
    if skip_atomic and modes != ["atomic"]:
        modes = [m for m in modes if m != "atomic"]
    for mode in modes:
        if mode in LOCAL_MODES:
            panels.append((mode, None))
        else:
            layouts = sorted({c.chains for c in cells if c.mode == mode})
            panels += [(mode, chains) for chains in layouts]
    return panels


def _panel_title(mode: str, chains: int | None) -> str:
    if chains is None:
        return f"{mode} · one chain"
    return f"{mode} · {chains} chains"


def _series_label(sigma: float, notional: float, many_notionals: bool) -> str:
    label = f"σ = {sigma:g}"
    if many_notionals:
        label += f", notional ${notional:,.0f}"
    return label


def _wants_symlog(values: Sequence[float], medians: Sequence[float]) -> bool:
    """A symmetric-log axis (linear within ±1 bp) when the plotted values span orders of
    magnitude: some band reaches beyond 20 bps while some non-zero median is 50× smaller —
    on a linear axis the small divergences of fast presets would be a flat line."""
    if not values:
        return False
    top = max(abs(v) for v in values)
    small = [abs(m) for m in medians if m != 0]
    return top > 20 and bool(small) and min(small) < top / 50


def _plot_divergence(cells: Sequence[_Cell], path: Path) -> None:
    panels = _panels(cells, skip_atomic=True)
    many_notionals = len({c.notional for c in cells}) > 1
    fig = _figure(max(7.5, 5.2 * len(panels)), 4.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    series_keys = sorted({(c.sigma, c.notional) for c in cells})
    colors = {k: _SIGMA_COLORS[i % len(_SIGMA_COLORS)] for i, k in enumerate(series_keys)}
    for ax, (mode, chains) in zip(axes, panels, strict=True):
        mine = [c for c in cells if c.mode == mode and (chains is None or c.chains == chains)]
        latencies = sorted({c.latency_label for c in mine}, key=latency_order)
        x_of = {lat: i for i, lat in enumerate(latencies)}
        n_series = len(series_keys)
        width = 0.8 / max(n_series, 1)
        all_values: list[float] = []
        medians: list[float] = []
        for i, key in enumerate(series_keys):
            line = sorted(
                (c for c in mine if (c.sigma, c.notional) == key),
                key=lambda c: x_of[c.latency_label],
            )
            if not line:
                continue
            # Spread the σ series a little sideways so bands of a single point stay visible.
            offset = (i - (n_series - 1) / 2) * width * 0.5
            xs = [x_of[c.latency_label] + offset for c in line]
            q = [_quantiles(c.values("divergence_bps"), (0.1, 0.25, 0.5, 0.75, 0.9)) for c in line]
            all_values += [v for row in q for v in row if math.isfinite(v)]
            medians += [row[2] for row in q if math.isfinite(row[2])]
            color = colors[key]
            lo10, lo25, med, hi75, hi90 = (list(col) for col in zip(*q, strict=True))
            if len(xs) == 1:
                xs_band = [xs[0] - width * 0.4, xs[0] + width * 0.4]
                lo10, lo25, hi75, hi90 = ([v[0]] * 2 for v in (lo10, lo25, hi75, hi90))
            else:
                xs_band = xs
            ax.fill_between(xs_band, lo10, hi90, color=color, alpha=0.15, linewidth=0)
            ax.fill_between(xs_band, lo25, hi75, color=color, alpha=0.3, linewidth=0)
            label = _series_label(key[0], key[1], many_notionals)
            ax.plot(xs, med, color=color, marker="o", markersize=4, linewidth=1.6, label=label)
        ax.axhline(0, color="black", linewidth=0.8, alpha=0.6)
        ax.set_xticks(range(len(latencies)))
        ax.set_xticklabels(
            [f"{lat}\n({_TYPICAL[lat]})" if lat in _TYPICAL else lat for lat in latencies],
            fontsize=8,
            rotation=20 if len(latencies) > 3 else 0,
        )
        ax.set_xlim(-0.6, len(latencies) - 0.4)
        if _wants_symlog(all_values, medians):
            ax.set_yscale("symlog", linthresh=1)
        ax.set_title(_panel_title(mode, chains), fontsize=10)
        ax.set_xlabel("bridge latency preset (typical delay)")
        ax.set_ylabel("divergence from atomic (bps of notional)")
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    from matplotlib.patches import Patch

    handles += [
        Patch(color="gray", alpha=0.45, label="25–75 % of seeds"),
        Patch(color="gray", alpha=0.15, label="10–90 % of seeds"),
    ]
    axes[-1].legend(handles=handles, fontsize=8, loc="best")
    fig.suptitle(
        "Divergence from the atomic run: median over seeds, with quantile bands", fontsize=11
    )
    _save(fig, path)


def _plot_outcomes(cells: Sequence[_Cell], path: Path) -> None:
    panels = _panels(cells, skip_atomic=False)
    many_notionals = len({c.notional for c in cells}) > 1
    widths = []
    for mode, chains in panels:
        n = sum(1 for c in cells if c.mode == mode and (chains is None or c.chains == chains))
        widths.append(max(n, 2))
    fig = _figure(max(7.5, 0.6 * sum(widths) + 1.6 * len(panels)), 5.0)
    axes = fig.subplots(1, len(panels), squeeze=False, width_ratios=widths)[0]
    for ax, (mode, chains) in zip(axes, panels, strict=True):
        mine = [c for c in cells if c.mode == mode and (chains is None or c.chains == chains)]
        mine.sort(key=lambda c: (latency_order(c.latency_label), c.sigma, c.notional))
        bottoms = [0.0] * len(mine)
        shares = [c.outcome_shares() for c in mine]
        outcomes = list(OUTCOMES) + sorted({k for s in shares for k in s} - set(OUTCOMES))
        for outcome in outcomes:
            heights = [100 * s.get(outcome, 0.0) for s in shares]
            ax.bar(
                range(len(mine)),
                heights,
                bottom=bottoms,
                color=_OUTCOME_COLORS.get(outcome, "#555555"),
                label=outcome,
                width=0.75,
            )
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        labels = []
        for c in mine:
            label = f"{c.latency_label}\n{_series_label(c.sigma, c.notional, many_notionals)}"
            labels.append(f"{label}\nn={len(c.rows)}")
        ax.set_xticks(range(len(mine)))
        ax.set_xticklabels(labels, fontsize=7, rotation=90 if len(mine) > 6 else 0)
        ax.set_ylim(0, 100)
        ax.set_ylabel("share of runs (%)")
        ax.set_title(_panel_title(mode, chains), fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=8)
    fig.suptitle("How runs ended, per latency preset and σ", fontsize=11)
    _save(fig, path)


def _time_unit(t_max: float) -> tuple[float, str]:
    for scale, unit in ((86_400.0, "days"), (3_600.0, "hours"), (60.0, "minutes")):
        if t_max >= 2 * scale:
            return scale, unit
    return 1.0, "seconds"


def _pick_run(runs: Sequence[dict[str, Any]], run_key: str | None) -> dict[str, Any] | None:
    """The run to draw: ``run_key``, else the cross-chain (non-local) run with the median
    capital-in-flight integral (grid order breaks ties); without cross-chain runs, the
    median one of the other non-atomic runs."""
    if run_key is not None:
        for row in runs:
            if row["key"] == run_key:
                return row
        raise SweepError(f"no run with key {run_key!r} in the results")
    candidates = [
        r
        for r in runs
        if r["spec"]["mode"] not in LOCAL_MODES
        and math.isfinite(_number(r["metrics"].get("capital_in_flight_usd_s")))
    ]
    if not candidates:  # no bridged runs: a multi-step one-chain run shows more than atomic
        candidates = [r for r in runs if r["spec"]["mode"] != "atomic"] or list(runs)
    ranked = sorted(
        enumerate(candidates),
        key=lambda p: (_number(p[1]["metrics"].get("capital_in_flight_usd_s")), p[0]),
    )
    return ranked[(len(ranked) - 1) // 2][1] if ranked else None


def _plot_capital(row: dict[str, Any], record: dict[str, Any] | None, path: Path) -> str:
    """Plot one run's capital-in-flight curve; returns a caption."""
    fig = _figure(9.0, 4.2)
    ax = fig.subplots()
    spec = row["spec"]
    series = [(float(t), float(v)) for t, v in (record or {}).get("capital_in_flight", [])]
    timeline = (record or {}).get("timeline", [])
    t_max = max([t for t, _ in series] + [_number(e.get("t")) for e in timeline] + [1.0])
    t_max = t_max if math.isfinite(t_max) else 1.0
    scale, unit = _time_unit(t_max)
    if series:
        xs = [t / scale for t, _ in series]
        ys = [v for _, v in series]
        ax.step(xs, ys, where="post", color="#1f77b4", linewidth=1.8)
        ax.fill_between(xs, ys, step="post", color="#1f77b4", alpha=0.2)
    else:
        ax.text(0.5, 0.5, "no capital in flight in this run", ha="center", transform=ax.transAxes)
    y_top = max([v for _, v in series] + [1.0])
    ax.set_ylim(0, y_top * 1.25)
    # Step and hop events; ``holdings`` is the end-of-run valuation, not an event on chain.
    events = [
        e for e in timeline if math.isfinite(_number(e.get("t"))) and e.get("event") != "holdings"
    ]
    shown = events if len(events) <= 30 else events[:30]
    for event in shown:
        x = _number(event["t"]) / scale
        ax.axvline(x, color="black", alpha=0.3, linewidth=0.8, linestyle=":")
        chain = str(event.get("chain", ""))
        label = str(event.get("event", ""))
        if chain and chain != "-":
            label = f"{chain}: {label}"
        ax.annotate(
            label,
            (x, y_top * 1.22),
            xytext=(2, 0),
            textcoords="offset points",
            fontsize=6.5,
            rotation=90,
            ha="left",
            va="top",
            color="#333333",
        )
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_xlabel(f"time since the first step ({unit})")
    ax.set_ylabel("value in transit (USD)")
    ax.grid(alpha=0.3)
    metrics = row["metrics"]
    layout = (
        "one chain"
        if spec["mode"] in LOCAL_MODES
        else f"{spec['chains']} chains, {spec['latency']}"
    )
    title = (
        f"Capital in flight: {spec['mode']}, {layout}, σ = {spec['sigma']:g}, seed {spec['seed']}"
    )
    ax.set_title(title, fontsize=10)
    _save(fig, path)
    integral = _number(metrics.get("capital_in_flight_usd_s"))
    peak = _number(metrics.get("capital_in_flight_peak_usd"))
    return (
        f"Run {row['key']}: outcome {metrics.get('outcome')}, peak ${peak:,.0f} in transit, "
        f"integral {integral:,.0f} USD·s, end-to-end latency "
        f"{_number(metrics.get('latency_s')):,.1f} s."
    )


# ---------------------------------------------------------------------------------------
# Table and page
# ---------------------------------------------------------------------------------------

_SUMMARY_HEADERS = (
    "mode",
    "chains",
    "latency",
    "sigma",
    "notional",
    "runs",
    "divergence_bps_p10",
    "divergence_bps_median",
    "divergence_bps_p90",
    "complete_pct",
    "partial_pct",
    "reverted_pct",
    "liquidated_pct",
    "latency_s_median",
    "capital_in_flight_peak_usd_median",
    "capital_in_flight_usd_s_median",
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


def _summary_rows(cells: Sequence[_Cell]) -> list[list[str]]:
    rows = []
    for c in cells:
        p10, med, p90 = _quantiles(c.values("divergence_bps"), (0.1, 0.5, 0.9))
        shares = c.outcome_shares()
        rows.append(
            [
                c.mode,
                str(c.chains) if not c.is_local else "1",
                c.latency_label,
                f"{c.sigma:g}",
                f"{c.notional:g}",
                str(len(c.rows)),
                _fmt(p10),
                _fmt(med),
                _fmt(p90),
                f"{100 * shares.get('complete', 0):.0f}",
                f"{100 * shares.get('partial', 0):.0f}",
                f"{100 * shares.get('reverted', 0):.0f}",
                f"{100 * shares.get('liquidated', 0):.0f}",
                _fmt(_quantiles(c.values("latency_s"), (0.5,))[0]),
                _fmt(_quantiles(c.values("capital_in_flight_peak_usd"), (0.5,))[0]),
                _fmt(_quantiles(c.values("capital_in_flight_usd_s"), (0.5,))[0]),
                _fmt(_quantiles(c.values("fronted_usdc"), (0.5,))[0]),
                _fmt(_quantiles(c.values("min_health_factor"), (0.1,))[0]),
            ]
        )
    return rows


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
    runs, arguments = load_results(folder)
    target = Path(out) if out is not None else folder / REPORT_DIR
    target.mkdir(parents=True, exist_ok=True)
    cells = _cells(runs)

    divergence_png = target / "divergence.png"
    outcomes_png = target / "outcomes.png"
    capital_png = target / "capital_in_flight.png"
    _plot_divergence(cells, divergence_png)
    _plot_outcomes(cells, outcomes_png)
    chosen = _pick_run(runs, run_key)
    assert chosen is not None  # load_results refuses an empty results file
    records = load_runs(folder)
    capital_caption = _plot_capital(chosen, records.get(chosen["key"]), capital_png)

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
        ),
        encoding="utf-8",
    )
    return Report(
        folder=target,
        index=index,
        images=(divergence_png, outcomes_png, capital_png),
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
) -> str:
    modes = _mode_order(r["spec"]["mode"] for r in runs)
    args_rows = (
        [[k, json.dumps(v)] for k, v in sorted(arguments.items())]
        if arguments
        else [["(not recorded)", ""]]
    )
    presets = ", ".join(f"<code>{p}</code> ({_TYPICAL[p]})" for p in LATENCY_PRESETS)
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
        "seeds: divergence quantiles (bps of notional), outcome shares (%), medians of "
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
