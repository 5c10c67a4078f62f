"""chains.rpc: the JSON-RPC layer above the chains core — one method table, any transport.

Rooms: ``_wire`` (error codes, :class:`RpcError`, parsing and formatting of wire values),
``_dispatch`` (the JSON-RPC 2.0 envelope and the method registry), ``_eth``, ``_filters``,
``_fees`` and ``_dev`` (the methods, grouped the way anvil groups its api), ``_methods``
(:class:`RpcMethods`, the table of one chain), ``_subscribe`` (``eth_subscribe`` feeds),
``_provider`` (the in-process web3 provider) and ``_server`` (HTTP and WebSocket).

Importing this package registers the ``rpc`` and ``w3`` transports of every
:class:`~chains.Chain`; web3 and the server stack are imported on first use only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chains._transports import register_transport
from chains.rpc._bundle import bundle_methods
from chains.rpc._dispatch import MAX_BATCH, MAX_JSON_DEPTH, ExtraMethods, RpcHandler
from chains.rpc._filters import FILTER_BACKLOG
from chains.rpc._methods import RpcMethods
from chains.rpc._wire import (
    EXECUTION_REVERTED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SERVER_ERROR,
    RpcError,
)

if TYPE_CHECKING:
    from chains._chain import Chain
    from chains.rpc._provider import InProcessProvider
    from chains.rpc._server import DEFAULT_HOST, MAX_BODY, DevnetServer, Endpoint

__all__ = [
    "bundle_methods",
    "DEFAULT_HOST",
    "EXECUTION_REVERTED",
    "FILTER_BACKLOG",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "MAX_BATCH",
    "MAX_BODY",
    "MAX_JSON_DEPTH",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "SERVER_ERROR",
    "DevnetServer",
    "Endpoint",
    "ExtraMethods",
    "InProcessProvider",
    "RpcError",
    "RpcHandler",
    "RpcMethods",
]

_SERVER_NAMES = frozenset({"DEFAULT_HOST", "MAX_BODY", "DevnetServer", "Endpoint"})


def _build_web3(chain: Chain) -> Any:
    from chains.rpc._provider import build_web3

    return build_web3(chain)


register_transport("rpc", RpcMethods)
register_transport("w3", _build_web3)


def __getattr__(name: str) -> Any:
    # web3 and the server stack (starlette, uvicorn) are imported on first use only,
    # keeping `import chains` light.
    if name == "InProcessProvider":
        from chains.rpc._provider import InProcessProvider

        return InProcessProvider
    if name in _SERVER_NAMES:
        from chains.rpc import _server

        return getattr(_server, name)
    raise AttributeError(f"module 'chains.rpc' has no attribute {name!r}")
