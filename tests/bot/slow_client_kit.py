"""Raw-socket clients for the slow-client tests: a request head, then as much body as a test
chooses, and everything the bridge answers until it closes the connection."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from bot import metrics
from bot.server.limits import HttpServer
from tests.bot.bridge_kit import Bridge

BOUND = 5.0  # "closed": long before this, whatever the machine's load
ONE_MIB_LESS_ONE = (1 << 20) - 1

Conn = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(bridge: Bridge) -> Conn:
    url = urlsplit(bridge.world.bridge.url)
    return await asyncio.open_connection(url.hostname, url.port)


def head(path: str, length: int, content_type: str = "application/json") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: bridge\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


async def until_closed(conn: Conn, bound: float = BOUND) -> bytes:
    """Everything the server sent until it closed the connection; fails if it stays open."""
    reader, writer = conn
    received = b""
    try:
        async with asyncio.timeout(bound):
            while chunk := await reader.read(1 << 16):
                received += chunk
    except ConnectionResetError:
        pass  # closed with our unread bytes in its buffer: closed all the same
    finally:
        writer.close()
    return received


def cut(reason: str) -> float:
    """``bridge_http_connections_cut_total{reason=…}`` as /metrics shows it."""
    value = metrics.REGISTRY.get_sample_value(
        "bridge_http_connections_cut_total", {"reason": reason}
    )
    return value or 0.0


def server_of(bridge: Bridge) -> HttpServer:
    server = bridge.world.bridge
    assert isinstance(server, HttpServer)
    return server
