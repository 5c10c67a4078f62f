"""The envelope of the method table: JSON-RPC 2.0 requests and batches in, responses out.

:class:`MethodTable` validates a request, finds its handler (registered with
:func:`rpc_method`), checks the arity and turns the chain's errors into error codes; the
methods themselves live in the ``_eth``, ``_filters``, ``_fees`` and ``_dev`` mix-ins.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from eth.vm.forks.london.headers import calculate_expected_base_fee_per_gas
from eth_utils import to_checksum_address

from chains._errors import ChainError, TransactionReverted, UnknownBlock
from chains._types import BlockRecord
from chains.rpc._wire import (
    EXECUTION_REVERTED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SERVER_ERROR,
    RpcError,
    format_block,
    parse_block_id,
)

if TYPE_CHECKING:
    from chains._chain import Chain

logger = logging.getLogger(__name__)

#: Largest batch accepted (geth's default ``BatchRequestLimit``).
MAX_BATCH: Final = 1000
#: Deepest JSON nesting handle_json decodes (a request needs about five levels).
MAX_JSON_DEPTH: Final = 64
_JSON_TOKENS: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')
_BLOCK_CACHE_SIZE: Final = 256
_REQUEST_MEMBERS: Final = frozenset({"jsonrpc", "method", "params", "id"})

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


def rpc_method(*names: str, hardhat: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    """Register a method of the table under JSON-RPC ``names``.

    ``hardhat`` adds an alias that returns ``true`` as Hardhat does.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name in names:
            _REGISTRY[name] = (fn.__name__, None)
        if hardhat is not None:
            _REGISTRY[hardhat] = (fn.__name__, _HARDHAT_TRUE)
        return fn

    return register


class MethodTable:
    """Dispatch: the request envelope, the handler table and helpers the methods share."""

    chain: Chain
    _handlers: dict[str, RpcHandler]
    _block_cache: dict[tuple[bytes, bool], dict[str, Any]]

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
