"""The report's PNG figures on matplotlib's Agg canvas (no pyplot, no global state): divergence
bands, outcome shares, one run's capital in flight."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scenarios.model import OUTCOMES
from scenarios.report._cells import (
    TYPICAL_LATENCY,
    Cell,
    label_order,
    mode_order,
    quantiles,
    to_number,
)
from scenarios.sweep import (
    LOCAL_MODES,
    SweepError,
)

__all__ = ["pick_run", "plot_capital", "plot_divergence", "plot_outcomes"]

_PNG_METADATA: dict[str, Any] = {"Software": None}
_OUTCOME_COLORS = {
    "complete": "#4c9a5b",
    "partial": "#e0a030",
    "reverted": "#8c8c8c",
    "liquidated": "#c0392b",
}
_SIGMA_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")


# ---------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig: Any, path: Path) -> None:
    fig.savefig(path, format="png", metadata=_PNG_METADATA)


def _panels(cells: Sequence[Cell], *, skip_atomic: bool) -> list[tuple[str, int | None]]:
    """(mode, layout) panels: one per layout for bridged modes, one for a local mode."""
    panels: list[tuple[str, int | None]] = []
    modes = mode_order(c.mode for c in cells)
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


def plot_divergence(cells: Sequence[Cell], path: Path) -> None:
    panels = _panels(cells, skip_atomic=True)
    many_notionals = len({c.notional for c in cells}) > 1
    fig = _figure(max(7.5, 5.2 * len(panels)), 4.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    series_keys = sorted({(c.sigma, c.notional) for c in cells})
    colors = {k: _SIGMA_COLORS[i % len(_SIGMA_COLORS)] for i, k in enumerate(series_keys)}
    for ax, (mode, chains) in zip(axes, panels, strict=True):
        mine = [c for c in cells if c.mode == mode and (chains is None or c.chains == chains)]
        latencies = sorted({c.x_label for c in mine}, key=label_order)
        x_of = {lat: i for i, lat in enumerate(latencies)}
        n_series = len(series_keys)
        width = 0.8 / max(n_series, 1)
        all_values: list[float] = []
        medians: list[float] = []
        for i, key in enumerate(series_keys):
            line = sorted(
                (c for c in mine if (c.sigma, c.notional) == key),
                key=lambda c: x_of[c.x_label],
            )
            if not line:
                continue
            # Spread the σ series a little sideways so bands of a single point stay visible.
            offset = (i - (n_series - 1) / 2) * width * 0.5
            xs = [x_of[c.x_label] + offset for c in line]
            q = [quantiles(c.values("divergence_bps"), (0.1, 0.25, 0.5, 0.75, 0.9)) for c in line]
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
            [
                f"{lat}\n({TYPICAL_LATENCY[lat]})" if lat in TYPICAL_LATENCY else lat
                for lat in latencies
            ],
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


def plot_outcomes(cells: Sequence[Cell], path: Path) -> None:
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
        mine.sort(key=lambda c: (label_order(c.x_label), c.sigma, c.notional))
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
            label = f"{c.x_label}\n{_series_label(c.sigma, c.notional, many_notionals)}"
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


def pick_run(runs: Sequence[dict[str, Any]], run_key: str | None) -> dict[str, Any] | None:
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
        and math.isfinite(to_number(r["metrics"].get("capital_in_flight_usd_s")))
    ]
    if not candidates:  # no bridged runs: a multi-step one-chain run shows more than atomic
        candidates = [r for r in runs if r["spec"]["mode"] != "atomic"] or list(runs)
    ranked = sorted(
        enumerate(candidates),
        key=lambda p: (to_number(p[1]["metrics"].get("capital_in_flight_usd_s")), p[0]),
    )
    return ranked[(len(ranked) - 1) // 2][1] if ranked else None


def plot_capital(row: dict[str, Any], record: dict[str, Any] | None, path: Path) -> str:
    """Plot one run's capital-in-flight curve; returns a caption."""
    fig = _figure(9.0, 4.2)
    ax = fig.subplots()
    spec = row["spec"]
    series = [(float(t), float(v)) for t, v in (record or {}).get("capital_in_flight", [])]
    timeline = (record or {}).get("timeline", [])
    t_max = max([t for t, _ in series] + [to_number(e.get("t")) for e in timeline] + [1.0])
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
        e for e in timeline if math.isfinite(to_number(e.get("t"))) and e.get("event") != "holdings"
    ]
    shown = events if len(events) <= 30 else events[:30]
    for event in shown:
        x = to_number(event["t"]) / scale
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
    integral = to_number(metrics.get("capital_in_flight_usd_s"))
    peak = to_number(metrics.get("capital_in_flight_peak_usd"))
    return (
        f"Run {row['key']}: outcome {metrics.get('outcome')}, peak ${peak:,.0f} in transit, "
        f"integral {integral:,.0f} USD·s, end-to-end latency "
        f"{to_number(metrics.get('latency_s')):,.1f} s."
    )
