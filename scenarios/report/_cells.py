"""Sweep results read back and grouped: one cell per (mode, layout, latency, σ, notional)
with its runs across seeds."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.model import LADDER, OUTCOMES
from scenarios.sweep import (
    LOCAL_MODES,
    PRESET_FREE_MODES,
    RESULTS_JSON,
    RESULTS_PARQUET,
    RUNS_FILE,
    SPEC_FIELDS,
    SWEEP_FILE,
    SweepError,
    component_column,
    dict_metrics,
    latency_order,
    load_results,
    structured_spec_fields,
)

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas

__all__ = [
    "Cell",
    "cells_of",
    "cost_label",
    "mode_order",
    "read_results",
    "rows_of",
    "quantiles",
    "to_number",
    "TYPICAL_LATENCY",
]

#: Typical latency of each preset, for axis labels and the page.
TYPICAL_LATENCY = {
    "same-block": "0 s",
    "interop": "~2 s",
    "intent-fill": "2–9 s",
    "fast-attestation": "8–20 s",
    "finality": "13–19 min",
    "optimistic-canonical": "~7 days",
}


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def read_results(folder: Path | str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The runs (key, spec, metrics) of a folder and the arguments that produced them.

    A finished sweep is read from ``results.parquet`` (:func:`scenarios.load_results`; a
    folder from before that file existed, from ``results.json``); a ``testbed demo``
    folder has only ``runs.jsonl`` (no ``sweep.json``), read in file order. A sweep folder
    without results has not finished: the error says to resume it.
    """
    folder = Path(folder)
    frame = load_results(folder)
    if frame.empty:
        source = next(
            (name for name in (RESULTS_PARQUET, RESULTS_JSON) if (folder / name).exists()),
            RUNS_FILE,
        )
        raise SweepError(f"{folder / source} holds no runs")
    runs = rows_of(frame)
    arguments = frame.attrs.get("arguments")
    sweep_file = folder / SWEEP_FILE
    if arguments is None and sweep_file.exists():
        arguments = json.loads(sweep_file.read_text(encoding="utf-8")).get("sweep")
    return runs, arguments


def rows_of(frame: pandas.DataFrame) -> list[dict[str, Any]]:
    """The DataFrame of :func:`scenarios.load_results` back as ``{key, spec, metrics}``
    rows; missing values (``NaN``, ``<NA>``) become ``None``."""
    spec_columns = [c for c in SPEC_FIELDS if c in frame.columns]
    metric_columns = [c for c in frame.columns if c != "key" and c not in SPEC_FIELDS]
    from pandas import NA

    structured = structured_spec_fields()
    # the flattened columns of each table-valued metric: (metric, column, entry)
    flattened = []
    for metric in dict_metrics():
        head, _, unit = metric.partition("_components_")
        for column in metric_columns:
            if column.startswith(head + "_") and column.endswith("_" + unit):
                entry = column[len(head) + 1 : -len(unit) - 1]
                if entry and component_column(metric, entry) == column:
                    flattened.append((metric, column, entry))
    rows = []
    for record in frame.to_dict(orient="records"):
        clean = {k: _plain(v, NA) for k, v in record.items()}
        spec = {c: clean[c] for c in spec_columns}
        for c in structured & spec.keys():
            if isinstance(spec[c], str):
                spec[c] = json.loads(spec[c])
        metrics = {c: clean[c] for c in metric_columns}
        for metric, column, entry in flattened:
            table = metrics.setdefault(metric, {})
            if metrics[column] is not None:
                table[entry] = metrics[column]
        rows.append({"key": clean["key"], "spec": spec, "metrics": metrics})
    return rows


def _plain(value: Any, na: Any) -> Any:
    """A DataFrame cell as a plain Python value (numpy scalars unwrapped, missing → None)."""
    if value is None or value is na:
        return None
    item = getattr(value, "item", None)
    if item is not None:
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def quantiles(values: Sequence[float], qs: Sequence[float]) -> list[float]:
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


def mode_order(modes: Iterable[str]) -> list[str]:
    """``modes`` in ladder order (:data:`scenarios.LADDER`), plugin modes after, by name."""
    known = LADDER
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
        cost_label(spec),
        settlement_label(spec),
    )


def settlement_label(spec: dict[str, Any]) -> str:
    """The run's reorg process and confirmation policy (``reorgs=… conf=…``; "" when it
    has neither)."""
    parts = []
    if spec.get("reorgs"):
        parts.append(f"reorgs={spec['reorgs']}")
    if spec.get("confirmations"):
        parts.append(f"conf={spec['confirmations']}")
    return " ".join(parts)


def cost_label(spec: dict[str, Any]) -> str:
    """The cost profile of a run as compact JSON ("" for the default model)."""
    cost = spec.get("cost")
    return json.dumps(cost, sort_keys=True, separators=(",", ":")) if cost else ""


def _mode_rank(mode: str) -> int:
    known = LADDER
    return known.index(mode) if mode in known else len(known)


@dataclass(frozen=True)
class Cell:
    """All seeds of one grid cell."""

    mode: str
    chains: int
    latency: str
    sigma: float
    notional: float
    rows: tuple[dict[str, Any], ...]
    cost: str = ""  # the cost profile (:func:`cost_label`)
    settlement: str = ""  # reorgs and confirmations (:func:`settlement_label`)

    def values(self, metric: str) -> list[float]:
        return [to_number(r["metrics"].get(metric)) for r in self.rows]

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
        if self.is_local:
            return "one chain"
        return "any preset" if self.mode in PRESET_FREE_MODES else self.latency

    @property
    def x_label(self) -> str:
        """The cell's place on the figures' x axes: its latency label, followed by its
        reorgs and confirmations when it has any."""
        base = self.latency_label
        return f"{base}{SETTLEMENT_SEP}{self.settlement}" if self.settlement else base


#: Between a latency preset and the settlement options in a cell's label.
SETTLEMENT_SEP = "\n"


def label_order(label: str) -> tuple[int, str]:
    """Sort key of a cell label: its preset's latency order, then the label."""
    return (latency_order(label.split(SETTLEMENT_SEP)[0]), label)


def cells_of(runs: Sequence[dict[str, Any]]) -> list[Cell]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in runs:
        groups.setdefault(_cell_key(row["spec"]), []).append(row)
    cells = []
    for key in sorted(groups):
        first = groups[key][0]["spec"]
        cells.append(
            Cell(
                mode=first["mode"],
                chains=first["chains"],
                latency=first["latency"],
                sigma=first["sigma"],
                notional=first["notional"],
                rows=tuple(groups[key]),
                cost=cost_label(first),
                settlement=settlement_label(first),
            )
        )
    return cells
