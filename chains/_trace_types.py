"""The values a trace returns: call frames (geth's ``callTracer``), struct-logger steps, options.

Kept apart from the tracers (``_tracing``) so the printer (:mod:`chains.trace`) reads
them without importing the execution machinery.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CallFrame", "CallLog", "StructLog", "StructTrace", "TraceOptions"]


@dataclass(frozen=True)
class CallLog:
    """A log emitted inside a call frame; ``position`` = child calls made before it."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    position: int


@dataclass(frozen=True)
class CallFrame:
    """One call frame of a traced execution (geth's ``callTracer`` frame).

    ``type`` is CALL, STATICCALL, DELEGATECALL, CALLCODE, CREATE or CREATE2; ``to`` is
    the called (or created) address — for DELEGATECALL the code's address, as geth;
    ``value`` is ``None`` for STATICCALL; ``gas_used`` of the top frame is the
    transaction's (intrinsic gas included, refund deducted); ``error`` is geth's wording
    ("execution reverted", "out of gas", ...), ``revert_reason`` the decoded
    ``Error(string)``/``Panic`` payload of a revert.
    """

    type: str
    sender: str
    to: str | None
    value: int | None
    gas: int
    gas_used: int
    input: bytes
    output: bytes
    error: str | None = None
    revert_reason: str | None = None
    calls: tuple[CallFrame, ...] = ()
    logs: tuple[CallLog, ...] = ()
    depth: int = 0

    @property
    def is_error(self) -> bool:
        return self.error is not None

    def walk(self) -> list[CallFrame]:
        """This frame and every frame below it, depth first in call order."""
        out = [self]
        for call in self.calls:
            out.extend(call.walk())
        return out


@dataclass(frozen=True, slots=True)
class StructLog:
    """One step of geth's struct logger; ``None`` fields were disabled by the options."""

    pc: int
    op: str
    gas: int
    gas_cost: int
    depth: int
    stack: tuple[int, ...] | None
    memory: bytes | None
    storage: dict[int, int] | None
    refund: int
    error: str | None
    return_data: bytes | None


@dataclass(frozen=True)
class StructTrace:
    """geth's struct-logger result: gas used, failure, return value and the steps."""

    gas: int
    failed: bool
    return_value: bytes
    struct_logs: tuple[StructLog, ...]


@dataclass(frozen=True)
class TraceOptions:
    """geth's tracer options (``debug_traceTransaction``'s second parameter).

    Struct logger: ``disable_stack``, ``disable_storage``, ``enable_memory``,
    ``enable_return_data``, ``limit`` (0 = no limit). Call tracer: ``only_top_call``,
    ``with_log``.
    """

    disable_stack: bool = False
    disable_storage: bool = False
    enable_memory: bool = False
    enable_return_data: bool = False
    limit: int = 0
    only_top_call: bool = False
    with_log: bool = False
