"""The JSON-RPC method table of one chain: one table, any transport.

:class:`RpcMethods` binds the ``eth_*``, ``net_*``, ``web3_*`` methods and the anvil /
Hardhat dev methods to a :class:`~chains.Chain`. Transports feed it:

- ``call(method, params)`` — the fast path of the in-process web3 provider: Python
  values in, JSON-ready result out, :class:`RpcError` on failure;
- ``handle(request)`` — a parsed JSON-RPC 2.0 request object or batch list in, the
  response object(s) out (``None`` for notifications), never an exception;
- ``handle_json(text)`` — raw JSON in, JSON out (adds ``-32700`` parse errors).

Error codes:

=========  =================================================================================
-32700     parse error: the payload is not JSON (``handle_json`` only)
-32600     invalid request: not an object, ``jsonrpc`` not ``"2.0"``, ``method`` not a
           string, ``params`` neither array nor object, a bad ``id``, an unknown member,
           an empty or oversized batch
-32601     the method does not exist; the message names it
-32602     invalid params: wrong arity or types, named (object) params, unknown fields
           in a transaction or filter object, contradictory fields; the message names
           the parameter
-32603     internal error: a bug; the traceback is logged
-32000     the chain rejected the request: nonce too low/high, insufficient funds, bad
           signature, wrong chain id, unknown sender, gas above the block limit, unknown
           block for a state query, unknown filter (geth's messages where practical)
3          ``execution reverted[: reason]`` from eth_call / eth_estimateGas, with the raw
           revert data (``0x`` hex) in ``data``
=========  =================================================================================

Decisions, following geth unless stated:

- A request without ``id`` is a notification (JSON-RPC 2.0): it is executed and gets
  no response, also inside a batch. A malformed request always gets an error response,
  with ``id: null`` when its id is missing or unusable.
- Quantities are ``0x`` hex; JSON integers are also accepted (as anvil does).
- ``eth_sendTransaction`` of a transaction that reverts or fails mines it anyway (as
  anvil does): the hash is returned and the receipt has status ``0x0``. Without
  ``gas`` the node estimates it first, so a revert then surfaces as code 3.
  Transactions are always EIP-1559 (type 2); a legacy ``gasPrice`` becomes
  ``maxFeePerGas = maxPriorityFeePerGas = gasPrice``. A nonce above the account's next
  one is rejected (there is no queue of future transactions).
- ``pending`` reads the pending block's state for balances, nonces, code, storage,
  eth_call and eth_estimateGas; as a block (eth_getBlockByNumber, logs) it means the
  latest sealed block.
- eth_call defaults to ``latest``, eth_estimateGas to ``pending``.
- Snapshots (``evm_snapshot``) cover this chain only; the devnet's shared clock never
  goes back, so ``evm_revert`` does not rewind time. Reverting to an unknown id
  returns ``false``.
- ``hardhat_*`` aliases return ``true`` where Hardhat does; ``anvil_*`` return what
  anvil returns (``null``, or ``true`` for anvil_setStorageAt).
- Filters see blocks sealed after they were installed; blocks reverted away before a
  poll are not reported. A filter holds at most ``FILTER_BACKLOG`` unpolled blocks;
  past that it is dropped and the next poll says so.
"""

from __future__ import annotations

import itertools
from typing import Any

from chains._chain import Chain
from chains.rpc._dev import DevMethods
from chains.rpc._dispatch import (
    _REGISTRY,
    MAX_BATCH,
    MAX_JSON_DEPTH,
    ExtraMethods,
    RpcHandler,
    rpc_method,
)
from chains.rpc._eth import EthMethods, _client_version
from chains.rpc._fees import FeeMethods
from chains.rpc._filters import FILTER_BACKLOG, FilterMethods, _Filter
from chains.rpc._subscribe import Subscriptions
from chains.rpc._wire import METHOD_NOT_FOUND, RpcError

__all__ = [
    "FILTER_BACKLOG",
    "MAX_BATCH",
    "MAX_JSON_DEPTH",
    "ExtraMethods",
    "RpcError",
    "RpcHandler",
    "RpcMethods",
]


class RpcMethods(EthMethods, FilterMethods, FeeMethods, DevMethods):
    """The JSON-RPC methods of one chain (see the module docstring for the rules)."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self._filters: dict[int, _Filter] = {}
        self._filter_ids = itertools.count(1)
        self._is_listening = False
        self._block_cache: dict[tuple[bytes, bool], dict[str, Any]] = {}
        self._client = _client_version()
        self._chain_id_hex = hex(chain.chain_id)
        self._subscriptions: Subscriptions | None = None
        self._handlers = {name: self._bind(attr, mode) for name, (attr, mode) in _REGISTRY.items()}

    def __repr__(self) -> str:
        return f"<RpcMethods of {self.chain!r}>"

    # ------------------------------------------------------------------------------------
    # subscriptions (served for real per WebSocket connection, see chains/rpc/_subscribe.py)
    # ------------------------------------------------------------------------------------
    @property
    def subscriptions(self) -> Subscriptions:
        """The chain's live ``eth_subscribe`` feeds (created on first use)."""
        if self._subscriptions is None:
            self._subscriptions = Subscriptions(self)
        return self._subscriptions

    @rpc_method("eth_subscribe")
    def subscribe(self, kind: Any, options: Any = None) -> str:
        """Without a connection to push to (HTTP, in-process) there are no subscriptions:
        geth's answer. A WebSocket connection serves its own ``eth_subscribe``."""
        raise RpcError(
            METHOD_NOT_FOUND,
            "notifications not supported: eth_subscribe needs a WebSocket connection",
        )

    @rpc_method("eth_unsubscribe")
    def unsubscribe(self, subscription_id: Any) -> bool:
        raise RpcError(
            METHOD_NOT_FOUND,
            "notifications not supported: eth_unsubscribe needs a WebSocket connection",
        )
