"""The JSON-RPC server: every chain of a devnet over HTTP and WebSocket, in one process.

Each chain listens on its own loopback port (consecutive from ``port``); HTTP ``POST /``
and WebSocket ``/`` on the same port, as anvil does. The handler is the chain's
:class:`~chains.RpcMethods` table — no method has a second implementation here; this
module only moves bytes and decides what runs where.

Concurrency (one event loop for the sockets, execution in threads):

- **A lock per chain, a thread per chain.** The event loop only moves bytes; every
  request runs in its chain's own worker thread (a one-thread executor, so a chain's
  requests run one at a time in arrival order) under the chain's lock. A long
  ``eth_call`` on one chain never delays another chain's port.
- **The devnet lock** (:attr:`DevnetServer.lock`) is every chain's lock at once, taken
  in chain order, for work that touches several chains or the shared clock: the clock's
  due events (interval seals, the relayer's scans and relays), time travel
  (``evm_increaseTime`` moves every chain's clock), methods registered from above
  (``bridge_*``), and every method outside ``eth_``/``net_``/``web3_``/``debug_``/
  ``trace_``/``txpool_``. It is never held while waiting: taking it tries each chain's
  lock for a few milliseconds and, if one is busy, releases the others and retries, so
  a chain stuck in a 5-second call holds up only the cross-chain work, not the other
  chains' requests (no deadlock, no convoy). Code in other threads that touches a
  served devnet takes it too.
- **The clock** is read by every chain (timestamps) and written only under the devnet
  lock; its event queue has a lock of its own, since each chain may schedule on it.
- **Deadlines.** ``eth_call``/``eth_estimateGas`` run under the chain's
  ``call_timeout`` (:mod:`chains._deadline`), and a whole request (a batch) has one
  ``call_timeout`` for all its calls; :meth:`DevnetServer.stop` aborts every call in
  flight, so a shutdown is prompt. A transaction is never interrupted: it is
  bounded by the block gas limit.

Transport rules (the table's own error codes are in :mod:`chains.rpc._methods`):

- request bodies over ``max_body`` bytes: HTTP 413 with a ``-32600`` JSON-RPC error
  body; a WebSocket message over it closes the connection with code 1009 (message too
  big), the protocol's own answer;
- slow clients: request headers not complete ``header_timeout`` seconds after the
  connection opened (or after the last answer on a kept-alive one) get a 408 and the
  connection is closed; a body not complete within ``body_timeout`` seconds gets 408
  with a ``-32600`` body;
- at most ``max_connections`` open connections per server (HTTP beyond it: 503) and at
  most ``max_ws_connections`` WebSockets per chain (beyond it: accepted, then closed with
  1013 "try again later");
- a client that disconnects mid-request, or sends bad UTF-8 over WebSocket, is one
  log line (INFO), never a traceback;
- a notification-only request gets ``200`` with an empty body;
- ``GET /`` answers a plain-text health line; other HTTP methods get 405;
- CORS allows any origin (a browser wallet on any page may talk to a local node, as
  with anvil); bind a non-loopback host only when you mean it;
- ``eth_subscribe`` (``newHeads``, ``logs``) and ``eth_unsubscribe`` are served per
  WebSocket connection; notifications wait in a per-connection queue of at most
  ``MAX_QUEUED`` messages — a client that falls that far behind is disconnected
  (code 1008 "too many undelivered notifications"; dropping the oldest instead would
  silently lose blocks or logs the client believes it has), and its subscriptions end
  with the connection.
- A background thread fires the clock's due events every ``tick`` seconds (interval
  mining, relays scheduled on the clock) and, with ``empty_blocks``, seals an empty
  block on each interval boundary nothing else filled, as ``anvil --block-time``.

>>> server = DevnetServer(Devnet(n_chains=2, real_time=True), port=0)   # doctest: +SKIP
>>> with server.run_in_thread():                                       # doctest: +SKIP
...     print(server.endpoints[0].url)
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

from chains._deadline import DeadlineScope, deadline_scope, request_budget
from chains._errors import ConfigError
from chains.rpc._bundle import bundle_methods
from chains.rpc._wire import INVALID_REQUEST, RpcError

if TYPE_CHECKING:
    from chains._chain import Chain
    from chains._devnet import Devnet

__all__ = ["DEFAULT_HOST", "MAX_BODY", "DevnetLock", "DevnetServer", "Endpoint"]

logger = logging.getLogger(__name__)

DEFAULT_HOST: Final = "127.0.0.1"
#: Largest request body (HTTP) or message (WebSocket) accepted: 5 MiB.
MAX_BODY: Final = 5 * 1024 * 1024
#: Notifications a WebSocket connection may have waiting before it is dropped.
MAX_QUEUED: Final = 1024
#: Seconds between two runs of the clock's due events.
DEFAULT_TICK: Final = 0.05
#: Seconds a client has to send a request's headers (slowloris) and then its body.
HEADER_TIMEOUT: Final = 10.0
BODY_TIMEOUT: Final = 30.0
#: Open connections per server (HTTP answered 503 beyond) and WebSockets per chain.
MAX_CONNECTIONS: Final = 1024
MAX_WS_CONNECTIONS: Final = 256
#: Method families that touch only the chain they are sent to (see the module docstring).
CHAIN_LOCAL_PREFIXES: Final = ("eth_", "net_", "web3_", "debug_", "trace_", "txpool_")
_JSON: Final = "application/json"
#: The devnet lock's per-chain wait before it backs off, and the back-off (seconds).
_LOCK_STEP: Final = 0.01
_LOCK_BACKOFF: Final = 0.001
#: How long the clock ticker tries for the devnet lock before skipping a tick.
_TICK_LOCK_WAIT: Final = 0.5
_SHUTDOWN: Final = "execution aborted: the server is shutting down"


@dataclass(frozen=True)
class Endpoint:
    """Where one chain is served."""

    chain: Chain
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{_url_host(self.host)}:{self.port}"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _error_body(message: str) -> dict[str, Any]:
    error = RpcError(INVALID_REQUEST, message)
    return {"jsonrpc": "2.0", "id": None, "error": error.to_dict()}


class DevnetLock:
    """Every chain's lock at once (re-entrant), for work that spans chains or the clock.

    Taking it never holds one chain's lock while blocked on another for long: it tries
    each lock in chain order for ``_LOCK_STEP`` seconds and, when one is busy, releases
    the ones it has and tries again. So a thread holding one chain's lock (a request)
    and one taking this lock cannot deadlock, and a chain busy with a long call delays
    the cross-chain work only — never the other chains' requests.
    """

    def __init__(self, locks: Sequence[threading.RLock]) -> None:
        self._locks = tuple(locks)

    def acquire(self, timeout: float | None = None) -> bool:
        """Take every chain's lock; ``False`` if ``timeout`` seconds went by first."""
        end = None if timeout is None else time.monotonic() + timeout
        while True:
            taken: list[threading.RLock] = []
            for lock in self._locks:
                if not lock.acquire(timeout=_LOCK_STEP):
                    break
                taken.append(lock)
            else:
                return True
            for lock in reversed(taken):
                lock.release()
            if end is not None and time.monotonic() >= end:
                return False
            time.sleep(_LOCK_BACKOFF)

    def release(self) -> None:
        for lock in reversed(self._locks):
            lock.release()

    def __enter__(self) -> DevnetLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline on request headers (slowloris).

    uvicorn times out idle kept-alive connections but not a client that opened a
    connection and trickles its headers in, one byte every few seconds: here a
    connection whose request headers are not complete ``header_timeout`` seconds after
    it opened (or after the last answer) gets ``408`` and is closed.
    """

    header_timeout: float = HEADER_TIMEOUT
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._header_timer is None and self._is_between_requests():
            self._arm_header_timer()
        super().data_received(data)
        if not self._is_between_requests():
            self._disarm_header_timer()

    def handle_websocket_upgrade(self, event: Any) -> None:
        self._disarm_header_timer()  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade(event)

    def _is_between_requests(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._on_header_timeout)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _on_header_timeout(self) -> None:
        self._header_timer = None
        if (
            self.transport.is_closing()
            or self.transport.get_protocol() is not self
            or not self._is_between_requests()
        ):
            return
        logger.info("closed a connection from %s: no request headers in time", _peer(self.client))
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        )
        self.transport.close()


class _QuietClientErrors(logging.Filter):
    """uvicorn logs a client's bad UTF-8 over WebSocket with a traceback: make it one line.

    The client's fault, already answered (uvicorn closes the connection with 1007).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], UnicodeDecodeError):
            logger.info("%s (WebSocket closed with 1007)", record.getMessage())
            return False
        return True


_QUIET = _QuietClientErrors()


def _peer(client: Any) -> str:
    return f"{client[0]}:{client[1]}" if client else "unknown"


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handling: the owner of the loop decides."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class DevnetServer:
    """Serve every chain of ``devnet`` over JSON-RPC (HTTP and WebSocket).

    ``port`` is the first chain's port, the others follow (``port=0`` picks a free port
    for each chain, for tests). ``methods`` are extra JSON-RPC methods registered into
    every chain's table (the bridge admin methods come from the layer above this way);
    they run under the devnet lock. ``background`` coroutine factories run beside the
    server in the same loop (the relayer's real-time driver); they are cancelled on
    shutdown.
    """

    def __init__(
        self,
        devnet: Devnet,
        *,
        host: str = DEFAULT_HOST,
        port: int = 8545,
        max_body: int = MAX_BODY,
        methods: Mapping[str, Callable[..., Any]] | None = None,
        tick: float = DEFAULT_TICK,
        empty_blocks: bool = False,
        background: Sequence[Callable[[], Any]] = (),
        header_timeout: float = HEADER_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        max_ws_connections: int = MAX_WS_CONNECTIONS,
    ) -> None:
        if not 0 <= port <= 65535 - len(devnet.chains) + 1:
            raise ConfigError(f"port must be between 0 and 65535, got {port}")
        if max_body < 1024:
            raise ConfigError(f"max_body must be at least 1024 bytes, got {max_body}")
        if not tick > 0:
            raise ConfigError(f"tick must be positive seconds, got {tick}")
        if not (header_timeout > 0 and body_timeout > 0):
            raise ConfigError(
                f"header_timeout and body_timeout must be positive seconds, "
                f"got {header_timeout} and {body_timeout}"
            )
        if not (max_connections >= 1 and max_ws_connections >= 1):
            raise ConfigError(
                f"max_connections and max_ws_connections must be at least 1, "
                f"got {max_connections} and {max_ws_connections}"
            )
        self.devnet = devnet
        self.host = host
        self.port = port
        self.max_body = max_body
        self.tick = tick
        self.empty_blocks = empty_blocks
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
        self.max_ws_connections = max_ws_connections
        #: One re-entrant lock per chain, held while a request or event runs on it.
        self.chain_locks = [threading.RLock() for _ in devnet.chains]
        #: Every chain's lock at once: cross-chain work (the clock's events, time travel,
        #: the bridge). Code in other threads that touches a served devnet takes it.
        self.lock = DevnetLock(self.chain_locks)
        self._scope = DeadlineScope()
        self._background = list(background)
        served = {**bundle_methods(devnet), **(methods or {})}
        # bundles and the caller's methods touch several chains: the devnet lock
        self._devnet_wide = frozenset(served)
        for chain in devnet.chains:
            for name, fn in served.items():
                chain.rpc.register(name, fn, replace=True)
        self._sockets: list[socket.socket] = []
        self.endpoints: list[Endpoint] = []
        self._server: _Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: list[ThreadPoolExecutor] = []
        self._ticker_stop = threading.Event()
        self.started = threading.Event()

    def __repr__(self) -> str:
        where = ", ".join(f"{e.chain.name}={e.url}" for e in self.endpoints) or "not bound"
        return f"<DevnetServer {where}>"

    # -- sockets -----------------------------------------------------------------------
    def bind(self) -> list[Endpoint]:
        """Open the listening sockets now (idempotent); a taken port is a clear error."""
        if self._sockets:
            return self.endpoints
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        try:
            for i, chain in enumerate(self.devnet.chains):
                port = self.port + i if self.port else 0
                sock = socket.socket(family, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                # Accepted connections inherit it: without it every response waits out
                # the client's delayed ACK (about 40 ms, 22 requests/s on loopback).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    sock.bind((self.host, port))
                except OSError as exc:
                    sock.close()
                    raise ConfigError(
                        f"cannot listen on {self.host}:{port} for chain {chain.name}: "
                        f"{exc.strerror or exc}"
                    ) from exc
                sock.listen(128)
                sock.setblocking(False)
                self._sockets.append(sock)
                self.endpoints.append(Endpoint(chain, self.host, sock.getsockname()[1]))
        except ConfigError:
            self.close()
            raise
        return self.endpoints

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()
        self._sockets.clear()
        self.endpoints.clear()

    # -- execution ------------------------------------------------------------------------
    def _guard(self, index: int) -> Callable[[list[str]], Any]:
        """The lock a request on chain ``index`` runs under, from its method names."""
        chain_lock = self.chain_locks[index]
        rpc = self.devnet.chains[index].rpc
        devnet_wide = self._devnet_wide

        def guard(names: list[str]) -> Any:
            for name in names:
                if name in devnet_wide or (
                    not name.startswith(CHAIN_LOCAL_PREFIXES) and rpc.serves(name)
                ):
                    return self.lock
            return chain_lock

        return guard

    async def _execute(self, index: int, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` in chain ``index``'s worker thread, under this server's deadlines."""

        budget = self.devnet.chains[index].config.call_timeout

        def run() -> Any:
            # One call timeout per request: a batch of endless calls costs one, not N.
            with deadline_scope(self._scope), request_budget(budget):
                return fn()

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._workers[index], run)

    # -- ASGI ---------------------------------------------------------------------------
    def build_app(self, chain: Chain) -> Starlette:
        """The ASGI application serving one chain."""
        index = self.devnet.chains.index(chain)
        rpc = chain.rpc
        health = f"composability-testbed JSON-RPC: chain {chain.name} (id {chain.chain_id})\n"
        limit = self.max_body
        guard = self._guard(index)
        chain_lock = self.chain_locks[index]
        ws_open = 0

        async def http(request: Request) -> Response:
            if request.method == "GET":
                return PlainTextResponse(health)
            declared = request.headers.get("content-length", "")
            too_large = _error_body(f"invalid request: body exceeds {limit} bytes")
            if declared.isdigit() and int(declared) > limit:
                return JSONResponse(too_large, status_code=413)
            body = bytearray()
            try:
                async with asyncio.timeout(self.body_timeout):
                    async for chunk in request.stream():
                        body += chunk
                        if len(body) > limit:
                            return JSONResponse(too_large, status_code=413)
            except TimeoutError:
                logger.info("client %s: request body not received in time", _peer(request.client))
                message = f"invalid request: body not received within {self.body_timeout:g} s"
                return JSONResponse(_error_body(message), status_code=408)
            except ClientDisconnect:
                logger.info(
                    "client %s disconnected before its request ended", _peer(request.client)
                )
                return Response(status_code=400)  # nobody is left to read it
            payload = bytes(body)
            answer = await self._execute(index, lambda: rpc.handle_json(payload, guard=guard))
            return Response(answer or b"", media_type=_JSON)

        async def websocket(ws: WebSocket) -> None:
            nonlocal ws_open
            await ws.accept()
            if ws_open >= self.max_ws_connections:
                logger.info("refused a WebSocket on chain %s: too many connections", chain.name)
                await ws.close(code=1013, reason="too many connections, try again later")
                return
            ws_open += 1
            try:
                await self._serve_ws(ws, index, rpc, guard, chain_lock)
            finally:
                ws_open -= 1

        return Starlette(
            routes=[
                Route("/", http, methods=["GET", "POST"]),
                WebSocketRoute("/", websocket),
            ],
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["GET", "POST", "OPTIONS"],
                    allow_headers=["*"],
                    max_age=600,
                )
            ],
        )

    async def _serve_ws(
        self,
        ws: WebSocket,
        index: int,
        rpc: Any,
        guard: Callable[[list[str]], Any],
        chain_lock: threading.RLock,
    ) -> None:
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        overflowed = False

        def push(text: str | None) -> None:
            nonlocal overflowed
            if overflowed:
                return
            if queue.qsize() >= MAX_QUEUED:
                overflowed = True
                text = None
            queue.put_nowait(text)

        def send(text: str) -> None:
            # Called when a block is sealed, from the chain's worker thread (or another).
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
                loop.call_soon_threadsafe(push, text)

        def open_session() -> Any:
            with chain_lock:
                return rpc.subscriptions.session(send)

        session = await self._execute(index, open_session)
        writer = asyncio.create_task(self._ws_writer(ws, queue))
        try:
            while not writer.done():
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                answer = await self._execute(
                    index,
                    functools.partial(rpc.handle_json, data, extra=session.methods, guard=guard),
                )
                if answer is not None:
                    push(answer)
        except WebSocketDisconnect:
            pass
        except RuntimeError as exc:  # the socket went away mid-receive (bad frame, close)
            logger.info("WebSocket on chain %s closed: %s", rpc.chain.name, exc)
        finally:

            def close_session() -> None:
                with chain_lock:
                    session.close()

            with contextlib.suppress(RuntimeError):  # the workers are gone at shutdown
                await self._execute(index, close_session)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    @staticmethod
    async def _ws_writer(ws: WebSocket, queue: asyncio.Queue[str | None]) -> None:
        while True:
            text = await queue.get()
            if text is None:  # the client fell MAX_QUEUED messages behind
                await ws.close(code=1008, reason="too many undelivered notifications")
                return
            await ws.send_text(text)

    def _asgi(self) -> Callable[..., Any]:
        apps = {e.port: self.build_app(e.chain) for e in self.endpoints}
        first = apps[self.endpoints[0].port]

        async def route(scope: Any, receive: Any, send: Any) -> None:
            server = scope.get("server")
            app = apps.get(server[1]) if server else None
            await (app or first)(scope, receive, send)

        return route

    # -- running ------------------------------------------------------------------------
    async def serve(self) -> None:
        """Serve until :meth:`stop`; returns after a clean shutdown (sockets closed)."""
        self.bind()
        self._loop = asyncio.get_running_loop()
        self._scope = DeadlineScope()
        self._ticker_stop = threading.Event()
        self._workers = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"rpc-{chain.name}")
            for chain in self.devnet.chains
        ]
        header_timeout = self.header_timeout

        class Protocol(_Protocol):
            pass

        Protocol.header_timeout = header_timeout
        config = uvicorn.Config(
            self._asgi(),
            lifespan="off",
            log_level="warning",
            access_log=False,
            http=Protocol,
            ws="websockets-sansio",
            ws_max_size=self.max_body,
            ws_ping_interval=None,
            h11_max_incomplete_event_size=64 * 1024,
            limit_concurrency=self.max_connections,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if _QUIET not in uvicorn_errors.filters:
            uvicorn_errors.addFilter(_QUIET)
        ticker = threading.Thread(target=self._ticker, name="devnet-clock", daemon=True)
        ticker.start()
        tasks = [asyncio.create_task(make(), name="background") for make in self._background]
        try:
            await self._server.serve(sockets=self._sockets)
        finally:
            self._scope.abort(_SHUTDOWN)
            self._ticker_stop.set()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for worker in self._workers:
                worker.shutdown(wait=False, cancel_futures=True)
            # In flight: an aborted call ends at once, a transaction within its gas.
            await asyncio.to_thread(ticker.join)
            for worker in self._workers:
                await asyncio.to_thread(worker.shutdown, True)
            self.close()

    def stop(self) -> None:
        """Shut down: abort the calls in flight, stop serving (any thread, signal handlers)."""
        self._scope.abort(_SHUTDOWN)
        server = self._server
        if server is None:
            return
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(setattr, server, "should_exit", True)
        else:
            server.should_exit = True

    def _ticker(self) -> None:
        """The clock's thread: fire due events every ``tick`` seconds under the devnet lock."""
        stop = self._ticker_stop
        while not stop.is_set():
            server = self._server
            if not self.started.is_set() and server is not None and server.started:
                self.started.set()
            if self._is_due() and self.lock.acquire(timeout=_TICK_LOCK_WAIT):
                try:
                    with deadline_scope(self._scope):
                        self.run_due()
                except Exception:
                    logger.exception("a clock event failed")
                finally:
                    self.lock.release()
            stop.wait(self.tick)

    def _is_due(self) -> bool:
        """A lock-free look (chains may be mid-request): a wrong answer costs one tick."""
        try:
            return self._looks_due()
        except Exception:  # a chain changed under the look: decide under the lock
            return True

    def _looks_due(self) -> bool:
        clock = self.devnet.clock
        due = clock.next_event_time()
        if due is not None and due <= clock.now:
            return True
        return self.empty_blocks and any(
            self._empty_boundary(chain, clock.now) is not None for chain in self.devnet.chains
        )

    @staticmethod
    def _empty_boundary(chain: Chain, now: float) -> int | None:
        if chain.config.mining != "interval" or chain.pending_transactions:
            return None
        step = chain.config.block_time
        boundary = int(now // step * step)
        return boundary if boundary > chain.timestamp else None

    def run_due(self) -> None:
        """Fire the clock's due events; with ``empty_blocks``, seal interval boundaries.

        Callers hold :attr:`lock` while the server runs.
        """
        clock = self.devnet.clock
        clock.run_due()
        if not self.empty_blocks:
            return
        now = clock.now
        for chain in self.devnet.chains:
            boundary = self._empty_boundary(chain, now)
            if boundary is not None:
                chain.mine(timestamp=boundary)

    @contextlib.contextmanager
    def run_in_thread(self, timeout: float = 30.0) -> Iterator[DevnetServer]:
        """Serve from a background thread for the ``with`` block (tests, notebooks).

        Code in this thread that touches the devnet meanwhile should hold :attr:`lock`.
        """
        self.bind()
        failure: list[BaseException] = []

        def main() -> None:
            try:
                asyncio.run(self.serve())
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)
                self.started.set()

        thread = threading.Thread(target=main, name="devnet-server", daemon=True)
        thread.start()
        if not self.started.wait(timeout) or failure:
            self.stop()
            thread.join(timeout)
            raise RuntimeError(f"the devnet server did not start: {failure}") from (
                failure[0] if failure else None
            )
        try:
            yield self
        finally:
            self.stop()
            thread.join(timeout)
