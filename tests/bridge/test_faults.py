"""Fault plans: validation, determinism per (seed, message, attempt), rates, forgery."""

from __future__ import annotations

import pytest

from bridge.faults import CRASH_POINTS, Faults, seeded_rng
from chains import ConfigError

IDS = [f"0x{i:064x}" for i in range(4_000)]


def test_quiet_faults_plan_nothing() -> None:
    faults = Faults()
    assert faults.is_quiet
    plans = [faults.plan(1, mid, 0) for mid in IDS[:200]]
    assert all(
        not p.is_dropped and not p.is_duplicated and not p.is_reverted and p.extra_delay == 0
        for p in plans
    )
    assert all(not p.crash_points for p in plans)


def test_plan_is_a_function_of_seed_message_and_attempt() -> None:
    faults = Faults(drop=0.3, duplicate=0.3, reorder_window=10, target_revert=0.3)
    assert faults.plan(5, IDS[3], 1) == faults.plan(5, IDS[3], 1)
    plans_a = [faults.plan(5, mid, 0) for mid in IDS[:100]]
    plans_b = [faults.plan(6, mid, 0) for mid in IDS[:100]]
    assert plans_a != plans_b


@pytest.mark.parametrize("field", ["drop", "duplicate", "target_revert"])
def test_rates_match_probabilities(field: str) -> None:
    faults = Faults(**{field: 0.25})
    attr = {"drop": "is_dropped", "duplicate": "is_duplicated", "target_revert": "is_reverted"}
    hits = sum(getattr(faults.plan(0, mid, 0), attr[field]) for mid in IDS)
    assert hits / len(IDS) == pytest.approx(0.25, abs=0.03)


def test_changing_one_probability_keeps_the_other_draws() -> None:
    a = Faults(drop=0.1, target_revert=0.5)
    b = Faults(drop=0.9, target_revert=0.5)
    assert [a.plan(0, m, 0).is_reverted for m in IDS[:300]] == [
        b.plan(0, m, 0).is_reverted for m in IDS[:300]
    ]


def test_drop_reorder_and_spike_touch_only_the_first_attempt() -> None:
    faults = Faults(drop=1.0, reorder_window=30.0, delay_spike=(1.0, 600.0))
    first = faults.plan(0, IDS[0], 0)
    retry = faults.plan(0, IDS[0], 1)
    assert first.is_dropped and 600.0 <= first.extra_delay <= 630.0
    assert not retry.is_dropped and retry.extra_delay == 0.0


def test_reorder_window_spreads_delays() -> None:
    delays = [Faults(reorder_window=20.0).plan(0, m, 0).extra_delay for m in IDS[:500]]
    assert min(delays) >= 0 and max(delays) <= 20.0
    assert max(delays) - min(delays) > 15.0


def test_crash_points_from_a_set_or_a_mapping() -> None:
    every = Faults(crash_at={"after_submit"})
    assert all(every.plan(0, m, 0).crash_points == {"after_submit"} for m in IDS[:50])
    some = Faults(crash_at={"after_observe": 0.5, "after_record": 0.0})
    points = [some.plan(0, m, 0).crash_points for m in IDS[:400]]
    assert not any("after_record" in p for p in points)
    share = sum("after_observe" in p for p in points) / len(points)
    assert share == pytest.approx(0.5, abs=0.08)
    assert tuple(Faults(crash_at=set(CRASH_POINTS)).crash_at) == CRASH_POINTS


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drop": 1.5}, "Faults.drop must be a probability"),
        ({"duplicate": -0.1}, "Faults.duplicate must be a probability"),
        ({"target_revert": 2}, "Faults.target_revert must be a probability"),
        ({"reorder_window": -1.0}, "reorder_window must be ≥ 0"),
        ({"delay_spike": (0.5,)}, "delay_spike must be"),
        ({"delay_spike": (0.5, -3.0)}, "delay_spike seconds must be ≥ 0"),
        ({"crash_at": {"before_lunch"}}, "unknown crash point.*after_observe"),
        ({"crash_at": {"after_submit": 3.0}}, r"crash_at\['after_submit'\]"),
        ({"compromised": -1}, "compromised must be an integer"),
    ],
    ids=[
        "drop",
        "duplicate",
        "revert",
        "reorder",
        "spike-shape",
        "spike-negative",
        "crash-point",
        "crash-prob",
        "compromised",
    ],
)
def test_bad_fault_config_is_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Faults(**kwargs)  # type: ignore[arg-type]


def test_seeded_rng_is_stable() -> None:
    assert seeded_rng("x", 1).random() == seeded_rng("x", 1).random()
    assert seeded_rng("x", 1).random() != seeded_rng("x", 2).random()
