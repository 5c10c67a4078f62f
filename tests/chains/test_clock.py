"""The shared Clock: virtual time and the deterministic event order."""

from __future__ import annotations

import pytest

from chains import Clock


def test_events_fire_in_time_priority_sequence_order() -> None:
    clock = Clock(start=0)
    fired: list[str] = []
    clock.schedule(5, lambda: fired.append("b5"), priority=1)
    clock.schedule(5, lambda: fired.append("a5"), priority=0)
    clock.schedule(5, lambda: fired.append("c5"), priority=1)
    clock.schedule(2, lambda: fired.append("x2"))
    clock.advance(10)
    assert fired == ["x2", "a5", "b5", "c5"]
    assert clock.now == 10


def test_events_see_their_own_time_and_can_schedule_more() -> None:
    clock = Clock(start=100)
    seen: list[float] = []

    def tick() -> None:
        seen.append(clock.now)
        if len(seen) < 3:
            clock.schedule(clock.now + 7, tick)

    clock.schedule(107, tick)
    clock.advance(100)
    assert seen == [107, 114, 121]


def test_cancelled_events_do_not_fire() -> None:
    clock = Clock(start=0)
    fired: list[int] = []
    event = clock.schedule(1, lambda: fired.append(1))
    clock.cancel(event)
    clock.advance(2)
    assert fired == [] and clock.pending_events == 0


def test_time_never_goes_backwards() -> None:
    clock = Clock(start=50)
    with pytest.raises(ValueError, match="never goes backwards"):
        clock.advance_to(49)
    with pytest.raises(ValueError, match="negative duration"):
        clock.advance(-1)


def test_snapshot_restore_rewinds_queue_and_time() -> None:
    clock = Clock(start=0)
    fired: list[int] = []
    snap = clock.snapshot()
    clock.schedule(3, lambda: fired.append(3))
    clock.advance(1)
    clock.restore(snap)
    clock.advance(5)
    assert clock.now == 5 and fired == []
