"""The sweep folder's files: written atomically, read back on resume, results in grid order.

Files in the output folder:

- ``sweep.json``: the sweep arguments (``SweepSpec.to_json``). A resume refuses a folder
  whose arguments differ, naming the differing fields. The worker count is not an argument
  of the result and may change between sessions.
- ``runs.jsonl``: one line per finished run, :meth:`RunResult.dumps` (canonical JSON: spec,
  metrics, capital-in-flight series, timeline), in completion order. A resumed sweep skips
  every spec whose :meth:`RunSpec.key` is there; a truncated last line (a crash mid-write)
  is cut off and its run redone.
- ``results.json`` / ``results.csv`` / ``results.parquet``: key, spec fields and metrics
  of every run, in grid order, written once the grid is complete (the parquet file has
  typed columns, see ``_columns.py``; :func:`~scenarios.load_results` reads it). They
  depend only on the arguments, never on worker count, completion order or interruptions.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import fcntl
import io
import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.model import (
    COMPONENTS,
    METRIC_KEYS,
    RunSpec,
)
from scenarios.sweep._columns import (
    ARGUMENTS_META,
    RESULTS_PARQUET,
    build_table,
    pa_type,
    write_parquet,
)
from scenarios.sweep._spec import SweepError, SweepSpec

if TYPE_CHECKING:
    import pandas

__all__ = [
    "FORMAT_VERSION",
    "LOCK_FILE",
    "RESULTS_CSV",
    "RESULTS_JSON",
    "RESULT_FILES",
    "RUNS_FILE",
    "SPEC_FIELDS",
    "SWEEP_FILE",
    "check_arguments",
    "folder_lock",
    "load_results",
    "load_runs",
    "write_results",
]

logger = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
RUNS_FILE = "runs.jsonl"
RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"
LOCK_FILE = ".sweep.lock"
#: The files a finished sweep (or ``testbed demo``) leaves; ``testbed report`` reads them.
RESULT_FILES = (SWEEP_FILE, RUNS_FILE, RESULTS_JSON, RESULTS_CSV, RESULTS_PARQUET)
FORMAT_VERSION = 1
SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(RunSpec))
#: Each field's default: a run's JSON omits ``scenario``/``placement`` when they are these.
_SPEC_DEFAULTS = {f.name: f.default for f in dataclasses.fields(RunSpec)}


# ---------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------


def _dump_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, indent=2, allow_nan=False) + "\n"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_runs(out: Path | str, *, repair: bool = False) -> dict[str, dict[str, Any]]:
    """The finished runs of a folder's ``runs.jsonl`` by spec key (first occurrence wins).

    A last line without its newline is a write cut short by a crash: it is ignored, and
    with ``repair`` cut off the file so new lines start clean. Any other unreadable line is
    an error naming the line.
    """
    path = Path(out) / RUNS_FILE
    if not path.exists():
        return {}
    data = path.read_bytes()
    complete_end = data.rfind(b"\n") + 1
    if complete_end < len(data):
        logger.warning(
            "%s: ignoring a truncated last line (%d bytes); its run is redone",
            path,
            len(data) - complete_end,
        )
        if repair:
            with open(path, "r+b") as f:
                f.truncate(complete_end)
    runs: dict[str, dict[str, Any]] = {}
    for number, raw in enumerate(data[:complete_end].splitlines(), start=1):
        try:
            record = json.loads(raw)
            key = RunSpec.from_mapping(record["spec"]).key()
        except (ValueError, KeyError, TypeError) as exc:
            raise SweepError(
                f"{path}: line {number} is not a run record ({exc}); "
                "remove the line (or the folder) and resume"
            ) from exc
        runs.setdefault(key, record)
    return runs


def check_arguments(out: Path, sweep: SweepSpec, *, resume: bool) -> None:
    path = out / SWEEP_FILE
    wanted: dict[str, Any] = {"format": FORMAT_VERSION, "sweep": sweep.to_json()}
    if path.exists():
        if not resume:
            raise SweepError(
                f"{out} already holds a sweep; pass --resume to continue it, "
                "or choose another --out folder"
            )
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
            found_sweep = found["sweep"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SweepError(f"{path} is not a sweep description ({exc})") from exc
        if found != wanted:
            mine = sweep.to_json()
            diffs = [
                f"{k}: folder has {found_sweep.get(k)!r}, arguments give {mine.get(k)!r}"
                for k in sorted(set(mine) | set(found_sweep))
                if found_sweep.get(k) != mine.get(k)
            ]
            if found.get("format") != FORMAT_VERSION:
                diffs.append(f"format: folder has {found.get('format')!r}")
            raise SweepError(
                f"cannot resume {out}: it was made with different arguments ("
                + "; ".join(diffs)
                + "); use the same arguments or another --out folder"
            )
        return
    stray = [name for name in (RUNS_FILE, RESULTS_JSON) if (out / name).exists()]
    if stray:
        raise SweepError(
            f"{out} has {', '.join(stray)} but no {SWEEP_FILE}; it is not a sweep folder "
            "this command made — choose another --out folder"
        )
    _write_atomic(path, _dump_json(wanted))


#: CSV columns of the metrics: every scalar metric, then ``cost_components_bps`` flattened
#: into one ``cost_<component>_bps`` column per component.
CSV_METRICS = tuple(k for k in METRIC_KEYS if k != "cost_components_bps")
CSV_COMPONENTS = tuple(f"cost_{name}_bps" for name in COMPONENTS)


def _csv_value(value: Any) -> str:
    if value is None or value == ():
        return ""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_results(
    out: Path | str,
    records: Sequence[dict[str, Any]],
    *,
    arguments: dict[str, Any] | None = None,
) -> None:
    """Write ``results.json``, ``results.csv`` and ``results.parquet`` for ``records`` (in
    the order given).

    ``records`` are :meth:`RunResult.to_json` dicts. The files hold each run's key, spec
    and metrics (series and timelines stay in ``runs.jsonl``). ``testbed demo`` calls this
    (after writing its own ``runs.jsonl``) so ``testbed report`` reads both alike;
    ``arguments`` is what produced the runs (the sweep's ``SweepSpec.to_json()``).
    """
    out = Path(out)
    rows = []
    for record in records:
        spec = RunSpec.from_mapping(record["spec"])
        rows.append({"key": spec.key(), "spec": record["spec"], "metrics": record["metrics"]})
    _write_atomic(
        out / RESULTS_JSON,
        _dump_json({"format": FORMAT_VERSION, "arguments": arguments, "runs": rows}),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["key", *SPEC_FIELDS, *CSV_METRICS, *CSV_COMPONENTS])
    for row in rows:
        components = row["metrics"].get("cost_components_bps") or {}
        writer.writerow(
            [
                row["key"],
                *(_csv_value(row["spec"].get(k, _SPEC_DEFAULTS[k])) for k in SPEC_FIELDS),
                *(_csv_value(row["metrics"].get(k)) for k in CSV_METRICS),
                *(_csv_value(components.get(name)) for name in COMPONENTS),
            ]
        )
    _write_atomic(out / RESULTS_CSV, buffer.getvalue())
    write_parquet(out / RESULTS_PARQUET, records, arguments=arguments)


@contextlib.contextmanager
def folder_lock(out: Path) -> Iterator[None]:
    with open(out / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise SweepError(f"another sweep is writing to {out}; wait for it to end") from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_results(folder: Path | str) -> pandas.DataFrame:
    """A finished sweep's results as a DataFrame, one row per run in grid order.

    Reads ``folder/results.parquet``; a folder written before that file existed is read
    from its ``results.json``, and a ``testbed demo`` folder from its ``runs.jsonl`` (file
    order), through the same columns. ``df.attrs["arguments"]`` holds
    the sweep arguments. Types: see the module docstring (float64 with ``NaN``, nullable
    ``Int64``, ``string`` and ``boolean``).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    folder = Path(folder)
    path = folder / RESULTS_PARQUET
    if path.exists():
        try:
            table = pq.read_table(path)
        except (OSError, ValueError) as exc:
            raise SweepError(f"{path} is not a results file ({exc})") from exc
    elif (folder / RESULTS_JSON).exists():
        source = folder / RESULTS_JSON
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
            table = build_table(data["runs"], arguments=data.get("arguments"))
        except (ValueError, KeyError, TypeError) as exc:
            raise SweepError(f"{source} is not a results file ({exc})") from exc
    elif (folder / SWEEP_FILE).exists():
        raise SweepError(
            f"{path} not found: the sweep in {folder} has not finished (run it again with --resume)"
        )
    elif (folder / RUNS_FILE).exists():  # a `testbed demo` folder: runs in file order
        table = build_table(list(load_runs(folder).values()))
    else:
        raise SweepError(
            f"{folder / RESULTS_JSON} not found: {folder} is not a finished sweep or demo folder "
            f"(no {RESULTS_PARQUET}, {RESULTS_JSON} or {RUNS_FILE})"
        )
    mapping = {
        pa_type("int64"): pd.Int64Dtype(),
        pa_type("string"): pd.StringDtype(),
        pa_type("bool"): pd.BooleanDtype(),
    }
    frame = table.to_pandas(types_mapper=mapping.get)
    meta = table.schema.metadata or {}
    raw = meta.get(ARGUMENTS_META)
    frame.attrs["arguments"] = json.loads(raw) if raw else None
    return frame
