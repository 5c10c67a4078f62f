"""Progress of long CLI jobs (sweeps, benchmarks), written to a stream.

On a terminal it is a ``rich`` progress bar redrawn in place: the bar, done/total, the
percentage, the rate, elapsed time and ETA. When the stream is not a terminal (CI logs,
pipes) it writes plain lines instead, at most one every ``interval`` seconds and one at
the end, so logs stay readable (rich would draw nothing until the end there). The wall
clock only paces the display; it never reaches a result.

Why rich rather than tqdm: the CLI's tables (:func:`scenarios.report.format_table`) are
rich tables too, so one maintained library draws both; tqdm has no tables, and in a pipe
it still writes carriage-return frames rather than lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

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
        self._rich: Progress | None = None
        self._task: TaskID | None = None
        if self.is_tty:
            description = label if not skipped else f"{label} ({skipped} resumed)"
            self._rich = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=self.WIDTH),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(file=stream, force_terminal=True),
                get_time=clock,
            )
            # Rich's own speed is taken from the updates it saw; ``completed=skipped``
            # starts the count, so resumed items do not inflate the rate.
            self._task = self._rich.add_task(
                description, total=total, completed=skipped, rate=self._rate_text()
            )
            self._rich.start()

    def _rate(self) -> float:
        elapsed = max(self._clock() - self._start, 1e-9)
        return (self._done - self.skipped) / elapsed

    def _rate_text(self) -> str:
        return f"{self._rate():.2f}/s"

    def line(self) -> str:
        """The current progress as one plain line (no line ending): what logs get."""
        done, total = self._done, self.total
        fraction = done / total if total else 1.0
        filled = int(round(fraction * self.WIDTH))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        elapsed = max(self._clock() - self._start, 1e-9)
        now_done = done - self.skipped
        rate = self._rate()
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
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, completed=done, rate=self._rate_text())
            return
        now = self._clock()
        if now - self._last_draw >= self.interval:
            self.stream.write(self.line() + "\n")
            self.stream.flush()
            self._last_draw = now

    def close(self) -> None:
        """Draw the final state and end the line (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, completed=self._done, rate=self._rate_text())
            self._rich.stop()
            return
        self.stream.write(self.line() + "\n")
        self.stream.flush()
