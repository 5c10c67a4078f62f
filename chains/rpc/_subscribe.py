"""Live ``eth_subscribe`` feeds of one chain: ``newHeads`` and ``logs``.

A transport that can push (the WebSocket server) opens a :class:`SubscriptionSession`
per connection with a ``send(text)`` callback; the session's ``eth_subscribe`` /
``eth_unsubscribe`` go to :meth:`RpcMethods.handle_json` as that connection's extra
methods, so the envelope rules, the error codes and the log filter parser stay the
method table's. Notifications are built when a block is sealed (:meth:`Chain.on_block`)
and have geth's shape::

    {"jsonrpc": "2.0", "method": "eth_subscription",
     "params": {"subscription": "0x…", "result": <header or log>}}

Subscription ids are a per-chain counter (``0x`` + 32 hex digits, geth's width), so a
run is reproducible. ``newHeads`` carries the block header fields (no transactions);
``logs`` carries each matching log of the block, ``removed: false`` (blocks reverted
away by ``evm_revert`` are not announced, as with filters).
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from chains._types import BlockRecord
from chains.rpc._dispatch import ExtraMethods, RpcHandler
from chains.rpc._logquery import LogQuery, parse_log_query
from chains.rpc._wire import check_object, invalid

if TYPE_CHECKING:
    from chains.rpc._filters import FilterMethods

__all__ = ["SUBSCRIPTION_KINDS", "SubscriptionSession", "Subscriptions"]

logger = logging.getLogger(__name__)

SUBSCRIPTION_KINDS: Final = ("newHeads", "logs")
#: Block fields a ``newHeads`` notification leaves out (geth sends the header only).
_NOT_HEADER: Final = frozenset({"transactions", "uncles", "withdrawals", "size", "totalDifficulty"})
_LOG_FIELDS: Final = frozenset({"address", "topics"})

Send = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class _Subscription:
    kind: str
    query: LogQuery | None
    send: Send


class Subscriptions:
    """Every live subscription on one chain; fed by the chain's sealed blocks."""

    def __init__(self, rpc: FilterMethods) -> None:
        self.rpc = rpc
        self._active: dict[str, _Subscription] = {}
        self._ids = itertools.count(1)
        rpc.chain.on_block(self._on_block)

    def __len__(self) -> int:
        return len(self._active)

    def session(self, send: Send) -> SubscriptionSession:
        """A connection's view: its own ``eth_subscribe``/``eth_unsubscribe`` and cleanup."""
        return SubscriptionSession(self, send)

    def add(self, kind: Any, options: Any, send: Send) -> str:
        """Start a feed; return its id. Bad kinds and filters are ``-32602`` errors."""
        if kind not in SUBSCRIPTION_KINDS:
            raise invalid(
                "subscription", f"must be one of {', '.join(SUBSCRIPTION_KINDS)}, got {kind!r}"
            )
        query = None
        if kind == "logs":
            # Only address and topics: a live feed has no block range (geth rejects it too).
            check_object({} if options is None else options, "filter", _LOG_FIELDS)
            query = parse_log_query({} if options is None else options, "filter")
        elif options is not None:
            raise invalid("options", "are not accepted by newHeads")
        sub_id = f"0x{next(self._ids):032x}"
        self._active[sub_id] = _Subscription(kind, query, send)
        return sub_id

    def remove(self, sub_id: str) -> bool:
        return self._active.pop(sub_id, None) is not None

    def _on_block(self, record: BlockRecord) -> None:
        if not self._active:
            return
        head: dict[str, Any] | None = None
        for sub_id, sub in list(self._active.items()):
            if sub.kind == "newHeads":
                if head is None:
                    block = self.rpc._formatted_block(record, False)
                    head = {k: v for k, v in block.items() if k not in _NOT_HEADER}
                items: list[Any] = [head]
            else:
                assert sub.query is not None
                items = self.rpc._block_logs(record, sub.query)
            for item in items:
                message = {
                    "jsonrpc": "2.0",
                    "method": "eth_subscription",
                    "params": {"subscription": sub_id, "result": item},
                }
                try:
                    sub.send(json.dumps(message, separators=(",", ":")))
                except Exception:
                    # A listener runs inside block sealing: a failing sink (a closed
                    # connection) must never fail the transaction that sealed the block.
                    logger.exception("dropping subscription %s: its sink failed", sub_id)
                    self._active.pop(sub_id, None)
                    break


class SubscriptionSession:
    """One connection's subscriptions; :meth:`close` ends them all (on disconnect)."""

    def __init__(self, hub: Subscriptions, send: Send) -> None:
        self._hub = hub
        self._send = send
        self._ids: list[str] = []
        self.methods: ExtraMethods = {
            "eth_subscribe": RpcHandler.from_callable(self.subscribe),
            "eth_unsubscribe": RpcHandler.from_callable(self.unsubscribe),
        }

    def subscribe(self, kind: Any, options: Any = None) -> str:
        sub_id = self._hub.add(kind, options, self._send)
        self._ids.append(sub_id)
        return sub_id

    def unsubscribe(self, subscription_id: Any) -> bool:
        """``true`` if this connection had the subscription (another's id is not found)."""
        if not isinstance(subscription_id, str):
            raise invalid("subscription_id", f"must be a string, got {subscription_id!r}")
        if subscription_id not in self._ids:
            return False
        self._ids.remove(subscription_id)
        return self._hub.remove(subscription_id)

    @property
    def active(self) -> tuple[str, ...]:
        return tuple(self._ids)

    def close(self) -> None:
        for sub_id in self._ids:
            self._hub.remove(sub_id)
        self._ids.clear()
