"""The JSON-RPC server: every chain of a devnet over HTTP and WebSocket, in one process.

Each chain listens on its own loopback port (consecutive from ``port``); HTTP ``POST /``
and WebSocket ``/`` on the same port, as anvil does. All chains share ONE event loop
and ONE lock: EVM execution is synchronous, so every request runs start to finish
under :attr:`DevnetServer.lock` and the chains never see concurrent mutation. The
handler is the chain's :class:`~chains.RpcMethods` table — no method has a second
implementation here; this module only moves bytes.

Transport rules (the table's own error codes are in :mod:`chains.rpc._methods`):

- request bodies over ``max_body`` bytes: HTTP 413 with a ``-32600`` JSON-RPC error
  body; a WebSocket message over it closes the connection with code 1009 (message too
  big), the protocol's own answer;
- a notification-only request gets ``200`` with an empty body;
- ``GET /`` answers a plain-text health line; other HTTP methods get 405;
- CORS allows any origin (a browser wallet on any page may talk to a local node, as
  with anvil); bind a non-loopback host only when you mean it;
- ``eth_subscribe`` (``newHeads``, ``logs``) and ``eth_unsubscribe`` are served per
  WebSocket connection; notifications wait in a per-connection queue of at most
  ``MAX_QUEUED`` messages — a client that falls that far behind is disconnected
  (code 1008), and its subscriptions end with the connection.
- A background task fires the clock's due events every ``tick`` seconds (interval
  mining, relays scheduled on the clock) and, with ``empty_blocks``, seals an empty
  block on each interval boundary nothing else filled, as ``anvil --block-time``.

>>> server = DevnetServer(Devnet(n_chains=2, real_time=True), port=0)   # doctest: +SKIP
>>> with server.run_in_thread():                                       # doctest: +SKIP
...     print(server.endpoints[0].url)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from chains._errors import ConfigError
from chains.rpc._bundle import bundle_methods
from chains.rpc._wire import INVALID_REQUEST, RpcError

if TYPE_CHECKING:
    from chains._chain import Chain
    from chains._devnet import Devnet

__all__ = ["DEFAULT_HOST", "MAX_BODY", "DevnetServer", "Endpoint"]

logger = logging.getLogger(__name__)

DEFAULT_HOST: Final = "127.0.0.1"
#: Largest request body (HTTP) or message (WebSocket) accepted: 5 MiB.
MAX_BODY: Final = 5 * 1024 * 1024
#: Notifications a WebSocket connection may have waiting before it is dropped.
MAX_QUEUED: Final = 10_000
#: Seconds between two runs of the clock's due events.
DEFAULT_TICK: Final = 0.05
_JSON: Final = "application/json"


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


def _too_large(limit: int) -> dict[str, Any]:
    error = RpcError(INVALID_REQUEST, f"invalid request: body exceeds {limit} bytes")
    return {"jsonrpc": "2.0", "id": None, "error": error.to_dict()}


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handling: the owner of the loop decides."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class DevnetServer:
    """Serve every chain of ``devnet`` over JSON-RPC (HTTP and WebSocket).

    ``port`` is the first chain's port, the others follow (``port=0`` picks a free port
    for each chain, for tests). ``methods`` are extra JSON-RPC methods registered into
    every chain's table (the bridge admin methods come from the layer above this way).
    ``background`` coroutine factories run beside the server in the same loop (the
    relayer's real-time driver); they are cancelled on shutdown.
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
    ) -> None:
        if not 0 <= port <= 65535 - len(devnet.chains) + 1:
            raise ConfigError(f"port must be between 0 and 65535, got {port}")
        if max_body < 1024:
            raise ConfigError(f"max_body must be at least 1024 bytes, got {max_body}")
        if not tick > 0:
            raise ConfigError(f"tick must be positive seconds, got {tick}")
        self.devnet = devnet
        self.host = host
        self.port = port
        self.max_body = max_body
        self.tick = tick
        self.empty_blocks = empty_blocks
        #: Held while any request, clock event or background mutation runs on the chains.
        #: Code in other threads that touches the devnet while it is served takes it too.
        self.lock = threading.RLock()
        self._background = list(background)
        served = {**bundle_methods(devnet), **(methods or {})}
        for chain in devnet.chains:
            for name, fn in served.items():
                chain.rpc.register(name, fn, replace=True)
        self._sockets: list[socket.socket] = []
        self.endpoints: list[Endpoint] = []
        self._server: _Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
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

    # -- ASGI ---------------------------------------------------------------------------
    def build_app(self, chain: Chain) -> Starlette:
        """The ASGI application serving one chain."""
        rpc = chain.rpc
        health = f"composability-testbed JSON-RPC: chain {chain.name} (id {chain.chain_id})\n"
        limit = self.max_body

        async def http(request: Request) -> Response:
            if request.method == "GET":
                return PlainTextResponse(health)
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                return JSONResponse(_too_large(limit), status_code=413)
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    return JSONResponse(_too_large(limit), status_code=413)
            with self.lock:
                answer = rpc.handle_json(bytes(body))
            return Response(answer or b"", media_type=_JSON)

        async def websocket(ws: WebSocket) -> None:
            await ws.accept()
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
                # Called from block sealing, on the loop's thread or another one.
                if threading.get_ident() == loop_thread:
                    push(text)
                else:
                    loop.call_soon_threadsafe(push, text)

            loop_thread = threading.get_ident()
            with self.lock:
                session = rpc.subscriptions.session(send)
            writer = asyncio.create_task(self._ws_writer(ws, queue))
            try:
                while not writer.done():
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect":
                        break
                    data = message.get("text")
                    if data is None:
                        data = message.get("bytes") or b""
                    with self.lock:
                        answer = rpc.handle_json(data, extra=session.methods)
                    if answer is not None:
                        push(answer)
            except WebSocketDisconnect:
                pass
            finally:
                with self.lock:
                    session.close()
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await writer

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
        config = uvicorn.Config(
            self._asgi(),
            lifespan="off",
            log_level="warning",
            access_log=False,
            ws="websockets-sansio",
            ws_max_size=self.max_body,
            ws_ping_interval=None,
            h11_max_incomplete_event_size=64 * 1024,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        tasks = [asyncio.create_task(self._ticker(), name="clock")]
        tasks += [asyncio.create_task(make(), name="background") for make in self._background]
        try:
            await self._server.serve(sockets=self._sockets)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.close()

    def stop(self) -> None:
        """Ask the server to shut down (safe from any thread or a signal handler)."""
        server = self._server
        if server is None:
            return
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(setattr, server, "should_exit", True)
        else:
            server.should_exit = True

    async def _ticker(self) -> None:
        started = False
        while True:
            if not started and self._server is not None and self._server.started:
                started = True
                self.started.set()
            with self.lock:
                try:
                    self.run_due()
                except Exception:
                    logger.exception("a clock event failed")
            await asyncio.sleep(self.tick)

    def run_due(self) -> None:
        """Fire the clock's due events; with ``empty_blocks``, seal interval boundaries."""
        clock = self.devnet.clock
        clock.run_due()
        if not self.empty_blocks:
            return
        now = clock.now
        for chain in self.devnet.chains:
            if chain.config.mining != "interval" or chain.pending_transactions:
                continue
            step = chain.config.block_time
            boundary = int(now // step * step)
            if boundary > chain.timestamp:
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
