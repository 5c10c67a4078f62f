"""A minimal progress bar for long CLI jobs (sweeps, benchmarks), written to a stream.

On a terminal it redraws one line in place (``\\r``): a bar, done/total, the rate and an
ETA. When the stream is not a terminal (CI logs, pipes) it writes plain lines instead, at
most one every ``interval`` seconds and at the end, so logs stay readable. The wall clock
here only paces the display; it never reaches a result. No dependency: tqdm would do the
same with a heavier install.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["ProgressBar", "format_duration"]


def format_duration(seconds: float) -> str:
    """``75`` → ``1m15s``; ``3725`` → ``1h02m``; under a minute with one decimal."""
    if seconds != seconds or seconds == float("inf"):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ProgressBar:
    """Shows ``done/total`` progress of a job that may start part-way (a resumed sweep).

    ``skipped`` counts the items already done before this session; the rate and ETA use
    only the items done now. Call :meth:`update` with the new done count (absolute), and
    :meth:`close` once at the end.
    """

    WIDTH = 24

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO,
        label: str = "runs",
        skipped: int = 0,
        interval: float = 10.0,
        is_tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.stream = stream
        self.label = label
        self.skipped = skipped
        self.interval = interval
        self.is_tty = stream.isatty() if is_tty is None else is_tty
        self._clock = clock
        self._start = clock()
        self._last_draw = -float("inf")
        self._done = skipped
        self._closed = False

    def line(self) -> str:
        """The current progress text (no line ending)."""
        done, total = self._done, self.total
        fraction = done / total if total else 1.0
        filled = int(round(fraction * self.WIDTH))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        elapsed = max(self._clock() - self._start, 1e-9)
        now_done = done - self.skipped
        rate = now_done / elapsed
        remaining = total - done
        eta = remaining / rate if rate > 0 else float("inf")
        text = f"[{bar}] {done}/{total} {self.label} {100 * fraction:5.1f}%"
        text += f"  {rate:.2f}/s  elapsed {format_duration(elapsed)}"
        if remaining:
            text += f"  ETA {format_duration(eta) if now_done else '?'}"
        if self.skipped:
            text += f"  ({self.skipped} resumed)"
        return text

    def update(self, done: int) -> None:
        """Record ``done`` items finished in total and redraw if due."""
        self._done = done
        now = self._clock()
        if self.is_tty:
            if now - self._last_draw >= 0.1 or done == self.total:
                self.stream.write("\r" + self.line() + "\x1b[K")
                self.stream.flush()
                self._last_draw = now
        elif now - self._last_draw >= self.interval:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last_draw = now

    def close(self) -> None:
        """Draw the final state and end the line (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.is_tty:
            self.stream.write("\r" + self.line() + "\x1b[K\n")
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
