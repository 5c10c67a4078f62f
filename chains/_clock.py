"""The single source of time for a Devnet.

One :class:`Clock` is shared by every chain of a devnet. Chains take block timestamps
from it; scheduled callbacks (interval mining, later the relayer and market actors) run in
a total order ``(time, priority, sequence)`` as in SimPy, so the same seed always gives
the same result. Virtual time (the default) only moves when told to; real time follows
the wall clock from a fixed start and is meant for the live devnet.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["DEFAULT_GENESIS_TIME", "Clock", "ScheduledEvent"]

# 2025-01-01T00:00:00Z: a fixed, recognisable start so block timestamps are reproducible.
DEFAULT_GENESIS_TIME = 1_735_689_600


@dataclass(order=True, frozen=True)
class ScheduledEvent:
    """A callback due at ``time``; ties broken by ``priority`` then insertion ``seq``."""

    time: float
    priority: int
    seq: int
    callback: Callable[[], None] = field(compare=False)
    label: str = field(default="", compare=False)


@dataclass
class Clock:
    """Virtual (default) or real time, plus a deterministic event queue.

    ``now`` never goes backwards. In virtual mode it moves only through :meth:`advance`
    and :meth:`advance_to`, which fire due events in order, each at its own time.
    """

    start: float = DEFAULT_GENESIS_TIME
    is_virtual: bool = True
    _now: float = field(init=False)
    _offset: float = field(init=False, default=0.0)
    _wall_origin: float = field(init=False, default=0.0)
    _queue: list[ScheduledEvent] = field(init=False, default_factory=list)
    _seq: itertools.count[int] = field(init=False, default_factory=itertools.count)
    _cancelled: set[int] = field(init=False, default_factory=set)
    #: Guards the queue: a served devnet's chains run in threads of their own and each
    #: may schedule or cancel (interval seals, the relayer's scans). Callbacks run
    #: outside it; whoever fires events (advance, run_due) must hold the devnet's lock.
    _lock: threading.RLock = field(
        init=False, default_factory=threading.RLock, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._now = float(self.start)
        self._wall_origin = time.monotonic()

    @property
    def now(self) -> float:
        """Current time in seconds since the Unix epoch (virtual or real)."""
        if self.is_virtual:
            return self._now
        real = self.start + (time.monotonic() - self._wall_origin) + self._offset
        return max(real, self._now)

    def schedule(
        self, at: float, callback: Callable[[], None], *, priority: int = 0, label: str = ""
    ) -> ScheduledEvent:
        """Run ``callback`` when the clock reaches ``at`` (at once on the next advance if past)."""
        event = ScheduledEvent(float(at), priority, next(self._seq), callback, label)
        with self._lock:
            heapq.heappush(self._queue, event)
        return event

    def cancel(self, event: ScheduledEvent) -> None:
        """Forget a scheduled event (no effect if it already ran)."""
        with self._lock:
            self._cancelled.add(event.seq)

    @property
    def pending_events(self) -> int:
        """Number of events still queued (cancelled ones excluded)."""
        with self._lock:
            return sum(1 for e in self._queue if e.seq not in self._cancelled)

    def next_event_time(self) -> float | None:
        """Time of the earliest live event, or ``None`` when the queue is empty."""
        with self._lock:
            self._drop_cancelled_head()
            return self._queue[0].time if self._queue else None

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` (≥ 0), firing due events; return the new time."""
        if seconds < 0:
            raise ValueError(f"cannot advance the clock by a negative duration ({seconds} s)")
        return self.advance_to(self.now + seconds)

    def advance_to(self, target: float) -> float:
        """Move time to ``target`` (never backwards), firing every event due on the way."""
        if target < self.now:
            raise ValueError(f"time never goes backwards: now={self.now}, asked for {target}")
        while True:
            event = self._pop_due(target)
            if event is None:
                break
            self._set_now(max(event.time, self._now))
            event.callback()
        self._set_now(target)
        return self.now

    def run_due(self) -> int:
        """Fire every event due at the current time (real-time mode drives this); count them."""
        fired = 0
        now = self.now
        while True:
            event = self._pop_due(now)
            if event is None:
                return fired
            event.callback()
            fired += 1

    def jump(self, seconds: float) -> None:
        """Shift time forward without firing events (``evm_increaseTime`` semantics)."""
        if seconds < 0:
            raise ValueError(f"cannot move time backwards ({seconds} s)")
        if self.is_virtual:
            self._now += seconds
        else:
            self._offset += seconds

    def _set_now(self, value: float) -> None:
        if self.is_virtual:
            self._now = value
        else:
            self._offset += max(0.0, value - self.now)
            self._now = max(self._now, value)

    def _pop_due(self, limit: float) -> ScheduledEvent | None:
        with self._lock:
            self._drop_cancelled_head()
            if not self._queue or self._queue[0].time > limit:
                return None
            return heapq.heappop(self._queue)

    def _drop_cancelled_head(self) -> None:
        while self._queue and self._queue[0].seq in self._cancelled:
            self._cancelled.discard(heapq.heappop(self._queue).seq)

    # -- snapshot support (used by Devnet.anchor) ------------------------------------------
    def snapshot(self) -> tuple[float, float, list[ScheduledEvent], frozenset[int]]:
        """Capture time and the event queue."""
        with self._lock:
            return (self._now, self._offset, list(self._queue), frozenset(self._cancelled))

    def restore(self, snap: tuple[float, float, list[ScheduledEvent], frozenset[int]]) -> None:
        """Return to a :meth:`snapshot` (events scheduled since are forgotten)."""
        with self._lock:
            self._now, self._offset, queue, cancelled = snap
            self._queue = list(queue)
            heapq.heapify(self._queue)
            self._cancelled = set(cancelled)
