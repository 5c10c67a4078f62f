"""``debug_traceTransaction`` and ``debug_traceCall``: geth's tracers over JSON-RPC.

The tracer config is geth's ``TraceConfig``: no ``tracer`` (or ``"structLogger"``) is
the struct logger with ``disableStack``, ``disableStorage``, ``enableMemory``,
``enableReturnData`` and ``limit``; ``"callTracer"`` is the call tree with
``tracerConfig: {onlyTopCall, withLog}``. ``timeout`` and ``reexec`` are accepted and
have nothing to limit here (tracing runs to the end; every state is kept); any other
member, or another tracer (``prestateTracer``, JavaScript tracers), is ``-32602``
naming it. The output is geth's: struct-log numbers are JSON numbers, the stack is
compact ``0x`` hex (bottom first), memory 32-byte words and storage 32-byte keys and
values in bare hex; call frames carry ``0x`` quantities, lowercase addresses, and omit
empty ``output``/``error``/``revertReason``/``calls``/``logs`` and a STATICCALL's
``value``.
"""

from __future__ import annotations

from typing import Any, Final

from chains._deadline import execution_deadline
from chains._tracing import CallFrame, StructLog, StructTrace, TraceOptions
from chains.rpc._dispatch import MethodTable, rpc_method
from chains.rpc._wire import (
    check_object,
    hex_address,
    hex_data,
    invalid,
    parse_bool,
    parse_hash,
    parse_quantity,
    parse_tx,
)

__all__ = ["DebugMethods", "format_call_frame", "format_struct_trace"]

_CONFIG_FIELDS: Final = frozenset(
    {
        "tracer",
        "tracerConfig",
        "timeout",
        "reexec",
        "disableStack",
        "disableStorage",
        "enableMemory",
        "enableReturnData",
        "limit",
        "debug",
    }
)
_STRUCT_OPTIONS: Final[dict[str, str | None]] = {
    "disableStack": "disable_stack",
    "disableStorage": "disable_storage",
    "enableMemory": "enable_memory",
    "enableReturnData": "enable_return_data",
    "debug": None,  # geth prints the logs to stderr; nothing to print here
}
_CALL_OPTIONS: Final = {"onlyTopCall": "only_top_call", "withLog": "with_log"}
_STRUCT_NAMES: Final = (None, "structLogger", "")


def parse_trace_config(value: Any, name: str) -> tuple[str, TraceOptions]:
    """geth's ``TraceConfig`` → (``"call"`` or ``"struct"``, :class:`TraceOptions`)."""
    if value is None:
        return "struct", TraceOptions()
    config = check_object(value, name, _CONFIG_FIELDS)
    tracer = config.get("tracer")
    values: dict[str, Any] = {}
    if tracer == "callTracer":
        kind = "call"
        for key in _STRUCT_OPTIONS:
            if key in config and key != "debug":
                raise invalid(f"{name}.{key}", "applies to the struct logger, not callTracer")
        sub = config.get("tracerConfig")
        if sub is not None:
            sub = check_object(sub, f"{name}.tracerConfig", frozenset(_CALL_OPTIONS))
            for key, attr in _CALL_OPTIONS.items():
                if key in sub:
                    values[attr] = parse_bool(sub[key], f"{name}.tracerConfig.{key}")
    elif tracer in _STRUCT_NAMES:
        kind = "struct"
        if config.get("tracerConfig") not in (None, {}):
            raise invalid(f"{name}.tracerConfig", "applies to callTracer only")
        for key, field_name in _STRUCT_OPTIONS.items():
            if key in config:
                flag = parse_bool(config[key], f"{name}.{key}")
                if field_name is not None:
                    values[field_name] = flag
        if "limit" in config:
            values["limit"] = parse_quantity(config["limit"], f"{name}.limit", limit=2**31)
    else:
        raise invalid(
            f"{name}.tracer",
            f"{tracer!r} is not served: use callTracer, or no tracer for the struct logger",
        )
    if "timeout" in config and not isinstance(config["timeout"], str):
        raise invalid(f"{name}.timeout", "must be a duration string such as '5s'")
    if "reexec" in config:
        parse_quantity(config["reexec"], f"{name}.reexec")
    return kind, TraceOptions(**values)


def _bare(value: int) -> str:
    return value.to_bytes(32, "big").hex()


def format_struct_log(step: StructLog) -> dict[str, Any]:
    out: dict[str, Any] = {
        "pc": step.pc,
        "op": step.op,
        "gas": step.gas,
        "gasCost": step.gas_cost,
        "depth": step.depth,
    }
    if step.error is not None:
        out["error"] = step.error
    if step.stack is not None:
        out["stack"] = [hex(v) for v in step.stack]
    if step.return_data is not None and step.return_data:
        out["returnData"] = hex_data(step.return_data)
    if step.memory is not None:
        memory = step.memory
        out["memory"] = [memory[i : i + 32].hex() for i in range(0, len(memory), 32)]
    if step.storage is not None:
        out["storage"] = {_bare(k): _bare(v) for k, v in step.storage.items()}
    if step.refund:
        out["refund"] = step.refund
    return out


def format_struct_trace(trace: StructTrace) -> dict[str, Any]:
    """geth's struct-logger result object."""
    return {
        "gas": trace.gas,
        "failed": trace.failed,
        "returnValue": hex_data(trace.return_value),
        "structLogs": [format_struct_log(step) for step in trace.struct_logs],
    }


def format_call_frame(frame: CallFrame) -> dict[str, Any]:
    """geth's ``callTracer`` frame object."""
    out: dict[str, Any] = {
        "from": hex_address(frame.sender),
        "gas": hex(frame.gas),
        "gasUsed": hex(frame.gas_used),
    }
    if frame.to is not None:
        out["to"] = hex_address(frame.to)
    out["input"] = hex_data(frame.input)
    if frame.output:
        out["output"] = hex_data(frame.output)
    if frame.error is not None:
        out["error"] = frame.error
    if frame.revert_reason is not None:
        out["revertReason"] = frame.revert_reason
    if frame.calls:
        out["calls"] = [format_call_frame(call) for call in frame.calls]
    if frame.logs:
        out["logs"] = [
            {
                "address": hex_address(log.address),
                "topics": [hex_data(t) for t in log.topics],
                "data": hex_data(log.data),
                "position": hex(log.position),
            }
            for log in frame.logs
        ]
    if frame.value is not None:
        out["value"] = hex(frame.value)
    out["type"] = frame.type
    return out


class DebugMethods(MethodTable):
    """geth's ``debug_trace*`` methods."""

    @rpc_method("debug_traceTransaction")
    def trace_transaction(self, tx_hash: Any, config: Any = None) -> dict[str, Any]:
        """Re-execute a transaction with a tracer (see :meth:`chains.Chain.trace_transaction`)."""
        key = parse_hash(tx_hash, "transaction hash")
        kind, options = parse_trace_config(config, "tracer config")
        with execution_deadline(self.chain.config.call_timeout):
            if kind == "call":
                return format_call_frame(self.chain.trace_transaction(key, options=options))
            return format_struct_trace(
                self.chain.trace_transaction(key, tracer="struct", options=options)
            )

    @rpc_method("debug_traceCall")
    def trace_call(self, transaction: Any, block: Any = None, config: Any = None) -> dict[str, Any]:
        """Trace a call against ``block`` (default ``latest``), as ``eth_call`` runs it."""
        tx = parse_tx(transaction, "transaction", self.chain.chain_id)
        where = self._state_block(block, "block", "latest")
        if isinstance(config, dict) and (
            config.get("stateOverrides") not in (None, {})
            or config.get("blockOverrides") not in (None, {})
        ):
            raise invalid("tracer config", "state and block overrides are not supported")
        if isinstance(config, dict):
            config = {
                k: v for k, v in config.items() if k not in ("stateOverrides", "blockOverrides")
            }
        kind, options = parse_trace_config(config, "tracer config")
        common: dict[str, Any] = {
            "to": tx.to,
            "data": tx.data,
            "sender": tx.sender,
            "value": tx.value,
            # geth's --rpc.gascap, as eth_call
            "gas": min(
                self.chain.config.gas_limit if tx.gas is None else tx.gas,
                self.chain.config.rpc_gas_cap,
            ),
            "block": where,
        }
        with execution_deadline(self.chain.config.call_timeout):
            if kind == "call":
                return format_call_frame(self.chain.trace_call(**common, options=options))
            return format_struct_trace(
                self.chain.trace_call(**common, tracer="struct", options=options)
            )
