"""Gas estimates in one EVM run when a second would only confirm what the first shows.

:meth:`~chains.Chain.estimate_gas` runs the transaction at the block gas limit, then at
the optimistic limit ``guess = (used + refund + 2300) × 64/63`` (geth's first guess) and
answers ``guess`` if that run succeeds (else it bisects). :func:`fits_lower_limit`
decides, from the call tree the first run recorded, whether the run at ``guess`` is
certain to succeed, so that run can be skipped with the same answer.

Why the first run decides it. A lower gas limit changes an execution only through the
gas it leaves: the ``GAS`` opcode's value, the gas a ``CALL``/``CREATE`` forwards
(``min(requested, avail - avail // 64)``, EIP-150), SSTORE's sentry (it fails with at
most 2300 gas left, EIP-2200) and running out of gas. With a frame's gas lowered by
``d``, every charge costs the same and its gas left stays ``d`` lower throughout
(a child gets less, uses the same and returns ``d_child`` less), provided:

- the frame's ``GAS`` values only feed calls: each reachable ``GAS`` is followed at once
  by a call opcode (Vyper's and Solidity's ``gas()`` forwarding), so the requested gas
  exceeds what is available and the child gets the 63/64 share in both runs;
- the gas left before each call and at the frame's end, less ``d``, stays at least 2300
  (gas left only falls between calls, so no charge runs out and no SSTORE sees the
  sentry);
- each child passes the same test with its own, smaller shortfall ``d_child``.

A frame whose gas does not change (``d = 0``) runs exactly as before, children and all.
Every bound is monotone in ``d``, so where a frame ends up with less of a shortfall (a
child that burned its gas, a CREATE collision) the test stays on the safe side. When
the test fails the estimate runs the transaction at ``guess`` as before; the answer is
always the one :meth:`~chains.Chain.estimate_gas` gives
(``tests/chains/test_rpc_estimate.py``).
"""

from __future__ import annotations

import functools
import threading
from typing import Any, Final

#: EIP-2200's SSTORE sentry and the value-transfer stipend (both 2300).
_SENTRY: Final = 2300
_STIPEND: Final = 2300
_GAS: Final = 0x5A
_JUMPDEST: Final = 0x5B
#: CALL, CALLCODE, DELEGATECALL, STATICCALL
_CALLS: Final = frozenset({0xF1, 0xF2, 0xF4, 0xFA})
#: STOP, JUMP, RETURN, REVERT, INVALID, SELFDESTRUCT: the next byte is reached only by a jump
_ENDS: Final = frozenset({0x00, 0x56, 0xF3, 0xFD, 0xFE, 0xFF})
_SCANNED_MAX: Final = 256
_scanned: dict[bytes, bool] = {}
_last = threading.local()

__all__ = ["fits_lower_limit", "last_top_frame", "probe_class"]


@functools.cache
def probe_class(base: type) -> type:
    """A subclass of the computation class ``base`` that records the call tree.

    Each frame keeps ``probe_calls``: for each child, the parent's gas left just after
    paying for the call, the gas forwarded (without the stipend) and the child
    computation. The thread's last top frame is :func:`last_top_frame`'s. Execution is
    ``base``'s.
    """

    class GasProbe(base):
        @classmethod
        def apply_computation(
            cls,
            state: Any,
            message: Any,
            transaction_context: Any,
            parent_computation: Any = None,
        ) -> Any:
            if parent_computation is None:
                computation = super().apply_computation(state, message, transaction_context)
                _last.top = computation
                return computation
            remaining = parent_computation.get_gas_remaining()
            computation = super().apply_computation(
                state, message, transaction_context, parent_computation
            )
            stipend = (
                _STIPEND
                if message.value and message.should_transfer_value and not message.is_create
                else 0
            )
            calls = parent_computation.__dict__.setdefault("probe_calls", [])
            calls.append((remaining, message.gas - stipend, computation))
            return computation

    return GasProbe


def last_top_frame() -> Any:
    """The top computation of this thread's last run under a probe class (and forget it)."""
    top = getattr(_last, "top", None)
    _last.top = None
    return top


def fits_lower_limit(top: Any, shortfall: int) -> bool:
    """Whether the recorded successful run ``top`` also succeeds with ``shortfall`` less
    gas (True only when certain; see the module docstring)."""
    if top is None:
        return False
    pending = [(top, shortfall)]
    while pending:
        frame, d = pending.pop()
        if d == 0:
            continue  # same gas: the frame and its children run exactly as recorded
        if frame.get_gas_remaining() - d < _SENTRY or not _gas_only_feeds_calls(frame.msg.code):
            return False
        for remaining, forwarded, child in frame.__dict__.get("probe_calls", ()):
            available = remaining + forwarded
            lower = available - d
            if lower < _SENTRY:
                return False
            share = lower - lower // 64
            if forwarded == available - available // 64:  # all it could: the 63/64 share
                pending.append((child, forwarded - share))
            else:  # a fixed amount, capped by the share
                pending.append((child, forwarded - min(forwarded, share)))
    return True


def _gas_only_feeds_calls(code: bytes) -> bool:
    """Whether every reachable GAS opcode in ``code`` is followed at once by a call.

    Reachable: from the start or a JUMPDEST, up to an instruction that ends the
    straight line (PUSH data skipped). Conservative: every JUMPDEST counts as reached.
    """
    known = _scanned.get(code)
    if known is not None:
        return known
    ok = True
    reachable = True
    i, n = 0, len(code)
    while i < n:
        op = code[i]
        if op == _JUMPDEST:
            reachable = True
        elif reachable and op == _GAS and (i + 1 >= n or code[i + 1] not in _CALLS):
            ok = False
            break
        elif op in _ENDS:
            reachable = False
        i += op - 0x5E if 0x60 <= op <= 0x7F else 1
    if len(_scanned) >= _SCANNED_MAX:
        _scanned.clear()
    _scanned[code] = ok
    return ok
