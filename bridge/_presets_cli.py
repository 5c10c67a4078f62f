"""``testbed presets``: the latency presets as a table (or JSON), median and p95 from the
models' analytic quantiles."""

from __future__ import annotations

import json
from typing import Any

from bridge.latency import format_seconds, presets_table

__all__ = ["presets_rows", "render_presets"]

HEADERS = ("preset", "distribution", "median", "p95", "confirms", "stands for", "source")


def presets_rows() -> list[dict[str, Any]]:
    """One dict per preset: name, distribution, median and p95 (seconds), what, source, and
    the confirmation policy it assumes."""
    return [row._asdict() for row in presets_table()]


def render_presets(*, as_json: bool = False) -> str:
    """The presets as an aligned text table, or as JSON."""
    rows = presets_rows()
    if as_json:
        return json.dumps(rows, indent=2)
    cells = [list(HEADERS)] + [
        [
            r["name"],
            r["distribution"],
            format_seconds(r["median"]),
            format_seconds(r["p95"]),
            r["confirmation"],
            r["stands_for"],
            r["source"],
        ]
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
