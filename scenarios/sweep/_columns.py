"""Columnar results: ``results.parquet`` with one typed column per spec field and metric,
and :func:`load_results`, which reads it into a pandas DataFrame (a notebook's first line).

Columns, in order:

- ``key`` (string): :meth:`RunSpec.key`;
- the spec fields (``SPEC_FIELDS``), typed from the :class:`RunSpec` annotations
  (``str`` → string, ``int`` → int64, ``float`` → float64, ``bool`` → bool);
- every metric: :data:`METRIC_TYPES` names the type of the known ones; a metric not named
  there gets its type from its values (all ``int`` → int64, numbers → float64, strings →
  string, booleans → bool). A *dict-valued* metric is flattened into one float64 column per
  entry: ``<head>_components_<unit>`` → ``<head>_<name>_<unit>`` (so
  ``cost_components_bps = {"gas": 1.5, "bridge": 3}`` gives ``cost_bridge_bps`` and
  ``cost_gas_bps``, names sorted), any other ``<metric>`` → ``<metric>_<name>``; a run
  without an entry has null there.

``null`` in the JSON (a missing value, or a non-finite float, which ``RunResult.to_json``
writes as ``null``) is a parquet null. :func:`load_results` maps the types to pandas so
nothing is lost: float64 columns hold ``NaN`` for null, int64 columns are pandas'
nullable ``Int64`` (``<NA>``), strings ``StringDtype`` (``<NA>``), booleans ``boolean``.

The file is written from a pyarrow table (no pandas metadata, no timestamps): the same
records give the same bytes with the same pyarrow version. Its schema metadata holds the
sweep arguments (``testbed.arguments``, JSON) and the format version.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.model import METRIC_KEYS, RunSpec
from scenarios.sweep._spec import SweepError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pyarrow

__all__ = [
    "METRIC_TYPES",
    "RESULTS_PARQUET",
    "build_table",
    "ARGUMENTS_META",
    "component_column",
    "dict_metrics",
    "structured_spec_fields",
    "pa_type",
    "write_parquet",
]

RESULTS_PARQUET = "results.parquet"
#: Column types of the known metrics that are not float64.
METRIC_TYPES: dict[str, str] = {
    "outcome": "string",
    "failed_step": "string",
    "risk_bearer": "string",
    "transactions": "int64",
    "gas": "int64",
    "reorg_count": "int64",
}
ARGUMENTS_META = b"testbed.arguments"
_FORMAT_META = b"testbed.format"
_FORMAT = "1"
_ANNOTATION_TYPES = {"str": "string", "int": "int64", "float": "float64", "bool": "bool"}


# ---------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------


def _spec_types() -> dict[str, str]:
    types = {}
    for f in dataclasses.fields(RunSpec):
        annotation = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        types[f.name] = _ANNOTATION_TYPES.get(annotation, "")
    return types


def _infer(name: str, values: Sequence[Any]) -> str:
    """The column type of values with no declared type (``""`` for all-null: float64)."""
    present = [v for v in values if v is not None]
    if not present:
        return "float64"
    if all(isinstance(v, bool) for v in present):
        return "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int64"
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float64"
    if all(isinstance(v, str) for v in present):
        return "string"
    kinds = sorted({type(v).__name__ for v in present})
    raise SweepError(f"results column {name!r} mixes value types ({', '.join(kinds)})")


def component_column(metric: str, name: str) -> str:
    """The column of entry ``name`` of the dict-valued metric ``metric``:
    ``cost_components_bps``, ``gas`` → ``cost_gas_bps``; ``extras``, ``x`` → ``extras_x``."""
    head, sep, unit = metric.partition("_components_")
    if sep and head and unit:
        return f"{head}_{name}_{unit}"
    return f"{metric}_{name}"


def _check(name: str, kind: str, value: Any) -> Any:
    """``value`` as a cell of a column of type ``kind``, or a clear error."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    ok = {
        "string": isinstance(value, str),
        "int64": isinstance(value, int) and not isinstance(value, bool),
        "float64": isinstance(value, int | float) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
    }[kind]
    if not ok:
        raise SweepError(f"results column {name!r} ({kind}) got {value!r}")
    return float(value) if kind == "float64" else value


def build_table(
    records: Sequence[dict[str, Any]], *, arguments: dict[str, Any] | None = None
) -> pyarrow.Table:
    """The results table of ``records`` (:meth:`RunResult.to_json` dicts, in row order)."""
    import pyarrow as pa

    columns: dict[str, tuple[str, list[Any]]] = {}
    columns["key"] = ("string", [RunSpec.from_mapping(r["spec"]).key() for r in records])
    for name, kind in _spec_types().items():
        values = [r["spec"].get(name) for r in records]
        if not kind and any(isinstance(v, dict | list | tuple) for v in values):
            # a structured spec field (the cost overrides): its canonical JSON text
            values = [None if v is None else json.dumps(v, sort_keys=True) for v in values]
        columns[name] = (kind or _infer(name, values), values)
    metric_names = list(METRIC_KEYS)
    for record in records:  # metrics beyond METRIC_KEYS (plugins), first-seen order
        metric_names.extend(k for k in record["metrics"] if k not in metric_names)
    for metric in metric_names:
        values = [r["metrics"].get(metric) for r in records]
        if any(isinstance(v, dict) for v in values):
            if not all(v is None or isinstance(v, dict) for v in values):
                raise SweepError(f"results column {metric!r} mixes tables and plain values")
            entries = sorted({k for v in values if v for k in v})
            for entry in entries:
                column = component_column(metric, entry)
                cells = [v.get(entry) if v else None for v in values]
                columns[column] = ("float64", cells)
            continue
        columns[metric] = (METRIC_TYPES.get(metric) or _infer(metric, values), values)
    arrow_type = {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
    }
    arrays, fields = [], []
    for name, (kind, values) in columns.items():
        cells = [_check(name, kind, v) for v in values]
        arrays.append(pa.array(cells, type=arrow_type[kind]))
        fields.append(pa.field(name, arrow_type[kind]))
    metadata = {
        _FORMAT_META: _FORMAT.encode(),
        ARGUMENTS_META: json.dumps(arguments, sort_keys=True).encode(),
    }
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))


def write_parquet(
    path: Path, records: Sequence[dict[str, Any]], *, arguments: dict[str, Any] | None = None
) -> None:
    """Write ``records`` to the parquet file ``path`` (atomically: a temporary file, then
    rename)."""
    import pyarrow.parquet as pq

    table = build_table(records, arguments=arguments)
    tmp = path.with_name(path.name + ".tmp")
    # No statistics or page index: fewer bytes that depend on writer internals, and the
    # files are read whole.
    pq.write_table(table, tmp, compression="zstd", write_statistics=False)
    Path(tmp).replace(path)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


def pa_type(kind: str) -> pyarrow.DataType:
    import pyarrow as pa

    return {"int64": pa.int64(), "string": pa.string(), "bool": pa.bool_()}[kind]


def structured_spec_fields() -> frozenset[str]:
    """Spec fields with no scalar column type: stored as JSON text (see :func:`build_table`)."""
    return frozenset(name for name, kind in _spec_types().items() if not kind)


def dict_metrics() -> tuple[str, ...]:
    """The known metrics whose value is a table (``X_components_Y``), flattened into
    one column per entry by :func:`build_table`."""
    return tuple(m for m in METRIC_KEYS if "_components_" in m)
