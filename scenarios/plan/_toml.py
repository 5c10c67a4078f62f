"""Loading scenarios: a built-in's name or a TOML file (stdlib ``tomllib``).

A scenario file is the mapping :meth:`Scenario.from_mapping` takes, optionally with a
``[placement]`` table (venue = "A", ..., start = "B") used when no placement is given::

    name = "lever"
    doc = "swap, supply, borrow at LTV 0.3"
    [venues]
    amm = "amm"
    lending = "lending"
    [[steps]]
    kind = "swap"
    sell = "USDC"
    buy = "WETH"
    [[steps]]
    kind = "supply"
    [[steps]]
    kind = "borrow"
    amount = "ltv:0.3"

``examples/scenarios/`` documents every field.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from scenarios.plan._builtins import BUILTINS, get_builtin
from scenarios.plan._model import Scenario, ScenarioError
from scenarios.plan._placement import Placement

__all__ = ["load_scenario", "load_scenario_file"]


def load_scenario_file(path: str | Path) -> tuple[Scenario, Placement | None]:
    """The scenario in TOML file ``path`` and its ``[placement]`` table, if any."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"scenario file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"scenario file {str(path)!r}: invalid TOML: {exc}") from exc
    raw_placement = data.pop("placement", None)
    try:
        scenario = Scenario.from_mapping(data)
        placement = None if raw_placement is None else Placement.from_mapping(raw_placement)
    except ScenarioError as exc:
        raise ScenarioError(f"scenario file {str(path)!r}: {exc}") from exc
    return scenario, placement


def load_scenario(name_or_path: str) -> tuple[Scenario, Placement | None]:
    """A built-in by name, or a TOML file by path (anything ending in ``.toml`` or
    containing a path separator)."""
    if name_or_path in BUILTINS:
        return get_builtin(name_or_path), None
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        return load_scenario_file(name_or_path)
    return get_builtin(name_or_path), None
