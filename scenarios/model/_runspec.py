"""The run interface shared by the runners, the sweep and the reports.

A :class:`RunSpec` says *what* to run (mode, layout, latency preset, market and scenario
parameters, seed); a :class:`Runner` registered under the mode's name runs it in a
:class:`~scenarios.World` (a devnet with the suites deployed once and reverted between runs)
and returns a :class:`RunResult`: flat metrics (every key of :data:`METRIC_KEYS`), the
capital-in-flight curve and a timeline of step and hop events.

Runners are pluggable: a new coordination design (shared sequencer, intent/solver fill) is a
new class registered with :func:`register_runner`, without touching the others. The
registry is the one piece of process-wide state in the package, like an entry-point table:
it maps names to runner objects and holds no run state. The built-in runners join it from
``scenarios/runners`` (:func:`scenarios.runners.register_builtin_runners`), the first time a
runner is looked up; :func:`scenarios.run` lives there too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bridge import PRESETS, parse_confirmations, parse_reorgs
from chains import ConfigError
from scenarios.model._cost import CostModel, price_run

__all__ = [
    "LATENCY_PRESETS",
    "METRIC_KEYS",
    "LADDER",
    "MODES",
    "OUTCOMES",
    "RunResult",
    "RunSpec",
    "Runner",
    "ScenarioConfigError",
    "add_builtin_runner",
    "lookup_runner",
    "register_runner",
    "registered_modes",
    "with_divergence",
]

#: The coordination ladder, strongest guarantee first: the order of every mode list and
#: table.
LADDER = ("atomic", "superblock", "shared-sequencer", "intent", "bridged", "sequential")

#: The built-in modes, in ladder order. Further modes join through :func:`register_runner`.
MODES = LADDER

#: Bridge latency preset names (DESIGN §7), from the bridge's ``PRESETS`` (the models).
LATENCY_PRESETS: tuple[str, ...] = tuple(PRESETS)

#: Every key of :attr:`RunResult.metrics`, in report order (see ``scenarios/README.md``).
METRIC_KEYS = (
    "net_value_usdc",
    "divergence_usdc",
    "divergence_bps",
    "shortfall_bps",
    "latency_s",
    "user_latency_s",
    "capital_in_flight_usd_s",
    "capital_in_flight_peak_usd",
    "solver_capital_usd_s",
    "risk_bearer",
    "fronted_usdc",
    "fronted_s",
    "outcome",
    "failed_step",
    "stranded_usdc",
    "min_health_factor",
    "lvr_usdc",
    "oracle_gap_max",
    "price_move",
    "transactions",
    "gas",
    "fees_usdc",
    "bridge_fees_usdc",
    "unbacked_usdc",
    "reorg_count",
    "orphaned_usdc",
    "flash_fees_usdc",
    "all_in_cost_bps",
    "cost_components_bps",
)

#: Metrics a runner may leave out (cost metrics before pricing, settlement metrics of a
#: run without reorgs), and their values then.
_UNPRICED: dict[str, Any] = {
    "reorg_count": 0,
    "orphaned_usdc": 0.0,
    "flash_fees_usdc": 0.0,
    "all_in_cost_bps": 0.0,
    "cost_components_bps": dict,
}

#: Values of the ``outcome`` metric.
OUTCOMES = ("complete", "partial", "reverted", "liquidated")

#: The scenario a spec runs when it names none (DESIGN §5).
DEFAULT_SCENARIO = "swap-borrow-refinance"

#: The default price gap of arbitrage scenarios (bps): above the 60.3 bps break-even of two
#: 0.3 % pools (1/γ² − 1), so the arbitrage is profitable at σ = 0.
DEFAULT_ARB_GAP_BPS = 100.0
#: Most chains a world (and so a spec or a placement) may have.
MAX_CHAINS = 5

_MODE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_SIG_DIGITS = 9


class ScenarioConfigError(ValueError):
    """A run or scenario parameter is invalid or unknown; the message names the field."""


@dataclass(frozen=True)
class RunSpec:
    """One run: the mode, the bridged layout, the market and scenario parameters, the seed.

    ``chains`` (2: AMM and CDP on A, lending on B; 3: AMM on A, lending on B, CDP on C) and
    ``latency`` (a bridge latency preset) only shape ``bridged`` runs; other modes record
    them. ``sigma`` and ``drift`` are annualised; ``notional`` is the USDC the user starts
    with; ``target_ltv`` is borrowed value / collateral value; ``slippage`` is the most any
    swap may lose against its quote, as a fraction.

    ``scenario`` is a built-in scenario's name or a scenario TOML file's path (see
    ``scenarios.plan``); ``placement`` puts its venues on chains (``amm=A,lending=B,cdp=C``;
    empty: the file's ``[placement]``, else the default for ``chains``). Both are loaded and
    validated against each other by the runner, before anything runs; they appear in
    :meth:`to_json` (and so in results and keys) only when not the default, so the specs of
    the built-in scenario keep the keys they always had.
    """

    mode: str = "atomic"
    chains: int = 3
    latency: str = "fast-attestation"
    sigma: float = 0.8
    drift: float = 0.0
    notional: float = 100_000.0
    target_ltv: float = 0.5
    slippage: float = 0.01
    seed: int = 0
    scenario: str = DEFAULT_SCENARIO
    placement: str = ""
    #: The run's reorg process on every chain (``bridge.parse_reorgs``: ``""`` none, a
    #: profile name such as ``severe``, or ``rate=R,mean=M,cap=C,dropped=discard``).
    reorgs: str = ""
    #: The relayer's confirmation policy on every lane (``bridge.parse_confirmations``:
    #: ``""``/``fast`` 0 blocks, ``safe``, ``finalized``, ``preset``, or N blocks).
    confirmations: str = ""
    #: Premium of a scenario's ``premium_at`` pool over the reference price, in bps: the
    #: price gap an arbitrage scenario closes (unused by scenarios without one).
    arb_gap_bps: float = DEFAULT_ARB_GAP_BPS
    #: Cost-model overrides (``scenarios.CostModel.from_mapping`` keys); stored as sorted
    #: (key, value) pairs, nested mappings likewise, so the spec stays hashable.
    cost: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.cost, Mapping):
            object.__setattr__(self, "cost", _freeze(self.cost))

    def cost_model(self) -> CostModel:
        """The :class:`~scenarios.CostModel` of this run: the defaults with ``cost``'s
        overrides."""
        return CostModel.from_mapping(_thaw(self.cost))

    def validate(self) -> None:
        """Raise :class:`ScenarioConfigError` naming every bad field (types and ranges).

        Checks that need a deployed world (LTV against the market's liquidation threshold,
        notional against the pool's depth) happen in :meth:`World.check_spec`.
        """
        errors: list[str] = []
        known = registered_modes()
        if not isinstance(self.mode, str) or self.mode not in known:
            errors.append(f"mode={self.mode!r} is not a known mode; known: {', '.join(known)}")
        if isinstance(self.chains, bool) or self.chains not in range(2, MAX_CHAINS + 1):
            errors.append(f"chains={self.chains!r} must be 2 to {MAX_CHAINS}")
        if not isinstance(self.latency, str) or self.latency not in LATENCY_PRESETS:
            errors.append(
                f"latency={self.latency!r} is not a known latency preset; "
                f"known: {', '.join(LATENCY_PRESETS)}"
            )
        ranges = {
            "sigma": (lambda v: 0 <= v <= 10, "must be in [0, 10] (annualised)"),
            "drift": (lambda v: abs(v) <= 10, "must be within ±10 (annualised)"),
            "notional": (lambda v: v > 0, "must be positive"),
            "target_ltv": (lambda v: 0 < v < 1, "must be in (0, 1)"),
            "slippage": (lambda v: 0 <= v < 1, "must be in [0, 1)"),
            "arb_gap_bps": (lambda v: 0 <= v < 5000, "must be in [0, 5000) bps"),
        }
        for name, (is_ok, rule) in ranges.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.append(f"{name}={value!r} must be a number")
            elif not math.isfinite(value):
                errors.append(f"{name}={value!r} must be finite")
            elif not is_ok(value):
                errors.append(f"{name}={value!r} {rule}")
        if not isinstance(self.scenario, str) or not self.scenario.strip():
            errors.append(f"scenario={self.scenario!r} must be a scenario name or a .toml path")
        if not isinstance(self.placement, str):
            errors.append(f"placement={self.placement!r} must be text like amm=A,lending=B")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            errors.append(f"seed={self.seed!r} must be a non-negative integer")
        try:
            self.cost_model()
        except (ValueError, TypeError) as exc:
            errors.append(f"cost: {exc}")
        try:
            parse_reorgs(self.reorgs)
        except ConfigError as exc:
            errors.append(f"reorgs={self.reorgs!r}: {exc}")
        try:
            parse_confirmations(self.confirmations, self.latency)
        except ConfigError as exc:
            errors.append(f"confirmations={self.confirmations!r}: {exc}")
        if errors:
            raise ScenarioConfigError("invalid RunSpec: " + "; ".join(errors))

    def key(self) -> str:
        """A stable, filesystem-safe id: readable fields plus a short digest of all of them.

        Floats appear by ``repr`` (exact, round-trips), so two specs share a key only if
        they are equal.
        """
        fields = self.to_json()
        digest = hashlib.sha256(
            json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()[:10]
        readable = (
            f"{self.mode}-c{self.chains}-{self.latency}-s{self.sigma!r}-n{self.notional!r}"
            f"-seed{self.seed}"
        )
        if self.scenario != DEFAULT_SCENARIO:
            readable = f"{Path(self.scenario).stem}-{readable}"
        if self.reorgs:
            readable += f"-reorgs{self.reorgs}"
        if self.confirmations:
            readable += f"-conf{self.confirmations}"
        return re.sub(r"[^A-Za-z0-9._+-]", "_", readable) + f"-{digest}"

    def to_json(self) -> dict[str, Any]:
        """The fields as a JSON-safe dict (``scenario``/``placement``/``reorgs``/
        ``confirmations`` only when set, ``arb_gap_bps`` only when not the default, ``cost``
        only when it overrides something, so keys of default runs do not change)."""
        out = dataclasses.asdict(self)
        if self.scenario == DEFAULT_SCENARIO:
            del out["scenario"]
        if not self.placement:
            del out["placement"]
        for name in ("reorgs", "confirmations"):
            if not out[name]:
                del out[name]
        if self.arb_gap_bps == DEFAULT_ARB_GAP_BPS:
            del out["arb_gap_bps"]
        del out["cost"]
        if self.cost:
            out["cost"] = _thaw(self.cost)
        return out

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RunSpec:
        """Build from a mapping (JSON, TOML); unknown keys are errors."""
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ScenarioConfigError(
                f"unknown RunSpec key(s): {', '.join(unknown)}; known: {', '.join(known)}"
            )
        return cls(**data)


@dataclass(frozen=True)
class RunResult:
    """What one run produced.

    ``metrics`` is flat and JSON-safe with every key of :data:`METRIC_KEYS`;
    ``capital_in_flight`` is the step curve (seconds since start, USD in transit);
    ``timeline`` lists step and hop events ``{"t": s, "chain": name, "event": str, ...}``.
    """

    spec: RunSpec
    metrics: dict[str, Any]
    capital_in_flight: list[tuple[float, float]] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the cost metrics are filled with the divergence (``with_divergence``): a runner
        # that does not set them gets the values of an unpriced run
        for key, default in _UNPRICED.items():
            self.metrics.setdefault(key, default() if callable(default) else default)
        # the ladder's metrics, for a runner (or an older result) that does not set them:
        # the user waits the whole run, nobody else ties up capital
        if "latency_s" in self.metrics:
            self.metrics.setdefault("user_latency_s", self.metrics["latency_s"])
        self.metrics.setdefault("solver_capital_usd_s", 0.0)
        self.metrics.setdefault("risk_bearer", "none")
        missing = [k for k in METRIC_KEYS if k not in self.metrics]
        extra = sorted(set(self.metrics) - set(METRIC_KEYS))
        if missing or extra:
            raise ValueError(f"RunResult metrics: missing {missing}, unexpected {extra}")

    def to_json(self) -> dict[str, Any]:
        """A deterministic JSON-safe dict: floats rounded to 9 significant digits,
        non-finite floats as ``null``; serialise with ``sort_keys=True``."""
        return {
            "spec": self.spec.to_json(),
            "metrics": {k: _clean(self.metrics[k]) for k in METRIC_KEYS},
            "capital_in_flight": [[_clean(t), _clean(v)] for t, v in self.capital_in_flight],
            "timeline": [_clean(event) for event in self.timeline],
        }

    def dumps(self) -> str:
        """:meth:`to_json` as canonical JSON text (sorted keys, no spaces)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunResult:
        """Rebuild from :meth:`to_json` output (``null`` metrics come back as NaN)."""
        metrics = {k: (math.nan if v is None else v) for k, v in dict(data["metrics"]).items()}
        return cls(
            spec=RunSpec.from_mapping(data["spec"]),
            metrics=metrics,
            capital_in_flight=[(float(t), float(v)) for t, v in data["capital_in_flight"]],
            timeline=[dict(e) for e in data["timeline"]],
        )


def _holdings_event(result: RunResult) -> dict[str, Any]:
    for event in reversed(result.timeline):
        if event.get("event") == "holdings":
            return event
    raise ValueError(f"run {result.spec.key()} has no 'holdings' event in its timeline")


def _clean(value: Any) -> Any:
    """JSON-safe, deterministic: round floats to 9 significant digits, recurse."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        rounded = float(f"{value:.{_SIG_DIGITS}g}")
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    raise TypeError(f"not JSON-safe: {value!r}")


class Runner(Protocol):
    """Executes a :class:`RunSpec` in a :class:`~scenarios.World` (``world``); registered
    under ``name``."""

    name: str

    def run(self, world: Any, spec: RunSpec) -> RunResult: ...


_RUNNERS: dict[str, Runner] = {}


def register_runner(name: str, runner: Runner, *, replace: bool = False) -> None:
    """Make ``runner`` execute mode ``name`` (lower-case letters, digits, ``-``, ``_``).

    The built-in modes (:data:`MODES`) count as registered even before their runners are
    loaded: taking one over needs ``replace=True``.
    """
    if not _MODE_NAME.match(name):
        raise ScenarioConfigError(
            f"runner name {name!r} must be 1-32 lower-case letters, digits, '-' or '_'"
        )
    taken = name in _RUNNERS or name in MODES
    if taken and not replace and _RUNNERS.get(name) is not runner:
        raise ScenarioConfigError(f"a runner is already registered for mode {name!r}")
    _RUNNERS[name] = runner


def add_builtin_runner(name: str, make: Callable[[], Runner]) -> None:
    """Register ``make()`` for the built-in mode ``name`` unless a runner already holds it
    (a plugin that took a built-in mode over with ``replace=True`` keeps it)."""
    if name not in MODES:
        raise ScenarioConfigError(f"{name!r} is not a built-in mode; use register_runner")
    if name not in _RUNNERS:
        _RUNNERS[name] = make()


def registered_modes() -> tuple[str, ...]:
    """The modes of the issue followed by any plugin modes, in registration order."""
    return MODES + tuple(m for m in _RUNNERS if m not in MODES)


def lookup_runner(mode: str) -> Runner:
    """The runner registered for ``mode``; a clear error when the mode is unknown or its
    runner is not registered (:func:`scenarios.get_runner` loads the built-ins first)."""
    if mode in _RUNNERS:
        return _RUNNERS[mode]
    if mode in MODES:
        raise ScenarioConfigError(
            f"mode {mode!r} is not available yet (runners available: "
            f"{', '.join(_RUNNERS) or 'none'})"
        )
    raise ScenarioConfigError(
        f"mode={mode!r} is not a known mode; known: {', '.join(registered_modes())}"
    )


def with_divergence(result: RunResult, atomic: RunResult) -> RunResult:
    """``result`` with ``divergence_usdc`` = its net value − the atomic run's end holdings
    valued at ``result``'s end price (the ``holdings`` timeline event: NV = usd + weth·P),
    and ``divergence_bps`` = that over the notional × 10⁴; then priced: ``all_in_cost_bps``
    and ``cost_components_bps`` under the spec's cost model (``scenarios/model/_cost.py``)."""
    end = _holdings_event(result)
    base = _holdings_event(atomic)
    atomic_value = float(base["usd"]) + float(base["weth"]) * float(end["price"])
    diff = float(result.metrics["net_value_usdc"]) - atomic_value
    metrics = dict(result.metrics)
    metrics["divergence_usdc"] = diff
    metrics["divergence_bps"] = diff / result.spec.notional * 1e4
    with_div = dataclasses.replace(result, metrics=metrics)
    if result is atomic:
        atomic = with_div
    priced = price_run(with_div, atomic, result.spec.cost_model())
    metrics.update(priced)
    return dataclasses.replace(result, metrics=metrics)


def _freeze(data: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(
        sorted((str(k), _freeze(v) if isinstance(v, Mapping) else v) for k, v in data.items())
    )


def _thaw(pairs: Any) -> dict[str, Any]:
    return {
        k: _thaw(v)
        if isinstance(v, tuple)
        and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in v)
        and v
        else v
        for k, v in pairs
    }
