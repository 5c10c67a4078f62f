"""The report's cost figures (Agg canvas, no pyplot): the all-in cost against latency with its
spread across seeds, and its components stacked per latency preset.

- ``cost.png``: per (mode, layout) panel and σ, the mean all-in cost across seeds (line),
  the 25–75 % and 5–95 % bands, and the 5 % CVaR (mean of the worst 5 % of seeds, ``x``);
- ``cost_components.png``: per (mode, layout, σ) panel, one bar per latency preset stacking
  the mean of each component (costs above zero, savings below) and the mean total (black
  dot): the components of a bar sum to that dot.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scenarios.model import COMPONENTS, cvar
from scenarios.report._cells import TYPICAL_LATENCY, Cell, label_order, quantiles
from scenarios.report._figures import _figure, _panel_title, _panels, _save, _wants_symlog

__all__ = ["component_means", "plot_components", "plot_cost"]

_SIGMA_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b")
_COMPONENT_COLORS = {
    "amm_fees": "#8c564b",
    "flash_fees": "#bcbd22",
    "gas": "#7f7f7f",
    "bridge_fees": "#1f77b4",
    "funding": "#2ca02c",
    "solver_premium": "#9467bd",
    "latency_risk": "#ff7f0e",
    "execution": "#17becf",
    "unwind": "#d62728",
    "settlement": "#e377c2",
}


def _costs(cell: Cell) -> list[float]:
    out = []
    for row in cell.rows:
        value = row["metrics"].get("all_in_cost_bps")
        if isinstance(value, int | float) and math.isfinite(value):
            out.append(float(value))
    return out


def component_means(cell: Cell) -> dict[str, float]:
    """Mean of each component over the cell's runs (bps); they sum to the mean all-in cost."""
    out = {}
    for name in COMPONENTS:
        values = [
            float((r["metrics"].get("cost_components_bps") or {}).get(name, math.nan))
            for r in cell.rows
        ]
        finite = [v for v in values if math.isfinite(v)]
        out[name] = statistics.fmean(finite) if finite else math.nan
    return out


def _xticks(ax: object, latencies: Sequence[str]) -> None:
    ax.set_xticks(range(len(latencies)))  # type: ignore[attr-defined]
    ax.set_xticklabels(  # type: ignore[attr-defined]
        [
            f"{lat}\n({TYPICAL_LATENCY[lat]})" if lat in TYPICAL_LATENCY else lat
            for lat in latencies
        ],
        fontsize=8,
        rotation=20 if len(latencies) > 3 else 0,
    )
    ax.set_xlim(-0.6, len(latencies) - 0.4)  # type: ignore[attr-defined]


def plot_cost(cells: Sequence[Cell], path: Path) -> None:
    """``cost.png`` (module docstring)."""
    panels = _panels(cells, skip_atomic=True)
    fig = _figure(max(7.5, 5.2 * len(panels)), 4.8)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    sigmas = sorted({(c.sigma, c.cost) for c in cells})
    colors = {s: _SIGMA_COLORS[i % len(_SIGMA_COLORS)] for i, s in enumerate(sigmas)}
    for ax, (mode, chains) in zip(axes, panels, strict=True):
        mine = [c for c in cells if c.mode == mode and (chains is None or c.chains == chains)]
        latencies = sorted({c.x_label for c in mine}, key=label_order)
        x_of = {lat: i for i, lat in enumerate(latencies)}
        values: list[float] = []
        centres: list[float] = []
        for i, sigma in enumerate(sigmas):
            line = sorted(
                (c for c in mine if (c.sigma, c.cost) == sigma and _costs(c)),
                key=lambda c: x_of[c.x_label],
            )
            if not line:
                continue
            offset = (i - (len(sigmas) - 1) / 2) * 0.12
            xs = [x_of[c.x_label] + offset for c in line]
            q = [quantiles(_costs(c), (0.05, 0.25, 0.75, 0.95)) for c in line]
            means = [statistics.fmean(_costs(c)) for c in line]
            tails = [cvar(_costs(c), 0.05) for c in line]
            values += [v for row in q for v in row] + tails
            centres += means
            lo5, lo25, hi75, hi95 = (list(col) for col in zip(*q, strict=True))
            color = colors[sigma]
            if len(xs) == 1:
                xs_band = [xs[0] - 0.15, xs[0] + 0.15]
                lo5, lo25, hi75, hi95 = ([v[0]] * 2 for v in (lo5, lo25, hi75, hi95))
            else:
                xs_band = xs
            ax.fill_between(xs_band, lo5, hi95, color=color, alpha=0.15, linewidth=0)
            ax.fill_between(xs_band, lo25, hi75, color=color, alpha=0.3, linewidth=0)
            label = f"σ = {sigma[0]:g}" + (f", cost {sigma[1]}" if sigma[1] else "")
            ax.plot(xs, means, color=color, marker="o", markersize=4, label=label)
            ax.plot(xs, tails, color=color, marker="x", linestyle="none", markersize=6)
        ax.axhline(0, color="black", linewidth=0.8, alpha=0.6)
        _xticks(ax, latencies)
        if _wants_symlog(values, centres):
            ax.set_yscale("symlog", linthresh=1)
        ax.set_title(_panel_title(mode, chains), fontsize=10)
        ax.set_xlabel("bridge latency preset (typical delay)")
        ax.set_ylabel("all-in cost vs atomic (bps of notional)")
        ax.grid(axis="y", alpha=0.3)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles, _ = axes[0].get_legend_handles_labels()
    handles += [
        Patch(color="gray", alpha=0.45, label="25–75 % of seeds"),
        Patch(color="gray", alpha=0.15, label="5–95 % of seeds"),
        Line2D([], [], color="gray", marker="x", linestyle="none", label="5 % CVaR"),
    ]
    axes[-1].legend(handles=handles, fontsize=8, loc="best")
    fig.suptitle("All-in cost of coordination: mean over seeds, bands and tail", fontsize=11)
    _save(fig, path)


def plot_components(cells: Sequence[Cell], path: Path) -> None:
    """``cost_components.png`` (module docstring)."""
    panels = [
        (mode, chains, sigma, cost)
        for mode, chains in _panels(cells, skip_atomic=True)
        for sigma, cost in sorted({(c.sigma, c.cost) for c in cells if c.mode == mode})
    ]
    fig = _figure(max(7.5, 4.6 * len(panels)), 5.0)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (mode, chains, sigma, cost) in zip(axes, panels, strict=True):
        mine = sorted(
            (
                c
                for c in cells
                if c.mode == mode
                and (c.sigma, c.cost) == (sigma, cost)
                and (chains is None or c.chains == chains)
            ),
            key=lambda c: label_order(c.x_label),
        )
        for x, cell in enumerate(mine):
            means = component_means(cell)
            up = down = 0.0
            for name in COMPONENTS:
                v = means[name]
                if not math.isfinite(v) or v == 0:
                    continue
                bottom = up if v > 0 else down
                ax.bar(x, v, bottom=bottom, color=_COMPONENT_COLORS[name], width=0.6)
                if v > 0:
                    up += v
                else:
                    down += v
            total = math.fsum(v for v in means.values() if math.isfinite(v))
            ax.plot([x], [total], marker="o", color="black", markersize=5)
        ax.axhline(0, color="black", linewidth=0.8, alpha=0.6)
        _xticks(ax, [c.x_label for c in mine])
        title = f"{_panel_title(mode, chains)} · σ = {sigma:g}" + (f"\ncost {cost}" if cost else "")
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("mean cost vs atomic (bps of notional)")
        ax.grid(axis="y", alpha=0.3)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Any] = [
        Patch(color=_COMPONENT_COLORS[n], label=n.replace("_", " ")) for n in COMPONENTS
    ]
    handles.append(Line2D([], [], color="black", marker="o", linestyle="none", label="total"))
    axes[-1].legend(handles=handles, fontsize=7, loc="upper left")
    fig.suptitle("All-in cost by component, per latency preset (means over seeds)", fontsize=11)
    _save(fig, path)
