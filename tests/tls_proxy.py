"""A TLS-terminating reverse proxy on loopback, with a throwaway CA (``trustme``).

Why: some real clients refuse plain HTTP (the ``pagerduty`` package accepts only an
``https://`` base URL), and in production the bridge sits behind a TLS reverse proxy anyway
(README, Deploying). This one forwards each request's method, path, body and headers to the
bridge and its answer back, so the client under test talks TLS to what stands for that proxy.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
import trustme
from aiohttp import web

HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


@dataclass(frozen=True)
class TlsProxy:
    url: str  # https://127.0.0.1:<port>
    client_context: ssl.SSLContext  # trusts the throwaway CA only


@asynccontextmanager
async def tls_proxy(upstream: str) -> AsyncIterator[TlsProxy]:
    """Serve https on a free loopback port, forwarding everything to ``upstream``."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def forward(request: web.Request) -> web.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with session.request(
            request.method,
            upstream + request.rel_url.path_qs,
            data=await request.read(),
            headers=headers,
        ) as answer:
            body = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
            return web.Response(status=answer.status, body=body, headers=kept)

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield TlsProxy(f"https://127.0.0.1:{port}", client_context)
    finally:
        await runner.cleanup()
        await session.close()
