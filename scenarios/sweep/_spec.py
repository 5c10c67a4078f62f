"""The sweep grid: modes × latency presets × chains × σ × notionals × seeds, validated,
in a stable order."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import Any

from scenarios.model import (
    DEFAULT_SCENARIO,
    LATENCY_PRESETS,
    RunSpec,
    ScenarioConfigError,
)
from scenarios.plan import validate
from scenarios.runners import get_runner, hosting_for, resolve_scenario

__all__ = [
    "LOCAL_MODES",
    "PRESET_FREE_MODES",
    "SweepError",
    "SweepSpec",
    "latency_order",
]

#: Modes that run on one chain without the bridge: latency and layout do not change their
#: result, so the grid runs them once per (σ, notional, seed), recording the first latency
#: and layout listed, instead of repeating identical runs.
LOCAL_MODES = frozenset({"atomic", "sequential"})

#: Modes whose relayer the settlement axes (reorg processes, confirmation policies) shape;
#: the grid runs the other modes once, recording no reorgs and the default policy.
SETTLEMENT_MODES = frozenset({"bridged"})
#: Modes whose messages never travel at the spec's bridge preset: ``superblock`` delivers
#: inside its slot, ``shared-sequencer`` at the sequencer's ``interop`` latency (``same-block``
#: only when the spec's preset is ``same-block``). The grid runs them once per layout at the
#: first latency listed instead of repeating identical runs per preset. ``intent`` is not one
#: of them: the user's latency is the fill time at every preset, but the solver's premium
#: prices the repayment delay, and a declined order's refund waits for the bridge.
PRESET_FREE_MODES = frozenset({"superblock", "shared-sequencer"})


class SweepError(ValueError):
    """A sweep cannot start, resume or finish; the message says why and what to do."""


# ---------------------------------------------------------------------------------------
# The grid
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """The sweep grid: scenarios × modes × layouts × latency presets × σ × notionals × seeds.

    ``seeds`` is a count: seeds ``seed_start .. seed_start + seeds - 1``. ``drift``,
    ``target_ltv``, ``slippage`` and ``placement`` (empty: each scenario's default) are
    fixed for the whole sweep. ``scenarios`` are built-in names or scenario TOML paths.
    Modes in :data:`LOCAL_MODES` skip the latency and layout axes, modes in
    :data:`PRESET_FREE_MODES` the latency axis (see there).
    """

    modes: tuple[str, ...] = ("bridged",)
    latencies: tuple[str, ...] = ("fast-attestation",)
    sigmas: tuple[float, ...] = (0.8,)
    notionals: tuple[float, ...] = (100_000.0,)
    chains: tuple[int, ...] = (3,)
    seeds: int = 10
    seed_start: int = 0
    drift: float = 0.0
    target_ltv: float = 0.5
    slippage: float = 0.01
    scenarios: tuple[str, ...] = (DEFAULT_SCENARIO,)
    placement: str = ""
    #: Cost-model profiles, an axis: each is a mapping of overrides (``RunSpec.cost``);
    #: ``({},)`` = the default model only. Pricing does not change a run's chains, so the
    #: profiles of one seed share their atomic baseline.
    costs: tuple[Any, ...] = ((),)
    #: Reorg processes, an axis (``RunSpec.reorgs``: ``""`` none, ``severe``,
    #: ``rate=60,mean=3``, ...), and the relayer's confirmation policies, an axis
    #: (``RunSpec.confirmations``: ``fast``, ``safe``, ``finalized``, ``preset``, N):
    #: both only for :data:`SETTLEMENT_MODES`.
    reorgs: tuple[str, ...] = ("",)
    confirmations: tuple[str, ...] = ("",)

    def __post_init__(self) -> None:
        for name in (
            "modes",
            "latencies",
            "sigmas",
            "notionals",
            "chains",
            "scenarios",
            "costs",
            "reorgs",
            "confirmations",
        ):
            value = getattr(self, name)
            if isinstance(value, list):  # lists from JSON or Python callers: same grid
                object.__setattr__(self, name, tuple(value))
        if isinstance(self.costs, tuple):
            frozen = tuple(RunSpec(cost=c).cost if c else () for c in self.costs)
            object.__setattr__(self, "costs", frozen)

    def validate(self) -> None:
        """Raise :class:`~scenarios.ScenarioConfigError` naming every bad axis or value.

        Every axis must be a non-empty tuple without repeats; each value must make a valid
        :class:`RunSpec`; every mode must have a runner now (``bridged`` before its runner
        lands is refused here, before anything runs).
        """
        errors: list[str] = []
        axes = {
            "modes": self.modes,
            "latencies": self.latencies,
            "sigmas": self.sigmas,
            "notionals": self.notionals,
            "chains": self.chains,
            "scenarios": self.scenarios,
            "costs": self.costs,
            "reorgs": self.reorgs,
            "confirmations": self.confirmations,
        }
        for name, values in axes.items():
            if not isinstance(values, tuple) or not values:
                errors.append(f"{name} must be a non-empty tuple, got {values!r}")
                continue
            repeated = sorted({repr(v) for v in values if values.count(v) > 1})
            if repeated:
                errors.append(f"{name} lists {', '.join(repeated)} more than once")
        for name in ("seeds", "seed_start"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                errors.append(f"{name}={value!r} must be a non-negative integer")
        if not errors and self.seeds == 0:
            errors.append("seeds=0: a sweep needs at least one seed")
        if errors:
            raise ScenarioConfigError("invalid sweep: " + "; ".join(errors))
        base = RunSpec(
            mode=self.modes[0],
            chains=self.chains[0],
            latency=self.latencies[0],
            sigma=self.sigmas[0],
            drift=self.drift,
            notional=self.notionals[0],
            target_ltv=self.target_ltv,
            slippage=self.slippage,
            seed=self.seed_start,
            scenario=self.scenarios[0],
            placement=self.placement,
        )
        probes = [base]
        probes += [dataclasses.replace(base, mode=m) for m in self.modes[1:]]
        probes += [dataclasses.replace(base, chains=c) for c in self.chains[1:]]
        probes += [dataclasses.replace(base, latency=lat) for lat in self.latencies[1:]]
        probes += [dataclasses.replace(base, sigma=s) for s in self.sigmas[1:]]
        probes += [dataclasses.replace(base, notional=n) for n in self.notionals[1:]]
        probes.append(dataclasses.replace(base, seed=self.seed_start + self.seeds - 1))
        probes += [dataclasses.replace(base, cost=c) for c in self.costs]
        probes += [dataclasses.replace(base, reorgs=r) for r in self.reorgs]
        probes += [
            dataclasses.replace(base, latency=lat, confirmations=c)
            for c in self.confirmations
            for lat in self.latencies
        ]
        messages: list[str] = []
        for probe in probes:
            try:
                probe.validate()
            except ScenarioConfigError as exc:
                text = str(exc).removeprefix("invalid RunSpec: ")
                messages += [m for m in text.split("; ") if m not in messages]
        if not messages:
            for mode in self.modes:
                try:
                    get_runner(mode)
                except ScenarioConfigError as exc:
                    messages.append(str(exc))
        if not messages:
            for scenario in self.scenarios:
                for chains in self.chains:
                    probe = dataclasses.replace(base, scenario=scenario, chains=chains)
                    try:
                        found, placement = resolve_scenario(probe)
                        validate(found, placement, needs_atomic=True)
                        hosting_for(found, placement, chains)
                    except ScenarioConfigError as exc:
                        messages.append(str(exc))
        if messages:
            raise ScenarioConfigError("invalid sweep: " + "; ".join(messages))

    def specs(self) -> list[RunSpec]:
        """Every run of the grid in a stable order: mode, layout, latency, reorg process,
        confirmation policy, σ, notional, cost profile, seed (each axis in the order
        given; the seed varies fastest)."""
        out: list[RunSpec] = []
        for scenario in self.scenarios:
            out.extend(self._specs_of(scenario))
        return out

    def _specs_of(self, scenario: str) -> list[RunSpec]:
        out: list[RunSpec] = []
        seeds = range(self.seed_start, self.seed_start + self.seeds)
        for mode in self.modes:
            is_local = mode in LOCAL_MODES
            layouts = self.chains[:1] if is_local else self.chains
            is_preset_free = is_local or mode in PRESET_FREE_MODES
            latencies = self.latencies[:1] if is_preset_free else self.latencies
            is_settled = mode in SETTLEMENT_MODES
            reorgs = self.reorgs if is_settled else ("",)
            policies = self.confirmations if is_settled else ("",)
            cells = itertools.product(
                layouts, latencies, reorgs, policies, self.sigmas, self.notionals, self.costs
            )
            for chains, latency, reorg, policy, sigma, notional, cost in cells:
                out.extend(
                    RunSpec(
                        mode=mode,
                        chains=chains,
                        latency=latency,
                        sigma=sigma,
                        drift=self.drift,
                        notional=notional,
                        target_ltv=self.target_ltv,
                        slippage=self.slippage,
                        seed=seed,
                        scenario=scenario,
                        placement=self.placement,
                        cost=cost,
                        reorgs=reorg,
                        confirmations=policy,
                    )
                    for seed in seeds
                )
        return out

    def to_json(self) -> dict[str, Any]:
        """The arguments as a JSON-safe dict (tuples become lists); ``scenarios`` and
        ``placement`` only when not the default, so older sweep folders still resume."""
        out = {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }
        if self.scenarios == (DEFAULT_SCENARIO,):
            del out["scenarios"]
        if not self.placement:
            del out["placement"]
        for name in ("reorgs", "confirmations"):
            if getattr(self, name) == ("",):
                del out[name]
        if self.costs == ((),):
            del out["costs"]
        else:
            out["costs"] = [RunSpec(cost=c).to_json().get("cost", {}) for c in self.costs]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepSpec:
        """Inverse of :meth:`to_json`; unknown keys are errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ScenarioConfigError(
                f"unknown sweep key(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items()
        }
        return cls(**values)


def latency_order(latency: str) -> int:
    """Position of a latency preset in typical-latency order (unknown presets last)."""
    return LATENCY_PRESETS.index(latency) if latency in LATENCY_PRESETS else len(LATENCY_PRESETS)
