"""Wall-clock limits on EVM execution: a call that runs too long is aborted, not waited out.

A :class:`Deadline` is installed for the current thread with :func:`execution_deadline`;
the fast opcode loop (:mod:`chains._interpreter`) calls :func:`check_deadline` every
``CHECK_EVERY`` taken jumps and at the start of every call frame — the only ways EVM
code can run for long (a loop needs a backward jump; a call tree needs frames) — so
the check costs one counter decrement per jump on the hot path. Past the deadline, or
once the deadline was :meth:`~Deadline.abort`-ed (server shutdown), the frame raises
:class:`ExecutionAborted`. It is not a py-evm ``VMError``: no frame catches it, so it
unwinds the whole computation up to the caller, whose snapshot rolls the state back.

Only read-only execution runs under a deadline (``eth_call``, ``eth_estimateGas``):
a transaction is never cut in half, it is bounded by the block gas limit instead.
A :class:`DeadlineScope` groups the deadlines of one server so that its shutdown can
abort every call in flight at once, without touching other servers in the process.
py-evm's stock loop (``ChainConfig(interpreter="py-evm")``) checks at frame starts only.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Iterator

from chains._errors import ChainError

__all__ = [
    "CHECK_EVERY",
    "Deadline",
    "DeadlineScope",
    "ExecutionAborted",
    "check_deadline",
    "deadline_scope",
    "execution_deadline",
    "request_budget",
]

#: Taken jumps between two clock reads in the fast loop. A taken jump costs ~0.2 µs,
#: so a deadline is noticed within about a millisecond of passing.
CHECK_EVERY = 4096


class ExecutionAborted(ChainError):
    """EVM execution stopped by a deadline or a shutdown (geth: "execution aborted")."""


class Deadline:
    """Wall-clock limit of one execution; ``at`` is a ``time.monotonic()`` instant."""

    __slots__ = ("at", "reason")

    def __init__(self, seconds: float | None) -> None:
        self.at = math.inf if seconds is None else time.monotonic() + seconds
        self.reason = "execution aborted"
        if seconds is not None:
            self.reason += f" (timeout = {seconds:g}s)"

    def abort(self, reason: str) -> None:
        """Make the execution stop at its next check."""
        self.reason = reason
        self.at = -math.inf


class DeadlineScope:
    """The deadlines started under one owner (a server); :meth:`abort` stops them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: set[Deadline] = set()
        self.aborted: str | None = None

    def add(self, deadline: Deadline) -> None:
        with self._lock:
            if self.aborted is not None:
                deadline.abort(self.aborted)
            self._active.add(deadline)

    def discard(self, deadline: Deadline) -> None:
        with self._lock:
            self._active.discard(deadline)

    def abort(self, reason: str) -> None:
        """Abort every execution in flight and every one started from now on."""
        with self._lock:
            self.aborted = reason
            for deadline in self._active:
                deadline.abort(reason)


class _Current(threading.local):
    deadline: Deadline | None = None
    scope: DeadlineScope | None = None
    budget: Deadline | None = None


_current = _Current()


@contextlib.contextmanager
def deadline_scope(scope: DeadlineScope) -> Iterator[None]:
    """Register the deadlines this thread starts inside the block with ``scope``."""
    outer = _current.scope
    _current.scope = scope
    try:
        yield
    finally:
        _current.scope = outer


@contextlib.contextmanager
def request_budget(seconds: float) -> Iterator[None]:
    """Cap every deadline started in this thread inside the block at ``seconds`` from now.

    A transport gives each request one budget, so a batch of a thousand endless calls
    costs one call timeout, not a thousand: the calls after the budget ran out are
    aborted at their first check.
    """
    outer = _current.budget
    _current.budget = Deadline(seconds)
    try:
        yield
    finally:
        _current.budget = outer


@contextlib.contextmanager
def execution_deadline(seconds: float | None) -> Iterator[Deadline]:
    """Limit the EVM execution this thread runs inside the block to ``seconds`` (wall clock).

    ``None``: no time limit, but a shutdown of the enclosing scope still aborts it.
    An inner deadline never extends an outer one.
    """
    deadline = Deadline(seconds)
    outer = _current.deadline
    for limit in (outer, _current.budget):
        if limit is not None and limit.at < deadline.at:
            deadline.at, deadline.reason = limit.at, limit.reason
    scope = _current.scope
    if scope is not None:
        scope.add(deadline)
    _current.deadline = deadline
    try:
        yield deadline
    finally:
        _current.deadline = outer
        if scope is not None:
            scope.discard(deadline)


def check_deadline() -> None:
    """Raise :class:`ExecutionAborted` if this thread's execution is past its deadline."""
    deadline = _current.deadline
    if deadline is not None and time.monotonic() > deadline.at:
        raise ExecutionAborted(deadline.reason)
