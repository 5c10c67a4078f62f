"""Call traces, printed the way forge and titanoboa print them.

>>> trace = chain.trace_transaction(receipt.tx_hash, options=TraceOptions(with_log=True))
>>> print(format_trace(trace, chain))
[33031] Router(0xe7f1…0512).swap(amount_in=5, min_out=9)
├─ [6412] Pool(0x5FbD…0aa3).swap(amount_in=5, min_out=9)
│  └─ ← [Revert] pool: slippage
└─ ← [Revert] pool: slippage

Each line is one call frame: ``[gas used]``, the contract's name and short address,
the function and its decoded arguments, then its events (``emit``) and sub-calls in the
order they happened, and last its outcome (``←`` the decoded return value, ``[Revert]``
with the decoded reason, or the EVM error). Names and ABIs come from the chain's
contract handles (every ``chain.deploy``/``chain.at``/``Contract``) and, for contracts
deployed some other way (a factory, raw bytecode), from the chain's compiler: any
deployed code that starts with the runtime code of a contract it compiled is that
contract. Unknown contracts print as their address with the selector and raw calldata.

A :class:`~chains.TransactionReverted` raised by the Python API carries the same on
demand: ``exc.trace`` (the :class:`CallFrame` tree) and ``exc.format_trace()`` (this
text), computed on first use by re-executing — a revert caught in a test costs nothing
extra. The pytest plugin adds the text as a "call trace" section to the report of a
test that fails with an uncaught ``TransactionReverted``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eth_abi import decode
from eth_abi.exceptions import DecodingError

from chains._contract import _Method, _prettify
from chains._errors import decode_revert_reason
from chains._trace_types import CallFrame, CallLog, StructLog, StructTrace, TraceOptions
from chains._types import Log

if TYPE_CHECKING:
    from chains._chain import Chain

__all__ = [
    "CallFrame",
    "CallLog",
    "StructLog",
    "StructTrace",
    "TraceOptions",
    "format_trace",
]

#: Longest rendering of one argument or return value before it is elided.
_MAX_VALUE = 66


def short_address(address: str) -> str:
    """``0x5FbD…0aa3``: enough to tell addresses apart in a tree."""
    return f"{address[:6]}…{address[-4:]}"


class _Contracts:
    """Name and ABI of an address, from the chain's handles or its compiler's cache."""

    def __init__(self, chain: Chain | None) -> None:
        self.chain = chain
        self._seen: dict[str, tuple[str, list[dict[str, Any]]] | None] = {}

    def lookup(
        self, address: str, code: bytes | None = None
    ) -> tuple[str, list[dict[str, Any]]] | None:
        if address in self._seen:
            return self._seen[address]
        found = None
        chain = self.chain
        if chain is not None:
            found = chain.abi_registry.find_contract(address)
            if found is None and chain._compiler is not None:
                if code is None:
                    code = chain.get_code(address)
                compiled = chain._compiler.find_by_code(code)
                if compiled is not None:
                    found = (compiled.name, list(compiled.abi))
        self._seen[address] = found
        return found


def _method(abi: Sequence[dict[str, Any]], selector: bytes) -> _Method | None:
    for item in abi:
        if item.get("type") == "function":
            method = _Method.from_abi(item)
            if method.selector == selector:
                return method
    return None


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        text = "0x" + value.hex()
    elif isinstance(value, tuple | list):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    else:
        text = str(value)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _decode(types: Sequence[str], data: bytes) -> list[Any] | None:
    try:
        return _prettify(types, decode(list(types), data))
    except (DecodingError, OverflowError, ValueError):
        return None


def _call_text(frame: CallFrame, contracts: _Contracts) -> tuple[str, _Method | None]:
    to = frame.to or "0x" + "00" * 20
    kind = "" if frame.type == "CALL" else f"[{frame.type.lower()}] "
    value = f"{{value: {frame.value}}}" if frame.value else ""
    if frame.type in ("CREATE", "CREATE2"):
        code = frame.output if not frame.is_error else None
        known = contracts.lookup(to, code) if code else None
        name = known[0] if known else "contract"
        return f"{kind}→ new {name}@{to}{value}", None
    known = contracts.lookup(to)
    label = f"{known[0]}({short_address(to)})" if known else to
    selector, args = frame.input[:4], frame.input[4:]
    method = _method(known[1], selector) if known and len(frame.input) >= 4 else None
    if method is None:
        if not frame.input:
            return f"{kind}{label}{value}", None
        call = f"0x{selector.hex()}({_show(args)})" if args else f"0x{selector.hex()}()"
        return f"{kind}{label}.{call}{value}", None
    decoded = _decode(method.inputs, args)
    if decoded is None:
        shown = _show(args)
    else:
        shown = ", ".join(
            f"{name}={_show(v)}" if name else _show(v)
            for name, v in zip(method.input_names, decoded, strict=True)
        )
    return f"{kind}{label}.{method.name}{value}({shown})", method


def _outcome(frame: CallFrame, method: _Method | None) -> str:
    if frame.error is not None:
        if frame.error == "execution reverted":
            reason = frame.revert_reason or decode_revert_reason(frame.output)
            if reason is not None:
                return f"← [Revert] {reason}"
            return f"← [Revert] {_show(frame.output)}" if frame.output else "← [Revert]"
        return f"← [{frame.error}]"
    if frame.type in ("CREATE", "CREATE2"):
        return f"← {len(frame.output)} bytes of code"
    if method is not None and method.outputs:
        values = _decode(method.outputs, frame.output)
        if values is not None:
            return "← " + ", ".join(_show(v) for v in values)
    if frame.output:
        return f"← {_show(frame.output)}"
    return "← ()"


def _event_text(log: CallLog, chain: Chain | None) -> str:
    if chain is not None:
        event = chain.abi_registry.decode_log(
            Log(
                address=log.address,
                topics=log.topics,
                data=log.data,
                log_index=0,
                transaction_index=0,
                transaction_hash=b"",
                block_number=0,
            )
        )
        if event is not None:
            args = ", ".join(f"{k}={_show(v)}" for k, v in event.args.items())
            return f"emit {event.name}({args})"
    topics = ", ".join(_show(t) for t in log.topics)
    return f"emit log(topics=[{topics}], data={_show(log.data)})"


def format_trace(frame: CallFrame, chain: Chain | None = None, *, show_gas: bool = True) -> str:
    """The call tree of ``frame`` as indented text; names are decoded through ``chain``.

    Events appear only if the trace was taken with ``TraceOptions(with_log=True)``.
    """
    contracts = _Contracts(chain)
    lines: list[str] = []

    def render(node: CallFrame, prefix: str, branch: str, last_prefix: str) -> None:
        text, method = _call_text(node, contracts)
        gas = f"[{node.gas_used}] " if show_gas else ""
        lines.append(f"{prefix}{branch}{gas}{text}")
        children: list[str | CallFrame] = []
        logs = sorted(node.logs, key=lambda log: log.position)
        position = 0
        for index, call in enumerate(node.calls):
            while position < len(logs) and logs[position].position <= index:
                children.append(_event_text(logs[position], chain))
                position += 1
            children.append(call)
        children.extend(_event_text(log, chain) for log in logs[position:])
        children.append(_outcome(node, method))
        inner = prefix + last_prefix
        for i, child in enumerate(children):
            is_last = i == len(children) - 1
            mark = "└─ " if is_last else "├─ "
            if isinstance(child, str):
                lines.append(f"{inner}{mark}{child}")
            else:
                render(child, inner, mark, "   " if is_last else "│  ")

    render(frame, "", "", "")
    return "\n".join(lines)
