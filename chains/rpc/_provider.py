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

import logging
from typing import TYPE_CHECKING, Any

from web3 import Web3
from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from chains.rpc._wire import RpcError

if TYPE_CHECKING:
    from chains._chain import Chain
    from chains.rpc._methods import RpcMethods

__all__ = ["InProcessProvider", "build_web3"]


class InProcessProvider(JSONBaseProvider):
    """A web3.py provider bound to one chain's :class:`~chains.RpcMethods`.

    It derives from ``JSONBaseProvider`` only because web3 offers ``w3.batch_requests()``
    to that family; nothing is JSON-encoded: requests go to :meth:`RpcMethods.call` as
    Python values. Failures the node reports (reverts, rejected transactions, bad
    params) come back as JSON-RPC error responses, so web3 raises its usual exceptions
    (``ContractLogicError``, ``Web3RPCError``, ...). A bug inside this package is not
    hidden behind ``-32603``: it propagates as the Python exception it is.
    """

    logger = logging.getLogger("chains.InProcessProvider")

    def __init__(self, rpc: RpcMethods) -> None:
        super().__init__()
        self.rpc = rpc
        self._call = rpc.call

    def __repr__(self) -> str:
        return f"<InProcessProvider {self.rpc.chain!r}>"

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request_id = next(self.request_counter)
        try:
            result = self._call(method, params)
        except RpcError as exc:
            return {"jsonrpc": "2.0", "id": request_id, "error": exc.to_dict()}  # type: ignore[typeddict-item]
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        """Answer ``w3.batch_requests()`` in order, each request on its own."""
        return [self.make_request(method, params) for method, params in requests]

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def build_web3(chain: Chain) -> Web3:
    """A ``Web3`` on ``chain`` in-process; ``default_account`` is the chain's default sender."""
    w3 = Web3(InProcessProvider(chain.rpc))
    w3.eth.default_account = chain.default_sender  # type: ignore[assignment]
    return w3
