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

import dataclasses
import inspect
import itertools
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final

from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth.vm.forks.prague.constants import MAX_BLOB_GAS_PER_BLOCK
from eth.vm.forks.prague.headers import calc_excess_blob_gas_prague
from eth_utils import keccak, to_checksum_address

from chains._chain import DEFAULT_PRIORITY_FEE, TX_GAS_CAP, Chain
from chains._errors import ChainError, SnapshotNotFound, TransactionReverted, UnknownBlock
from chains._types import BlockRecord
from chains._wire import (
    EXECUTION_REVERTED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SERVER_ERROR,
    RpcError,
    TxRequest,
    blob_base_fee,
    check_object,
    format_block,
    format_log,
    format_receipt,
    format_transaction,
    hex_word,
    invalid,
    parse_address,
    parse_block_id,
    parse_bool,
    parse_data,
    parse_hash,
    parse_quantity,
    parse_tx,
    parse_word,
)

if TYPE_CHECKING:
    from chains._subscribe import Subscriptions

__all__ = [
    "FILTER_BACKLOG",
    "MAX_BATCH",
    "MAX_JSON_DEPTH",
    "ExtraMethods",
    "RpcError",
    "RpcHandler",
    "RpcMethods",
]

logger = logging.getLogger(__name__)

#: Largest batch accepted (geth's default ``BatchRequestLimit``).
MAX_BATCH: Final = 1000
#: Deepest JSON nesting handle_json decodes (a request needs about five levels).
MAX_JSON_DEPTH: Final = 64
_JSON_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
#: Unpolled blocks a filter may accumulate before it is dropped.
FILTER_BACKLOG: Final = 10_000
#: geth's cap on eth_feeHistory's block count.
MAX_FEE_HISTORY: Final = 1024
_MAX_TOPICS: Final = 4
_TRANSFER_GAS: Final = 21_000
#: Precompiles have no code but do run; transfers to them are estimated by execution.
_LAST_PRECOMPILE: Final = 0x1FF
_BLOCK_CACHE_SIZE: Final = 256
_REQUEST_MEMBERS: Final = frozenset({"jsonrpc", "method", "params", "id"})
_FILTER_FIELDS: Final = frozenset({"fromBlock", "toBlock", "blockHash", "address", "topics"})
_MINE_FIELDS: Final = frozenset({"timestamp", "blocks"})
_EVM_ERRORS: Final = {
    "OutOfGas": "out of gas",
    "InsufficientStack": "stack underflow",
    "FullStack": "stack limit reached",
    "InvalidJumpDestination": "invalid jump destination",
    "InvalidInstruction": "invalid opcode",
    "StackDepthLimit": "max call depth exceeded",
    "WriteProtection": "write protection",
    "ReservedBytesInCode": "invalid code: must not begin with 0xef",
    "OutOfBoundsRead": "return data out of bounds",
    "ContractCreationCollision": "contract address collision",
}


def _client_version() -> str:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "unknown"

    return f"composability-testbed/v{version('composability-testbed')}/py-evm-{version('py-evm')}"


@dataclass(frozen=True, slots=True)
class _LogQuery:
    """A parsed log filter: a block range (or one block hash), addresses and topics."""

    from_block: int | str
    to_block: int | str
    block_hash: bytes | None
    addresses: tuple[str, ...] | None
    topics: tuple[bytes | tuple[bytes, ...] | None, ...]


@dataclass
class _Filter:
    """An installed filter: its kind, the log query if any, and blocks not yet polled."""

    kind: str  # "logs", "blocks" or "transactions"
    query: _LogQuery | None = None
    backlog: list[BlockRecord] = field(default_factory=list)
    is_overflowed: bool = False


@dataclass(frozen=True, slots=True)
class RpcHandler:
    """A method of the table: the callable and its arity, read once from its signature."""

    fn: Callable[..., Any]
    n_required: int
    n_max: int
    names: tuple[str, ...]

    @classmethod
    def from_callable(cls, fn: Callable[..., Any]) -> RpcHandler:
        """Wrap ``fn``; its positional parameters are the JSON-RPC params (defaults optional)."""
        params = list(inspect.signature(fn).parameters.values())
        names = tuple(p.name for p in params)
        required = sum(1 for p in params if p.default is inspect.Parameter.empty)
        return cls(fn, required, len(params), names)


#: Methods a transport adds for one connection (``eth_subscribe`` on a WebSocket).
ExtraMethods = Mapping[str, RpcHandler]


_REGISTRY: dict[str, tuple[str, Any]] = {}
_HARDHAT_TRUE = object()


def _rpc(*names: str, hardhat: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    """Register a method of :class:`RpcMethods` under JSON-RPC ``names``.

    ``hardhat`` adds an alias that returns ``true`` as Hardhat does.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            _REGISTRY[name] = (fn.__name__, None)
        if hardhat is not None:
            _REGISTRY[hardhat] = (fn.__name__, _HARDHAT_TRUE)
        return fn

    return register


class RpcMethods:
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

    def _bind(self, attr: str, mode: Any) -> RpcHandler:
        handler = RpcHandler.from_callable(getattr(self, attr))
        if mode is _HARDHAT_TRUE:
            handler = dataclasses.replace(handler, fn=_returning_true(handler.fn))
        return handler

    def register(self, name: str, fn: Callable[..., Any], *, replace: bool = False) -> None:
        """Serve ``fn`` as the JSON-RPC method ``name`` (layers above add their own methods).

        ``fn`` takes the positional params and returns a JSON-ready result; it raises
        :class:`RpcError` to answer with an error. The bridge's admin methods arrive this
        way, so ``chains`` never imports ``bridge``. Replacing a method needs ``replace``.
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"a method name must be a non-empty string, got {name!r}")
        if name in self._handlers and not replace:
            raise ValueError(f"the method {name} is already served; pass replace=True")
        self._handlers[name] = RpcHandler.from_callable(fn)

    @property
    def methods(self) -> tuple[str, ...]:
        """Names of every method this table serves, sorted."""
        return tuple(sorted(self._handlers))

    # ------------------------------------------------------------------------------------
    # dispatch
    # ------------------------------------------------------------------------------------
    def call(self, method: str, params: Any = None, *, extra: ExtraMethods | None = None) -> Any:
        """Run one method with positional ``params``; return its JSON-ready result.

        ``extra`` methods (one connection's own, such as ``eth_subscribe``) take
        precedence over the table's. Raises :class:`RpcError` for every failure a
        request can cause; any other exception is a bug in this package and propagates.
        """
        handler = None
        if type(method) is str:
            if extra is not None:
                handler = extra.get(method)
            if handler is None:
                handler = self._handlers.get(method)
        if handler is None:
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available")
        if params is None:
            params = ()
        elif not isinstance(params, list | tuple):
            raise RpcError(
                INVALID_PARAMS,
                f"invalid params: {method} takes positional params (an array), "
                f"got {type(params).__name__}",
            )
        n = len(params)
        if n > handler.n_max:
            raise RpcError(
                INVALID_PARAMS,
                f"invalid params: too many arguments for {method}, want at most {handler.n_max}",
            )
        if n < handler.n_required:
            raise RpcError(
                INVALID_PARAMS,
                f"invalid params: missing value for required argument {n} "
                f"({handler.names[n]}) of {method}",
            )
        try:
            return handler.fn(*params)
        except RpcError:
            raise
        except TransactionReverted as exc:
            raise _revert_error(exc) from exc
        except UnknownBlock as exc:
            raise RpcError(SERVER_ERROR, f"header not found: {exc}") from exc
        except ChainError as exc:
            raise RpcError(SERVER_ERROR, str(exc)) from exc

    def handle(
        self, request: Any, *, extra: ExtraMethods | None = None
    ) -> dict[str, Any] | list[dict[str, Any]] | None:
        """Answer a parsed JSON-RPC request object or batch; ``None`` when nothing to send.

        Never raises: every failure becomes an error response.
        """
        if isinstance(request, list):
            if not request:
                return _error_response(
                    None, RpcError(INVALID_REQUEST, "invalid request: empty batch")
                )
            if len(request) > MAX_BATCH:
                return _error_response(
                    None,
                    RpcError(
                        INVALID_REQUEST,
                        f"invalid request: a batch of {len(request)} exceeds {MAX_BATCH}",
                    ),
                )
            responses = [self._handle_one(r, extra) for r in request]
            return [r for r in responses if r is not None] or None
        return self._handle_one(request, extra)

    def handle_json(self, payload: str | bytes, *, extra: ExtraMethods | None = None) -> str | None:
        """Answer a raw JSON payload with raw JSON (``None`` for notifications only).

        Never raises: a result that cannot be encoded (a bug) is logged and answered
        with ``-32603``, so a transport can hand whatever a client sent straight here.
        """
        try:
            _check_nesting(payload)
            request = json.loads(payload, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, bad UTF-8, NaN
            response: Any = _error_response(None, RpcError(PARSE_ERROR, f"parse error: {exc}"))
        else:
            response = self.handle(request, extra=extra)
        if response is None:
            return None
        try:
            return json.dumps(response, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            logger.exception("cannot encode a response")
            error = RpcError(INTERNAL_ERROR, f"internal error: unencodable result: {exc}")
            return json.dumps(_error_response(None, error), separators=(",", ":"))

    def _handle_one(self, request: Any, extra: ExtraMethods | None = None) -> dict[str, Any] | None:
        request_id: Any = None
        try:
            if not isinstance(request, dict):
                raise RpcError(
                    INVALID_REQUEST,
                    f"invalid request: expected an object, got {type(request).__name__}",
                )
            is_notification = "id" not in request
            raw_id = request.get("id")
            if raw_id is not None and (
                isinstance(raw_id, bool)
                or not isinstance(raw_id, str | int | float)
                or (isinstance(raw_id, float) and not math.isfinite(raw_id))
            ):
                raise RpcError(
                    INVALID_REQUEST, "invalid request: id must be a string, a number or null"
                )
            request_id = raw_id
            if not _REQUEST_MEMBERS.issuperset(request):
                unknown = ", ".join(sorted(str(k) for k in request if k not in _REQUEST_MEMBERS))
                raise RpcError(INVALID_REQUEST, f"invalid request: unknown member(s) {unknown}")
            if request.get("jsonrpc") != "2.0":
                raise RpcError(INVALID_REQUEST, 'invalid request: "jsonrpc" must be "2.0"')
            method = request.get("method")
            if not isinstance(method, str):
                raise RpcError(INVALID_REQUEST, "invalid request: method must be a string")
            params = request.get("params", [])
            if isinstance(params, dict):
                raise RpcError(
                    INVALID_PARAMS,
                    f"invalid params: {method} takes positional params (an array), not an object",
                )
            if not isinstance(params, list):
                raise RpcError(
                    INVALID_REQUEST, "invalid request: params must be an array or an object"
                )
        except RpcError as exc:
            return _error_response(request_id, exc)
        try:
            result = self.call(method, params, extra=extra)
        except RpcError as exc:
            return None if is_notification else _error_response(request_id, exc)
        except Exception as exc:
            # The one broad catch, on purpose: it is the transport's safety net. Whatever
            # bug a request hits, the server answers -32603 instead of dying, and the
            # traceback goes to the log so the bug can be fixed.
            logger.exception("internal error in %s", method)
            error = RpcError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}: {exc}")
            return None if is_notification else _error_response(request_id, error)
        if is_notification:
            return None
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    # ------------------------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------------------------
    def _state_block(self, value: Any, name: str, default: str) -> int | str:
        """A block for a state query, as Chain takes it (number or tag)."""
        if value is None:
            return default
        block = parse_block_id(value, name)
        if isinstance(block, bytes):
            return self.chain.get_block(block).number
        if isinstance(block, int) and block > self.chain.block_number:
            raise UnknownBlock(f"block {block:#x} is after the head {self.chain.block_number:#x}")
        if block in ("safe", "finalized"):
            return "latest"
        return block

    def _find_block(self, block: int | str | bytes) -> BlockRecord | None:
        try:
            return self.chain.get_block(block)
        except UnknownBlock:
            return None

    def _formatted_block(self, record: BlockRecord, full: bool) -> dict[str, Any]:
        key = (record.hash, full)
        cached = self._block_cache.get(key)
        if cached is None:
            if len(self._block_cache) >= _BLOCK_CACHE_SIZE:
                self._block_cache.clear()
            cached = self._block_cache[key] = format_block(record, full)
        return dict(cached)

    def _next_base_fee(self) -> int:
        return int(calculate_expected_base_fee_per_gas(self.chain.get_block("latest").header))

    def _can_send_from(self, sender: bytes) -> bool:
        chain = self.chain
        return chain.has_key(sender) or chain.is_impersonated(to_checksum_address(sender))

    # ------------------------------------------------------------------------------------
    # web3_, net_, chain identity
    # ------------------------------------------------------------------------------------
    @_rpc("web3_clientVersion")
    def client_version(self) -> str:
        return self._client

    @_rpc("web3_sha3")
    def sha3(self, data: Any) -> str:
        return "0x" + keccak(parse_data(data, "data")).hex()

    @_rpc("net_version")
    def net_version(self) -> str:
        return str(self.chain.chain_id)

    @_rpc("net_listening")
    def net_listening(self) -> bool:
        return True

    @_rpc("net_peerCount")
    def net_peer_count(self) -> str:
        return "0x0"

    @_rpc("eth_chainId")
    def chain_id(self) -> str:
        return self._chain_id_hex

    @_rpc("eth_syncing")
    def syncing(self) -> bool:
        return False

    @_rpc("eth_coinbase")
    def coinbase(self) -> str:
        return "0x" + self.chain.get_block("latest").header.coinbase.hex()

    @_rpc("eth_accounts")
    def accounts(self) -> list[str]:
        """The chain's dev accounts (lowercase, as geth encodes addresses)."""
        return [a.address.lower() for a in self.chain.accounts]

    @_rpc("eth_blockNumber")
    def block_number(self) -> str:
        return hex(self.chain.block_number)

    # ------------------------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------------------------
    @_rpc("eth_getBalance")
    def get_balance(self, address: Any, block: Any = None) -> str:
        where = self._state_block(block, "block", "latest")
        return hex(self.chain.get_balance(parse_address(address, "address"), block=where))

    @_rpc("eth_getTransactionCount")
    def get_transaction_count(self, address: Any, block: Any = None) -> str:
        where = self._state_block(block, "block", "latest")
        return hex(self.chain.get_nonce(parse_address(address, "address"), block=where))

    @_rpc("eth_getCode")
    def get_code(self, address: Any, block: Any = None) -> str:
        where = self._state_block(block, "block", "latest")
        return "0x" + self.chain.get_code(parse_address(address, "address"), block=where).hex()

    @_rpc("eth_getStorageAt")
    def get_storage_at(self, address: Any, slot: Any, block: Any = None) -> str:
        account = parse_address(address, "address")
        key = parse_word(slot, "slot")
        where = self._state_block(block, "block", "latest")
        return hex_word(self.chain.get_storage_at(account, key, block=where))

    # ------------------------------------------------------------------------------------
    # calls, estimates, transactions
    # ------------------------------------------------------------------------------------
    @staticmethod
    def _no_overrides(overrides: Any, name: str) -> None:
        if overrides is not None and overrides != {}:
            raise invalid(name, "are not supported by this node")

    @_rpc("eth_call")
    def call_(self, transaction: Any, block: Any = None, state_overrides: Any = None) -> str:
        """Execute against ``block`` (default ``latest``) and return the output data."""
        tx = parse_tx(transaction, "transaction", self.chain.chain_id)
        where = self._state_block(block, "block", "latest")
        self._no_overrides(state_overrides, "state overrides")
        output = self.chain.call(
            to=tx.to, data=tx.data, sender=tx.sender, value=tx.value, gas=tx.gas, block=where
        )
        return "0x" + output.hex()

    @_rpc("eth_estimateGas")
    def estimate_gas(self, transaction: Any, block: Any = None, state_overrides: Any = None) -> str:
        """Gas limit for the transaction against ``block`` (default ``pending``).

        A ``gas`` field caps the estimate: needing more is ``gas required exceeds
        allowance``, as in geth. Fee fields are accepted and do not change the result.
        """
        tx = parse_tx(transaction, "transaction", self.chain.chain_id)
        where = self._state_block(block, "block", "pending")
        self._no_overrides(state_overrides, "state overrides")
        return hex(self._estimate(tx, where))

    def _estimate(self, tx: TxRequest, block: int | str) -> int:
        chain = self.chain
        if (
            tx.to is not None
            and not tx.data
            and int.from_bytes(tx.to, "big") > _LAST_PRECOMPILE
            and not chain.get_code(tx.to, block=block)
        ):
            # A plain value transfer costs exactly 21000: geth answers without running it.
            if tx.sender is not None and tx.value > chain.get_balance(tx.sender, block=block):
                raise RpcError(SERVER_ERROR, "insufficient funds for transfer")
            gas = _TRANSFER_GAS
        else:
            gas = self._run_estimate(tx, block)
        if tx.gas is not None and gas > tx.gas:
            raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({tx.gas})")
        return gas

    def _run_estimate(self, tx: TxRequest, block: int | str) -> int:
        try:
            gas = self.chain.estimate_gas(
                to=tx.to, data=tx.data, sender=tx.sender, value=tx.value, block=block
            )
        except TransactionReverted as exc:
            if exc.error == "OutOfGas" and not exc.data:
                cap = min(self.chain.config.gas_limit, TX_GAS_CAP)
                raise RpcError(SERVER_ERROR, f"gas required exceeds allowance ({cap})") from exc
            raise
        return gas

    @_rpc("eth_sendTransaction")
    def send_transaction(self, transaction: Any) -> str:
        """Sign with a dev key (or impersonate) and send; return the transaction hash.

        Fields: from (default: the chain's default sender), to, gas (default: an
        estimate), gasPrice | maxFeePerGas + maxPriorityFeePerGas, value, data | input,
        nonce, and the checked-only type, chainId, accessList (empty).
        """
        chain = self.chain
        tx = parse_tx(transaction, "transaction", chain.chain_id)
        sender = tx.sender if tx.sender is not None else bytes.fromhex(chain.default_sender[2:])
        if not self._can_send_from(sender):
            raise RpcError(
                SERVER_ERROR,
                f"unknown account 0x{sender.hex()}: not a dev account of this chain; "
                "impersonate it first with anvil_impersonateAccount",
            )
        if tx.to is None and not tx.data:
            raise invalid("transaction", "creates a contract but has no data")
        max_fee, tip = tx.max_fee, tx.max_priority_fee
        if tx.gas_price is not None:
            max_fee = tip = tx.gas_price
        elif max_fee is not None and tip is not None and max_fee < tip:
            raise RpcError(SERVER_ERROR, f"maxFeePerGas ({max_fee}) < maxPriorityFeePerGas ({tip})")
        gas = tx.gas
        if gas is None:
            gas = self._estimate(dataclasses.replace(tx, sender=sender), "pending")
        elif gas < _TRANSFER_GAS:
            raise RpcError(SERVER_ERROR, f"intrinsic gas too low: have {gas}, want at least 21000")
        try:
            receipt = chain.transact(
                sender=sender,
                to=tx.to,
                data=tx.data,
                value=tx.value,
                gas=gas,
                max_fee_per_gas=max_fee,
                max_priority_fee_per_gas=tip,
                nonce=tx.nonce,
            )
        except TransactionReverted as exc:
            if exc.receipt is None:
                raise
            receipt = exc.receipt  # mined with status 0, as anvil does
        return "0x" + receipt.tx_hash.hex()

    @_rpc("eth_sendRawTransaction")
    def send_raw_transaction(self, data: Any) -> str:
        """Verify and include a signed transaction (legacy, EIP-2930 or EIP-1559)."""
        raw = parse_data(data, "data")
        if not raw:
            raise invalid("data", "is empty")
        try:
            receipt = self.chain.send_raw_transaction(raw)
        except TransactionReverted as exc:
            if exc.receipt is None:
                raise
            receipt = exc.receipt
        return "0x" + receipt.tx_hash.hex()

    # ------------------------------------------------------------------------------------
    # transactions, receipts, blocks
    # ------------------------------------------------------------------------------------
    @_rpc("eth_getTransactionByHash")
    def get_transaction_by_hash(self, tx_hash: Any) -> dict[str, Any] | None:
        """The transaction, with null block fields while pending; null if unknown."""
        chain = self.chain
        try:
            tx, number, index = chain.find_transaction(parse_hash(tx_hash, "tx_hash"))
        except KeyError:
            return None
        if number is None:
            return format_transaction(tx, block=None, index=None, effective_gas_price=None)
        record = chain.get_block(number)
        price = record.receipts[index].effective_gas_price
        return format_transaction(tx, block=record, index=index, effective_gas_price=price)

    @_rpc("eth_getTransactionReceipt")
    def get_transaction_receipt(self, tx_hash: Any) -> dict[str, Any] | None:
        """The receipt of a sealed transaction; null while pending or if unknown."""
        try:
            receipt = self.chain.get_receipt(parse_hash(tx_hash, "tx_hash"))
        except KeyError:
            return None
        return format_receipt(receipt)

    @_rpc("eth_getBlockReceipts")
    def get_block_receipts(self, block: Any) -> list[dict[str, Any]] | None:
        record = self._find_block(parse_block_id(block, "block"))
        return None if record is None else [format_receipt(r) for r in record.receipts]

    @_rpc("eth_getBlockByNumber")
    def get_block_by_number(self, block: Any, full: Any = False) -> dict[str, Any] | None:
        """A sealed block (``pending`` = latest), full transactions or hashes; null if unknown."""
        record = self._find_block(parse_block_id(block, "block", allow_hash=False))
        is_full = parse_bool(full, "full_transactions")
        return None if record is None else self._formatted_block(record, is_full)

    @_rpc("eth_getBlockByHash")
    def get_block_by_hash(self, block_hash: Any, full: Any = False) -> dict[str, Any] | None:
        record = self._find_block(parse_hash(block_hash, "block_hash"))
        is_full = parse_bool(full, "full_transactions")
        return None if record is None else self._formatted_block(record, is_full)

    @_rpc("eth_getBlockTransactionCountByNumber")
    def get_block_transaction_count_by_number(self, block: Any) -> str | None:
        record = self._find_block(parse_block_id(block, "block", allow_hash=False))
        return None if record is None else hex(len(record.transactions))

    @_rpc("eth_getBlockTransactionCountByHash")
    def get_block_transaction_count_by_hash(self, block_hash: Any) -> str | None:
        record = self._find_block(parse_hash(block_hash, "block_hash"))
        return None if record is None else hex(len(record.transactions))

    def _transaction_at(self, record: BlockRecord | None, index: Any) -> dict[str, Any] | None:
        i = parse_quantity(index, "index")
        if record is None or i >= len(record.transactions):
            return None
        price = record.receipts[i].effective_gas_price
        return format_transaction(
            record.transactions[i], block=record, index=i, effective_gas_price=price
        )

    @_rpc("eth_getTransactionByBlockNumberAndIndex")
    def get_transaction_by_block_number_and_index(
        self, block: Any, index: Any
    ) -> dict[str, Any] | None:
        record = self._find_block(parse_block_id(block, "block", allow_hash=False))
        return self._transaction_at(record, index)

    @_rpc("eth_getTransactionByBlockHashAndIndex")
    def get_transaction_by_block_hash_and_index(
        self, block_hash: Any, index: Any
    ) -> dict[str, Any] | None:
        return self._transaction_at(self._find_block(parse_hash(block_hash, "block_hash")), index)

    # ------------------------------------------------------------------------------------
    # logs and filters
    # ------------------------------------------------------------------------------------
    def _parse_log_query(self, value: Any, name: str) -> _LogQuery:
        obj = check_object(value, name, _FILTER_FIELDS)
        block_hash = None
        if obj.get("blockHash") is not None:
            if obj.get("fromBlock") is not None or obj.get("toBlock") is not None:
                raise invalid(name, "cannot have both blockHash and fromBlock/toBlock")
            block_hash = parse_hash(obj["blockHash"], f"{name}.blockHash")
        raw = obj.get("fromBlock")
        from_block = (
            "latest" if raw is None else parse_block_id(raw, f"{name}.fromBlock", allow_hash=False)
        )
        raw = obj.get("toBlock")
        to_block = (
            "latest" if raw is None else parse_block_id(raw, f"{name}.toBlock", allow_hash=False)
        )
        assert not isinstance(from_block, bytes) and not isinstance(to_block, bytes)
        addresses = None
        raw = obj.get("address")
        if raw is not None:
            seq = raw if isinstance(raw, list | tuple) else [raw]
            addresses = tuple(to_checksum_address(parse_address(a, f"{name}.address")) for a in seq)
        topics: list[bytes | tuple[bytes, ...] | None] = []
        raw = obj.get("topics")
        if raw is not None:
            if not isinstance(raw, list | tuple):
                raise invalid(f"{name}.topics", "must be a list")
            if len(raw) > _MAX_TOPICS:
                raise invalid(f"{name}.topics", f"has {len(raw)} positions, at most 4")
            for i, item in enumerate(raw):
                where = f"{name}.topics[{i}]"
                if item is None:
                    topics.append(None)
                elif isinstance(item, list | tuple):
                    options = tuple(
                        parse_hash(t, f"{where}[{j}]") for j, t in enumerate(item) if t is not None
                    )
                    # an empty or null-containing OR-list matches anything, as in geth
                    wildcard = not options or any(t is None for t in item)
                    topics.append(None if wildcard else options)
                else:
                    topics.append(parse_hash(item, where))
        return _LogQuery(from_block, to_block, block_hash, addresses, tuple(topics))

    def _resolve_range(self, query: _LogQuery) -> tuple[int, int]:
        head = self.chain.block_number
        if query.block_hash is not None:
            record = self._find_block(query.block_hash)
            if record is None:
                raise RpcError(SERVER_ERROR, f"unknown block 0x{query.block_hash.hex()}")
            return record.number, record.number

        def number(block: int | str) -> int:
            if isinstance(block, int):
                return block
            return 0 if block == "earliest" else head

        start, end = number(query.from_block), number(query.to_block)
        if isinstance(query.from_block, int) and isinstance(query.to_block, int) and start > end:
            raise invalid("filter", f"has fromBlock {start:#x} after toBlock {end:#x}")
        return start, min(end, head)  # start > end here means "nothing yet": no logs

    def _logs(self, query: _LogQuery, start: int, end: int) -> list[dict[str, Any]]:
        if start > end:
            return []
        logs = self.chain.get_logs(
            from_block=start,
            to_block=end,
            address=list(query.addresses) if query.addresses is not None else None,
            topics=list(query.topics) if query.topics else None,
        )
        return [format_log(lg, None) for lg in logs]

    @_rpc("eth_getLogs")
    def get_logs(self, filter_: Any) -> list[dict[str, Any]]:
        """Logs of sealed blocks matching the filter (a toBlock past the head is clamped)."""
        query = self._parse_log_query(filter_, "filter")
        start, end = self._resolve_range(query)
        return self._logs(query, start, end)

    def _install(self, entry: _Filter) -> str:
        if not self._is_listening:
            self.chain.on_block(self._on_block)
            self._is_listening = True
        filter_id = next(self._filter_ids)
        self._filters[filter_id] = entry
        return hex(filter_id)

    def _on_block(self, record: BlockRecord) -> None:
        for entry in self._filters.values():
            if len(entry.backlog) >= FILTER_BACKLOG:
                entry.is_overflowed = True
                entry.backlog.clear()
            if not entry.is_overflowed:
                entry.backlog.append(record)

    def _filter(self, filter_id: Any) -> tuple[int, _Filter]:
        key = parse_quantity(filter_id, "filter_id")
        entry = self._filters.get(key)
        if entry is None:
            raise RpcError(SERVER_ERROR, "filter not found")
        if entry.is_overflowed:
            del self._filters[key]
            raise RpcError(
                SERVER_ERROR,
                f"filter not found: it was dropped after {FILTER_BACKLOG} unpolled blocks",
            )
        return key, entry

    @_rpc("eth_newFilter")
    def new_filter(self, filter_: Any) -> str:
        """A log filter; eth_getFilterChanges returns matching logs of blocks sealed since."""
        return self._install(_Filter("logs", self._parse_log_query(filter_, "filter")))

    @_rpc("eth_newBlockFilter")
    def new_block_filter(self) -> str:
        """eth_getFilterChanges returns the hashes of blocks sealed since the last poll."""
        return self._install(_Filter("blocks"))

    @_rpc("eth_newPendingTransactionFilter")
    def new_pending_transaction_filter(self, full: Any = None) -> str:
        """Hashes of transactions as they are mined (this node has no mempool to watch)."""
        if full is not None and parse_bool(full, "full_transactions"):
            raise invalid("full_transactions", "is not supported")
        return self._install(_Filter("transactions"))

    @_rpc("eth_getFilterChanges")
    def get_filter_changes(self, filter_id: Any) -> list[Any]:
        _, entry = self._filter(filter_id)
        chain = self.chain
        head = chain.block_number
        records = [
            r
            for r in entry.backlog
            if r.number <= head and chain.get_block(r.number).hash == r.hash
        ]
        entry.backlog = []
        if entry.kind == "blocks":
            return ["0x" + r.hash.hex() for r in records]
        if entry.kind == "transactions":
            return ["0x" + h.hex() for r in records for h in r.tx_hashes]
        query = entry.query
        assert query is not None
        out: list[Any] = []
        for record in records:
            if _in_range(record.number, query):
                out.extend(self._block_logs(record, query))
        return out

    def _block_logs(self, record: BlockRecord, query: _LogQuery) -> list[dict[str, Any]]:
        if query.block_hash is not None and query.block_hash != record.hash:
            return []
        if not any(r.logs for r in record.receipts):
            return []
        return self._logs(query, record.number, record.number)

    @_rpc("eth_getFilterLogs")
    def get_filter_logs(self, filter_id: Any) -> list[dict[str, Any]]:
        """Every log matching a log filter's criteria (not only the new ones)."""
        _, entry = self._filter(filter_id)
        if entry.query is None:
            raise RpcError(SERVER_ERROR, "filter not found: not a log filter")
        start, end = self._resolve_range(entry.query)
        return self._logs(entry.query, start, end)

    @_rpc("eth_uninstallFilter")
    def uninstall_filter(self, filter_id: Any) -> bool:
        key = parse_quantity(filter_id, "filter_id")
        return self._filters.pop(key, None) is not None

    # ------------------------------------------------------------------------------------
    # subscriptions (served for real per WebSocket connection, see chains/_subscribe.py)
    # ------------------------------------------------------------------------------------
    @property
    def subscriptions(self) -> Subscriptions:
        """The chain's live ``eth_subscribe`` feeds (created on first use)."""
        if self._subscriptions is None:
            from chains._subscribe import Subscriptions

            self._subscriptions = Subscriptions(self)
        return self._subscriptions

    @_rpc("eth_subscribe")
    def subscribe(self, kind: Any, options: Any = None) -> str:
        """Without a connection to push to (HTTP, in-process) there are no subscriptions:
        geth's answer. A WebSocket connection serves its own ``eth_subscribe``."""
        raise RpcError(
            METHOD_NOT_FOUND,
            "notifications not supported: eth_subscribe needs a WebSocket connection",
        )

    @_rpc("eth_unsubscribe")
    def unsubscribe(self, subscription_id: Any) -> bool:
        raise RpcError(
            METHOD_NOT_FOUND,
            "notifications not supported: eth_unsubscribe needs a WebSocket connection",
        )

    # ------------------------------------------------------------------------------------
    # fees
    # ------------------------------------------------------------------------------------
    @_rpc("eth_gasPrice")
    def gas_price(self) -> str:
        """Next block's base fee plus the default tip (geth's legacy suggestion)."""
        return hex(self._next_base_fee() + DEFAULT_PRIORITY_FEE)

    @_rpc("eth_maxPriorityFeePerGas")
    def max_priority_fee_per_gas(self) -> str:
        return hex(DEFAULT_PRIORITY_FEE)

    @_rpc("eth_blobBaseFee")
    def blob_base_fee(self) -> str:
        latest = self.chain.get_block("latest").header
        return hex(blob_base_fee(calc_excess_blob_gas_prague(latest)))

    @_rpc("eth_feeHistory")
    def fee_history(
        self, block_count: Any, newest_block: Any, reward_percentiles: Any = None
    ) -> dict[str, Any]:
        """Base fees, gas-used ratios and (with percentiles) tips of recent blocks.

        As geth: ``baseFeePerGas`` has one more entry than blocks (the next block's),
        the count is capped at 1024 and at the blocks available, and rewards are the
        effective tips at gas-weighted percentiles of each block's transactions.
        """
        count = parse_quantity(block_count, "block_count")
        newest = self._find_block(parse_block_id(newest_block, "newest_block", allow_hash=False))
        if newest is None:
            raise RpcError(SERVER_ERROR, "header not found: newest_block is after the head")
        percentiles = None
        if reward_percentiles is not None:
            percentiles = _parse_percentiles(reward_percentiles)
        count = min(count, MAX_FEE_HISTORY, newest.number + 1)
        if count == 0:
            return {"oldestBlock": "0x0", "baseFeePerGas": [], "gasUsedRatio": []}
        oldest = newest.number - count + 1
        records = [self.chain.get_block(n) for n in range(oldest, newest.number + 1)]
        base_fees = [r.header.base_fee_per_gas for r in records]
        blob_fees = [blob_base_fee(r.header.excess_blob_gas) for r in records]
        header = newest.header
        base_fees.append(calculate_expected_base_fee_per_gas(header))
        blob_fees.append(blob_base_fee(calc_excess_blob_gas_prague(header)))
        result: dict[str, Any] = {
            "oldestBlock": hex(oldest),
            "baseFeePerGas": [hex(f) for f in base_fees],
            "gasUsedRatio": [r.header.gas_used / r.header.gas_limit for r in records],
            "baseFeePerBlobGas": [hex(f) for f in blob_fees],
            "blobGasUsedRatio": [r.header.blob_gas_used / MAX_BLOB_GAS_PER_BLOCK for r in records],
        }
        if percentiles is not None:
            result["reward"] = [[hex(t) for t in _block_rewards(r, percentiles)] for r in records]
        return result

    # ------------------------------------------------------------------------------------
    # dev controls: time, mining, snapshots
    # ------------------------------------------------------------------------------------
    @_rpc("evm_snapshot")
    def snapshot(self) -> str:
        """Snapshot this chain (not the shared clock); return the id."""
        return hex(self.chain.snapshot())

    @_rpc("evm_revert")
    def revert(self, snapshot_id: Any) -> bool:
        """Revert to a snapshot; ``false`` if the id is unknown (as anvil and Hardhat)."""
        try:
            self.chain.revert(parse_quantity(snapshot_id, "snapshot_id"))
        except SnapshotNotFound:
            return False
        return True

    def _set_next_timestamp(self, timestamp: int, name: str) -> None:
        try:
            self.chain.set_next_block_timestamp(timestamp)
        except ValueError as exc:
            raise invalid(name, str(exc)) from exc

    @_rpc("evm_mine")
    def mine(self, options: Any = None) -> str:
        """Mine one block, or ``{"blocks": n, "timestamp": t}``; a bare timestamp also works."""
        blocks, timestamp = 1, None
        if isinstance(options, Mapping):
            obj = check_object(options, "options", _MINE_FIELDS)
            if obj.get("blocks") is not None:
                blocks = parse_quantity(obj["blocks"], "options.blocks", limit=10_000)
            if obj.get("timestamp") is not None:
                timestamp = parse_quantity(obj["timestamp"], "options.timestamp", limit=2**63 - 1)
        elif options is not None:
            timestamp = parse_quantity(options, "timestamp", limit=2**63 - 1)
        if blocks < 1:
            return "0x0"
        if timestamp is not None:
            self._set_next_timestamp(timestamp, "timestamp")
        self.chain.mine(blocks)
        return "0x0"

    @_rpc("evm_increaseTime")
    def increase_time(self, seconds: Any) -> int:
        """Advance the devnet's shared clock (every chain sees it; due events fire).

        The next block takes its timestamp from the clock, unless evm_setNextBlockTimestamp
        fixed it. Returns how far the clock now is from the devnet's start, in seconds
        (anvil returns its total time offset).
        """
        clock = self.chain.clock
        clock.advance(parse_quantity(seconds, "seconds", limit=2**40))
        return int(clock.now - clock.start)

    @_rpc("evm_setNextBlockTimestamp")
    def set_next_block_timestamp(self, timestamp: Any) -> None:
        self._set_next_timestamp(
            parse_quantity(timestamp, "timestamp", limit=2**63 - 1), "timestamp"
        )

    @_rpc("anvil_mine", hardhat="hardhat_mine")
    def mine_blocks(self, blocks: Any = None, interval: Any = None) -> None:
        """Mine ``blocks`` blocks (default 1); with ``interval``, each block comes ``interval``
        seconds after the one before it (the shared clock is not moved)."""
        count = 1 if blocks is None else parse_quantity(blocks, "blocks", limit=100_000)
        step = None if interval is None else parse_quantity(interval, "interval", limit=2**40)
        chain = self.chain
        for _ in range(count):
            if step is not None:
                self._set_next_timestamp(chain.timestamp + max(step, 1), "interval")
            chain.mine()

    # ------------------------------------------------------------------------------------
    # dev controls: accounts and state
    # ------------------------------------------------------------------------------------
    @_rpc("anvil_setBalance", hardhat="hardhat_setBalance")
    def set_balance(self, address: Any, balance: Any) -> None:
        self.chain.set_balance(
            parse_address(address, "address"), parse_quantity(balance, "balance")
        )

    @_rpc("anvil_setCode", hardhat="hardhat_setCode")
    def set_code(self, address: Any, code: Any) -> None:
        self.chain.set_code(parse_address(address, "address"), parse_data(code, "code"))

    @_rpc("anvil_setNonce", hardhat="hardhat_setNonce")
    def set_nonce(self, address: Any, nonce: Any) -> None:
        account = parse_address(address, "address")
        self.chain.set_nonce(account, parse_quantity(nonce, "nonce", limit=2**64 - 1))

    @_rpc("anvil_setStorageAt", hardhat="hardhat_setStorageAt")
    def set_storage_at(self, address: Any, slot: Any, value: Any) -> bool:
        account = parse_address(address, "address")
        key = parse_word(slot, "slot")
        word = parse_word(value, "value")
        self.chain.set_storage_at(account, key, word)
        return True

    @_rpc("anvil_impersonateAccount", hardhat="hardhat_impersonateAccount")
    def impersonate_account(self, address: Any) -> None:
        """Accept eth_sendTransaction from ``address`` without its key."""
        self.chain.impersonate(to_checksum_address(parse_address(address, "address")))

    @_rpc("anvil_stopImpersonatingAccount", hardhat="hardhat_stopImpersonatingAccount")
    def stop_impersonating_account(self, address: Any) -> None:
        self.chain.stop_impersonating(to_checksum_address(parse_address(address, "address")))


# ----------------------------------------------------------------------------------------
# module helpers
# ----------------------------------------------------------------------------------------
def _error_response(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_dict()}


def _returning_true(fn: Callable[..., Any]) -> Callable[..., bool]:
    def aliased(*args: Any) -> bool:
        fn(*args)
        return True

    return aliased


def _check_nesting(payload: str | bytes) -> None:
    """Refuse JSON nested deeper than ``MAX_JSON_DEPTH`` before the decoder recurses into it.

    Counting brackets is a cheap upper bound on the depth; only payloads with many
    brackets (large batches) pay for the exact scan, which skips over strings.
    """
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for token in _JSON_TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        elif char in "]}":
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _revert_error(exc: TransactionReverted) -> RpcError:
    """geth's shape: REVERT → code 3 with the data; other EVM failures → -32000."""
    if exc.error is None:
        message = (
            "execution reverted" if exc.reason is None else f"execution reverted: {exc.reason}"
        )
        return RpcError(EXECUTION_REVERTED, message, "0x" + exc.data.hex())
    return RpcError(SERVER_ERROR, _EVM_ERRORS.get(exc.error, exc.error))


def _in_range(number: int, query: _LogQuery) -> bool:
    if isinstance(query.from_block, int) and number < query.from_block:
        return False
    return not (isinstance(query.to_block, int) and number > query.to_block)


def _parse_percentiles(value: Any) -> list[float]:
    name = "reward_percentiles"
    if not isinstance(value, list | tuple):
        raise invalid(name, "must be a list of numbers between 0 and 100")
    out: list[float] = []
    for i, p in enumerate(value):
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 100:
            raise invalid(f"{name}[{i}]", f"must be a number between 0 and 100, got {p!r}")
        if out and p < out[-1]:
            raise invalid(name, f"must be non-decreasing, but {p} follows {out[-1]}")
        out.append(float(p))
    return out


def _block_rewards(record: BlockRecord, percentiles: list[float]) -> list[int]:
    """geth's algorithm: sort by effective tip, walk cumulative gas to each percentile."""
    if not record.receipts:
        return [0] * len(percentiles)
    base_fee = record.header.base_fee_per_gas
    tips = sorted(
        (_effective_tip(tx, base_fee), receipt.gas_used)
        for tx, receipt in zip(record.transactions, record.receipts, strict=True)
    )
    gas_used = record.header.gas_used
    out = []
    index, cumulative = 0, tips[0][1]
    for p in percentiles:
        threshold = int(gas_used * p / 100)
        while cumulative < threshold and index < len(tips) - 1:
            index += 1
            cumulative += tips[index][1]
        out.append(tips[index][0])
    return out


def _effective_tip(tx: Any, base_fee: int) -> int:
    type_id = getattr(tx, "type_id", None) or 0
    if type_id < 2:
        return max(0, int(tx.gas_price) - base_fee)
    return int(min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee))
