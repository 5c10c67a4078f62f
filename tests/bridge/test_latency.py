"""Latency models and presets: validation, analytic quantiles against sampling, presets."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from bridge.latency import (
    PRESETS,
    Constant,
    Empirical,
    Exponential,
    LatencyModel,
    LogNormal,
    Uniform,
    as_model,
    get_preset,
    presets_table,
)
from chains import ConfigError

MODELS = {
    "constant": Constant(5.0),
    "uniform": Uniform(8.0, 20.0),
    "exponential": Exponential(mean=10.0, shift=2.0),
    "lognormal": LogNormal(median=4.0, sigma=0.9),
    "lognormal-capped": LogNormal(median=4.0, sigma=2.0, cap=60.0),
    "empirical": Empirical.from_quantiles({0: 1.0, 0.5: 4.0, 0.9: 9.0, 1: 100.0}),
}


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_sample_matches_quantiles(model: LatencyModel) -> None:
    rng = random.Random(1234)
    samples = sorted(model.sample(rng) for _ in range(20_000))
    assert all(s >= 0 for s in samples)
    for q in (0.1, 0.5, 0.8):
        empirical = samples[int(q * len(samples))]
        expected = model.quantile(q)
        # Monte Carlo error of a quantile from 20k draws is well under 5 % here.
        assert empirical == pytest.approx(expected, rel=0.05, abs=0.05), q


@pytest.mark.parametrize("model", MODELS.values(), ids=MODELS.keys())
def test_sample_is_deterministic_for_a_seed(model: LatencyModel) -> None:
    first = [model.sample(random.Random(7)) for _ in range(3)]
    again = [model.sample(random.Random(7)) for _ in range(3)]
    assert first == again


def test_exponential_mean() -> None:
    rng = random.Random(5)
    values = [Exponential(mean=10.0).sample(rng) for _ in range(40_000)]
    assert statistics.fmean(values) == pytest.approx(10.0, rel=0.03)
    assert Exponential(mean=10.0).quantile(1.0) == math.inf


def test_lognormal_cap_bounds_samples() -> None:
    model = LogNormal(median=4.0, sigma=3.0, cap=30.0)
    rng = random.Random(9)
    assert max(model.sample(rng) for _ in range(5_000)) == 30.0
    assert model.quantile(1.0) == 30.0


def test_empirical_from_samples_interpolates() -> None:
    model = Empirical.from_samples([10.0, 0.0, 20.0])
    assert model.quantile(0.0) == 0.0
    assert model.quantile(0.25) == 5.0
    assert model.quantile(0.5) == 10.0
    assert model.quantile(1.0) == 20.0


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Constant(-1.0), "Constant.seconds must be a finite number ≥ 0"),
        (lambda: Constant(math.inf), "Constant.seconds must be a finite number ≥ 0"),
        (lambda: Uniform(5.0, 1.0), "Uniform needs low ≤ high"),
        (lambda: Exponential(mean=0.0), "Exponential.mean must be a finite number > 0"),
        (lambda: LogNormal(median=0.0, sigma=1.0), "LogNormal.median must be > 0"),
        (lambda: LogNormal(median=5.0, sigma=1.0, cap=1.0), "cap must be ≥ the median"),
        (lambda: Empirical(((0.0, 1.0),)), "at least two"),
        (lambda: Empirical(((0.1, 1.0), (1.0, 2.0))), "start at q=0"),
        (lambda: Empirical(((0.0, 3.0), (1.0, 2.0))), "must not decrease"),
        (lambda: Empirical(((0.0, 1.0), (0.0, 2.0), (1.0, 3.0))), "increase strictly"),
    ],
    ids=[
        "negative",
        "infinite",
        "uniform-reversed",
        "exp-zero-mean",
        "lognormal-zero",
        "lognormal-cap",
        "empirical-short",
        "empirical-start",
        "empirical-decreasing",
        "empirical-duplicate-q",
    ],
)
def test_bad_parameters_are_rejected(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match=message):
        build()


def test_quantile_outside_unit_interval_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"quantile must be in \[0, 1\]"):
        Uniform(1.0, 2.0).quantile(1.5)


def test_presets_are_the_design_set() -> None:
    assert list(PRESETS) == [
        "same-block",
        "interop",
        "intent-fill",
        "fast-attestation",
        "finality",
        "optimistic-canonical",
    ]
    for preset in PRESETS.values():
        assert preset.source and preset.stands_for
        assert isinstance(preset.model, LatencyModel)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("same-block", 0.0, 0.0),
        ("interop", 1.0, 3.0),
        ("intent-fill", 2.0, 9.0),  # the median sits in the documented 2-9 s range
        ("fast-attestation", 8.0, 20.0),
        ("finality", 13 * 60.0, 19 * 60.0),
        ("optimistic-canonical", 6.4 * 86_400, 7 * 86_400),
    ],
)
def test_preset_medians_sit_in_their_documented_ranges(name: str, low: float, high: float) -> None:
    assert low <= get_preset(name).quantile(0.5) <= high


def test_intent_fill_has_a_tail_to_minutes() -> None:
    model = get_preset("intent-fill")
    assert model.quantile(0.99) >= 60.0
    assert model.quantile(0.5) < 10.0


def test_unknown_preset_lists_the_known_names() -> None:
    with pytest.raises(ConfigError, match="unknown latency preset 'instant'.*same-block"):
        get_preset("instant")


def test_as_model_rejects_non_models() -> None:
    assert as_model("finality") is PRESETS["finality"].model
    with pytest.raises(ConfigError, match="preset name or a model"):
        as_model(3.0)  # type: ignore[arg-type]


def test_presets_table_uses_analytic_quantiles() -> None:
    rows = {r.name: r for r in presets_table()}
    assert rows["fast-attestation"].median == 14.0
    assert rows["fast-attestation"].p95 == pytest.approx(19.4)
    assert rows["same-block"].p95 == 0.0
