"""The run interface: validation, keys, JSON form, the runner registry."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from scenarios import (
    LATENCY_PRESETS,
    METRIC_KEYS,
    RunResult,
    RunSpec,
    ScenarioConfigError,
    get_runner,
    register_runner,
    registered_modes,
    run,
)
from scenarios.model._runspec import _RUNNERS


def _metrics(**overrides: float | int | str) -> dict[str, float | int | str]:
    base: dict[str, float | int | str] = dict.fromkeys(METRIC_KEYS, 0.0)
    base.update(outcome="complete", failed_step="", transactions=1, gas=21_000)
    base.update(overrides)
    return base


def test_default_spec_is_valid() -> None:
    RunSpec().validate()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"latency": "warp"}, "latency='warp' is not a known latency preset; known: same-block"),
        ({"mode": "teleport"}, "mode='teleport' is not a known mode; known: atomic"),
        ({"chains": 6}, "chains=6 must be 2 to 5"),
        ({"sigma": -0.1}, "sigma=-0.1 must be in [0, 10]"),
        ({"sigma": math.nan}, "sigma=nan must be finite"),
        ({"notional": 0}, "notional=0 must be positive"),
        ({"target_ltv": 1.2}, "target_ltv=1.2 must be in (0, 1)"),
        ({"slippage": "1%"}, "slippage='1%' must be a number"),
        ({"seed": -1}, "seed=-1 must be a non-negative integer"),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_validate_names_the_bad_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioConfigError, match="invalid RunSpec") as info:
        RunSpec(**fields).validate()  # type: ignore[arg-type]
    assert message in str(info.value)


def test_validate_reports_every_bad_field_at_once() -> None:
    with pytest.raises(ScenarioConfigError) as info:
        RunSpec(latency="x", target_ltv=2.0, chains=6).validate()
    text = str(info.value)
    assert "latency='x'" in text and "target_ltv=2.0" in text and "chains=6" in text


def test_every_preset_name_is_accepted() -> None:
    for name in LATENCY_PRESETS:
        RunSpec(latency=name).validate()


def test_from_mapping_rejects_unknown_keys() -> None:
    with pytest.raises(ScenarioConfigError, match="unknown RunSpec key.*sigmaa"):
        RunSpec.from_mapping({"sigmaa": 0.5})


def test_key_is_stable_distinct_and_filesystem_safe() -> None:
    a, b = RunSpec(sigma=0.8), RunSpec(sigma=0.80000001)
    assert a.key() == RunSpec(sigma=0.8).key()
    assert a.key() != b.key()
    assert all(c.isalnum() or c in "._+-" for c in a.key())
    assert a.key().startswith("atomic-c3-fast-attestation-s0.8-n100000.0-seed0-")


def test_result_json_is_deterministic_and_round_trips() -> None:
    result = RunResult(
        RunSpec(),
        _metrics(net_value_usdc=1 / 3, min_health_factor=math.inf),
        capital_in_flight=[(0.0, 1 / 7)],
        timeline=[{"t": 0.1 + 0.2, "chain": "A", "event": "start"}],
    )
    data = result.to_json()
    assert data["metrics"]["net_value_usdc"] == 0.333333333
    assert data["metrics"]["min_health_factor"] is None  # non-finite → null
    assert data["timeline"][0]["t"] == 0.3
    assert list(data["metrics"]) == list(METRIC_KEYS)
    assert result.dumps() == json.dumps(data, sort_keys=True, separators=(",", ":"))
    again = RunResult.from_json(json.loads(result.dumps()))
    assert again.dumps() == result.dumps()


def test_result_requires_every_metric() -> None:
    metrics = _metrics()
    del metrics["gas"]
    with pytest.raises(ValueError, match="missing \\['gas'\\]"):
        RunResult(RunSpec(), metrics)


def test_builtin_modes_are_registered() -> None:
    # the coordination ladder's order, strongest guarantee first
    assert registered_modes()[:6] == (
        "atomic",
        "superblock",
        "shared-sequencer",
        "intent",
        "bridged",
        "sequential",
    )
    assert get_runner("atomic").name == "atomic"
    assert get_runner("superblock").name == "superblock"
    assert get_runner("shared-sequencer").name == "shared-sequencer"
    assert get_runner("sequential").name == "sequential"
    assert get_runner("bridged").name == "bridged"


#: Run in a fresh interpreter: this session has looked runners up already.
_IMPORT_REGISTERS_NOTHING = """
import scenarios
from scenarios.model._runspec import _RUNNERS
assert dict(_RUNNERS) == {}, _RUNNERS
runner = scenarios.get_runner("sequential")
assert sorted(_RUNNERS) == sorted(scenarios.MODES), _RUNNERS
assert scenarios.get_runner("sequential") is runner
print("ok")
"""

_TAKEOVER_BEFORE_FIRST_LOOKUP = """
import scenarios
from scenarios import ScenarioConfigError

class Mine:
    name = "atomic"
    def run(self, world, spec): ...

mine = Mine()
try:
    scenarios.register_runner("atomic", mine)
except ScenarioConfigError as exc:
    assert "already registered for mode 'atomic'" in str(exc)
else:
    raise AssertionError("a built-in mode was taken without replace=True")
scenarios.register_runner("atomic", mine, replace=True)
assert scenarios.get_runner("atomic") is mine
assert scenarios.get_runner("bridged").name == "bridged"
print("ok")
"""


@pytest.mark.parametrize(
    "script",
    [_IMPORT_REGISTERS_NOTHING, _TAKEOVER_BEFORE_FIRST_LOOKUP],
    ids=["import-registers-nothing", "takeover-before-first-lookup"],
)
def test_builtin_runners_join_on_first_lookup(script: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


class _EchoRunner:
    """A plugin mode: reports the atomic runner's result under its own name."""

    name = "echo"

    def run(self, world: object, spec: RunSpec) -> RunResult:
        result = get_runner("atomic").run(world, spec)  # type: ignore[arg-type]
        return RunResult(spec, result.metrics, result.capital_in_flight, result.timeline)


def test_plugin_runner_joins_without_touching_the_others(scenario_world: object) -> None:
    register_runner("echo", _EchoRunner())
    try:
        assert "echo" in registered_modes()
        result = run(RunSpec(mode="echo", sigma=0.0), world=scenario_world)  # type: ignore[arg-type]
        assert result.spec.mode == "echo"
        assert result.metrics["divergence_usdc"] == 0.0
        with pytest.raises(ScenarioConfigError, match="already registered"):
            register_runner("echo", _EchoRunner())
    finally:
        _RUNNERS.pop("echo", None)


def test_runner_names_are_checked() -> None:
    with pytest.raises(ScenarioConfigError, match="runner name 'Bad Name'"):
        register_runner("Bad Name", _EchoRunner())
