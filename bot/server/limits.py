"""The HTTP server's own defence against slow and numerous clients, and how it is served.

Why: connections that send a request head or body slowly (or not at all) held memory and file
descriptors for minutes. Three bounds, all through aiohttp's public knobs and asyncio's:
a request head must arrive within ``header_timeout`` of connecting or of the previous response
(aiohttp's keep-alive timer, which also closes idle keep-alive connections), a body within
``body_timeout`` once its head is in (bot/server/bodies.py reads it under ``asyncio.timeout``,
within a process-wide budget of body bytes in flight), and at most ``max_connections`` are open at
once (the protocol factory answers the rest 503 and closes them without reading a byte).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import Counter

from bot import metrics

log = logging.getLogger(__name__)

BACKLOG = 128  # pending connections the kernel queues (and asyncio accepts per turn)
MIN_BODY_BUDGET_MIB = 2  # its large-body share (3/4) must hold one 1 MiB body
SERVER_NAME = "chatops-bridge"  # in place of aiohttp's "Python/3.x aiohttp/3.y" on every response

SLOW_CLIENTS = Counter(
    "bridge_http_connections_cut_total",
    "Connections the HTTP server closed or refused to protect itself: "
    "body (a request body that did not arrive in time), full (past the connection cap) or "
    "budget (a request body the budget of body bytes in flight could not cover).",
    ["reason"],
    registry=metrics.REGISTRY,
)


@dataclass(frozen=True)
class HttpLimits:
    """Seconds a client may take and how many may be connected (README "Environment")."""

    header_timeout: float = 5.0  # BRIDGE_HEADER_TIMEOUT: also how long an idle connection stays
    body_timeout: float = 5.0  # BRIDGE_BODY_TIMEOUT: Slack's whole budget is 3 s
    max_connections: int = 512  # BRIDGE_MAX_CONNECTIONS: keep it under `ulimit -n`
    body_budget_mib: int = 64  # BRIDGE_BODY_BUDGET: request body bytes being read at once

    @property
    def body_budget(self) -> int:
        """The budget in bytes."""
        return self.body_budget_mib << 20

    @property
    def lingering_time(self) -> float:
        """How long a refused request's unread body is drained so its answer reaches the client
        (aiohttp's default is 10 s, during which a stalled client would still hold the slot)."""
        return min(self.body_timeout, 1.0)


def _number(name: str, raw: str | None, default: float, kind: type[float]) -> float:
    raw = (raw or "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if value <= 0:
        what = "a whole number" if kind is int else "a number of seconds"
        raise ValueError(f"{name} must be {what} above 0, not {raw!r} (unset it for {default:g})")
    return value


def _mib(name: str, raw: str | None, default: int) -> int:
    raw = (raw or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < MIN_BODY_BUDGET_MIB:
        raise ValueError(
            f"{name} is a whole number of MiB, at least {MIN_BODY_BUDGET_MIB} (a 1 MiB body must "
            f"fit in the part large bodies may use), not {raw!r} (unset it for {default})"
        )
    return int(raw)


def read_limits(environ: Mapping[str, str]) -> HttpLimits:
    """The limits from the environment; ValueError names the variable that is wrong."""
    base = HttpLimits()
    header = environ.get("BRIDGE_HEADER_TIMEOUT")
    body = environ.get("BRIDGE_BODY_TIMEOUT")
    connections = environ.get("BRIDGE_MAX_CONNECTIONS")
    budget = _mib("BRIDGE_BODY_BUDGET", environ.get("BRIDGE_BODY_BUDGET"), base.body_budget_mib)
    return HttpLimits(
        header_timeout=_number("BRIDGE_HEADER_TIMEOUT", header, base.header_timeout, float),
        body_timeout=_number("BRIDGE_BODY_TIMEOUT", body, base.body_timeout, float),
        max_connections=int(
            _number("BRIDGE_MAX_CONNECTIONS", connections, base.max_connections, int)
        ),
        body_budget_mib=budget,
    )


@dataclass
class Tally:
    """One warning line per ``every`` seconds at most: 500 slow clients must not flood the log."""

    what: str
    every: float = 10.0
    count: int = 0
    last: float = field(default=-1e9)

    def add(self, **extra: object) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.every:
            log.warning(self.what, extra={"connections": self.count, **extra})
            self.count, self.last = 0, now


_REFUSED = Tally("refused connections past BRIDGE_MAX_CONNECTIONS")


async def name_server(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: aiohttp would otherwise name itself and its version."""
    response.headers["Server"] = SERVER_NAME


_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nServer: " + SERVER_NAME.encode() + b"\r\n"
    b"Content-Type: text/plain\r\nContent-Length: 21\r\nRetry-After: 1\r\n"
    b"Connection: close\r\n\r\ntoo many connections\n"
)


class _Refuse(asyncio.Protocol):
    """A connection past the cap: answered 503 at once and closed, nothing read or parsed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(_BUSY)
        transport.close()


class _Counted(asyncio.Protocol):
    """aiohttp's protocol, unchanged, but the cap learns when its connection ends."""

    def __init__(self, inner: asyncio.Protocol, cap: ConnectionCap) -> None:
        self._inner, self._cap = inner, cap

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cap.open -= 1
        self._inner.connection_lost(exc)


@dataclass
class ConnectionCap:
    """A protocol factory around aiohttp's: at most ``limit`` connections are served at once."""

    factory: Callable[[], asyncio.Protocol]
    limit: int
    open: int = 0

    def __call__(self) -> asyncio.Protocol:
        if self.open >= self.limit:
            SLOW_CLIENTS.labels("full").inc()
            _REFUSED.add(limit=self.limit)
            return _Refuse()
        self.open += 1  # counted from now: a burst of accepts cannot overshoot the cap
        return _Counted(self.factory(), self)


@dataclass
class HttpServer:
    """The bridge's app, listening; ``close`` stops listening, then closes connections and
    the app (its runtime) as aiohttp's own runner does."""

    runner: web.AppRunner
    server: asyncio.Server
    cap: ConnectionCap

    @property
    def url(self) -> str:
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def close(self) -> None:
        self.server.close()
        await self.runner.cleanup()


def runner_for(
    app: web.Application, limits: HttpLimits, *, shutdown_timeout: float = 60.0
) -> web.AppRunner:
    """aiohttp's runner with the head deadline (its keep-alive timer, armed at connect) and a
    short lingering close; serve it with ``listen``."""
    return web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=shutdown_timeout,
        keepalive_timeout=limits.header_timeout,
        lingering_time=limits.lingering_time,
    )


async def listen(
    runner: web.AppRunner,
    limits: HttpLimits,
    *,
    host: str | None = None,
    port: int = 0,
    sock: socket.socket | None = None,
) -> tuple[asyncio.Server, ConnectionCap]:
    """Serve a set-up runner on ``host:port`` (or a bound ``sock``), at most
    ``limits.max_connections`` at once. Close the server before ``runner.cleanup()``."""
    assert runner.server is not None, "runner.setup() first"
    cap = ConnectionCap(runner.server, limits.max_connections)
    loop = asyncio.get_running_loop()
    if sock is not None:
        return await loop.create_server(cap, sock=sock, backlog=BACKLOG), cap
    server = await loop.create_server(
        cap, host=host, port=port, backlog=BACKLOG, reuse_address=True
    )
    return server, cap


async def start_http(
    app: web.Application,
    limits: HttpLimits,
    *,
    sock: socket.socket | None = None,
    shutdown_timeout: float = 60.0,
) -> HttpServer:
    """``app`` served within ``limits`` on a bound ``sock`` (or any free loopback port)."""
    runner = runner_for(app, limits, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        server, cap = await listen(
            runner, limits, host="127.0.0.1" if sock is None else None, sock=sock
        )
    except BaseException:
        await runner.cleanup()
        raise
    return HttpServer(runner, server, cap)
