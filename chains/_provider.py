"""The in-process web3.py provider: web3 calls the chain's method table directly.

No sockets and no JSON: web3's request (method name and Python params, which may hold
``bytes`` or ``HexBytes``) goes straight to :meth:`RpcMethods.call`, and the JSON-ready
result comes back as the response dict web3 expects. web3's default middleware stays
installed, so users get web3's normal behaviour (gas estimation with a buffer, fee
validation, attribute dicts); the speed comes from the node side.

>>> from chains import Devnet
>>> w3 = Devnet(n_chains=1).chains[0].w3
>>> w3.eth.chain_id
31337
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from web3 import Web3
from web3.middleware.base import Middleware, MiddlewareOnion
from web3.providers.base import BaseProvider
from web3.types import RPCEndpoint, RPCResponse

from chains._wire import RpcError

if TYPE_CHECKING:
    from chains._chain import Chain
    from chains._rpc import RpcMethods

__all__ = ["InProcessProvider", "build_web3"]


class InProcessProvider(BaseProvider):
    """A web3.py provider bound to one chain's :class:`~chains.RpcMethods`.

    Failures the node reports (reverts, rejected transactions, bad params) come back
    as JSON-RPC error responses, so web3 raises its usual exceptions
    (``ContractLogicError``, ``Web3RPCError``, ...). A bug inside this package is not
    hidden behind ``-32603``: it propagates as the Python exception it is.
    """

    logger = logging.getLogger("chains.InProcessProvider")

    def __init__(self, rpc: RpcMethods) -> None:
        super().__init__()
        self.rpc = rpc
        self._call = rpc.call
        self._ids = itertools.count()
        self._batch_func: tuple[tuple[Middleware, ...] | None, Callable[..., Any] | None] = (
            None,
            None,
        )

    def __repr__(self) -> str:
        return f"<InProcessProvider {self.rpc.chain!r}>"

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request_id = next(self._ids)
        try:
            result = self._call(method, params)
        except RpcError as exc:
            return {"jsonrpc": "2.0", "id": request_id, "error": exc.to_dict()}  # type: ignore[typeddict-item]
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        """Answer ``w3.batch_requests()`` in order, each request on its own."""
        return [self.make_request(method, params) for method, params in requests]

    def batch_request_func(
        self, w3: Web3, middleware_onion: MiddlewareOnion
    ) -> Callable[..., list[RPCResponse] | RPCResponse]:
        """The batch entry point web3's request manager uses, wrapped in its middleware."""
        middleware: tuple[Middleware, ...] = middleware_onion.as_tuple_of_middleware()
        if self._batch_func[0] != middleware:
            func: Callable[..., Any] = self.make_batch_request
            for mw in reversed(middleware):
                func = mw(w3).wrap_make_batch_request(func)
            self._batch_func = (middleware, func)
        cached = self._batch_func[1]
        assert cached is not None
        return cached

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def build_web3(chain: Chain) -> Web3:
    """A ``Web3`` on ``chain`` in-process; ``default_account`` is the chain's default sender."""
    w3 = Web3(InProcessProvider(chain.rpc))
    w3.eth.default_account = chain.default_sender  # type: ignore[assignment]
    return w3
