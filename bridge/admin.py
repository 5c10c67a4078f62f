"""The bridge's JSON-RPC admin methods: inspect the relayer's messages, relay one now,
pause and resume submission.

:func:`admin_methods` returns a ``{method name: handler}`` table for a JSON-RPC server's
extra methods (``testbed up`` serves it on every chain's port through
:class:`chains.DevnetServer`); handlers raise :class:`chains.RpcError` on bad parameters.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from bridge._relayer import BridgeError, Relayer
from bridge.store import STATUSES, MessageRecord, StoreError
from chains import RpcError
from chains.rpc import INVALID_PARAMS, SERVER_ERROR

__all__ = ["admin_methods"]


def _record_json(record: MessageRecord) -> dict[str, Any]:
    out = dataclasses.asdict(record)
    out["payload"] = "0x" + bytes(record.payload).hex()
    out["nonce"] = hex(record.nonce)
    out["deadline"] = hex(record.deadline)
    return out


def admin_methods(relayer: Relayer, lock: Any = None) -> dict[str, Callable[..., Any]]:
    """The bridge's JSON-RPC admin methods, served on every chain's port.

    - ``bridge_messages([statuses])`` — every message the relayer knows, in observation
      order (optionally only those whose status is in the list): ids, lane, fields,
      status, the time of each transition (``sent_at``, ``eligible_at``, ``relayed_at``,
      ``executed_at``, … as clock seconds), attempts, the relay tx and the last error.
      uint256 fields (nonce, deadline) are ``0x`` quantities.
    - ``bridge_message(id)`` — one message with its lifecycle ``events``; ``null`` if
      unknown.
    - ``bridge_relayNow(id)`` — deliver now, ignoring the latency (and a drop or an
      exhausted retry budget); returns the message afterwards.
    - ``bridge_pause()`` / ``bridge_resume()`` — stop submitting (observation goes on) /
      submit everything that fell due meanwhile; both return the status.
    - ``bridge_status()`` — ``{paused, running, lanes, counts}``.
    """

    def parse_id(value: Any) -> str:
        if (
            not isinstance(value, str)
            or len(value) != 66
            or value[:2] != "0x"
            or not all(c in "0123456789abcdefABCDEF" for c in value[2:])
        ):
            raise RpcError(
                INVALID_PARAMS, f"invalid params: id must be a 32-byte 0x hash, got {value!r}"
            )
        return value.lower()

    def status() -> dict[str, Any]:
        return {
            "paused": relayer.is_paused,
            "running": relayer.is_running,
            "lanes": [list(lane) for lane in relayer.lanes],
            "counts": {s: relayer.store.count(s) for s in STATUSES},
        }

    def messages(statuses: Any = None) -> list[dict[str, Any]]:
        if statuses is not None and (
            not isinstance(statuses, list) or any(s not in STATUSES for s in statuses)
        ):
            raise RpcError(
                INVALID_PARAMS,
                f"invalid params: statuses must be a list of {', '.join(STATUSES)}",
            )
        return [_record_json(r) for r in relayer.messages(statuses)]

    def message(message_id: Any) -> dict[str, Any] | None:
        record = relayer.get(parse_id(message_id))
        if record is None:
            return None
        out = _record_json(record)
        out["events"] = [dataclasses.asdict(e) for e in relayer.events(record.id)]
        return out

    def relay_now(message_id: Any) -> dict[str, Any]:
        try:
            return _record_json(relayer.relay_now(parse_id(message_id)))
        except (StoreError, BridgeError) as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from exc

    def pause() -> dict[str, Any]:
        relayer.pause()
        return status()

    def resume() -> dict[str, Any]:
        relayer.resume()
        return status()

    return {
        "bridge_messages": messages,
        "bridge_message": message,
        "bridge_relayNow": relay_now,
        "bridge_pause": pause,
        "bridge_resume": resume,
        "bridge_status": status,
    }
