"""Request bodies are read before any handler runs: within a deadline, and within a budget.

Why: the deadline alone left memory bounded only by connections × 1 MiB (500 stalled clients
sending 1 MiB minus one byte each took the bridge from 69 to 394–672 MiB), since each body is
gathered in memory while it trickles in. Now a request reserves its size from a process-wide
budget of body bytes being read before a byte of its body is read, and gets 503 at once (its body
unread, its connection closed) when the budget cannot cover it. Bodies over ``SMALL_BODY`` may
use only ``LARGE_SHARE`` of the budget, so a flood of big webhook bodies leaves room for Slack's
requests (a few KiB each), which must be answered within Slack's 3 s.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from bot.server.limits import SLOW_CLIENTS, HttpLimits, Tally

log = logging.getLogger(__name__)

SMALL_BODY = 64 * 1024  # Slack's requests, receipts, ack forms: always under this
LARGE_SHARE = 0.75  # of the budget, for bodies over SMALL_BODY; the rest is kept for small ones

_SLOW_BODIES = Tally("closed connections whose request body did not arrive in time")
_OVER_BUDGET = Tally("refused request bodies past BRIDGE_BODY_BUDGET")


@dataclass
class BodyBudget:
    """Body bytes being read at once, across every connection of the server."""

    total: int
    in_use: int = 0
    large_in_use: int = 0  # of which by bodies over SMALL_BODY

    @property
    def large_total(self) -> int:
        return int(self.total * LARGE_SHARE)

    def take(self, size: int) -> bool:
        """Reserve ``size`` bytes if the budget (and, for a large body, its share) covers it."""
        large = size > SMALL_BODY
        if self.in_use + size > self.total:
            return False
        if large and self.large_in_use + size > self.large_total:
            return False
        self.in_use += size
        if large:
            self.large_in_use += size
        return True

    def give_back(self, size: int) -> None:
        self.in_use -= size
        if size > SMALL_BODY:
            self.large_in_use -= size


BODY_BUDGET = web.AppKey("body_budget", BodyBudget)


def reserved_size(request: web.BaseRequest) -> int:
    """What reading this body can hold in memory: its Content-Length, or the endpoint's limit
    when the size is unknown until read (chunked) or not what is held (compressed)."""
    encoding = request.headers.get(hdrs.CONTENT_ENCODING, "identity").strip().lower()
    length = request.content_length
    if length is None or encoding not in ("", "identity"):
        return request.client_max_size
    return length


def read_bodies(limits: HttpLimits, budget: BodyBudget) -> Middleware:
    """A middleware that reads every request body within ``limits.body_timeout`` and ``budget``
    (``request.read()`` keeps it, so handlers read it again for free): 413 for a declared size
    over the limit (drained for the lingering time, so the client learns it, not a reset), 503
    when the budget cannot cover it, 408 when it is late; each closes the connection."""
    retry_after = str(max(1, math.ceil(limits.body_timeout)))  # by then every reservation is back

    @web.middleware
    async def read_body(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.body_exists:
            return await handler(request)
        size = reserved_size(request)
        if size > request.client_max_size:
            return _closing(413, f"the request body is over {request.client_max_size} bytes")
        if not budget.take(size):
            SLOW_CLIENTS.labels("budget").inc()
            _OVER_BUDGET.add(path=request.path, body_bytes=size)
            return await _refuse_unread(request, retry_after)
        try:
            async with asyncio.timeout(limits.body_timeout):
                await request.read()
        except TimeoutError:
            SLOW_CLIENTS.labels("body").inc()
            _SLOW_BODIES.add(path=request.path, limit_s=limits.body_timeout)
            return _closing(408, "the request body did not arrive in time")
        except ConnectionResetError:  # the client left mid-body: a debug line, no traceback
            log.debug("a client closed its connection before its request body arrived")
            return _closing(400, "the connection closed before the request body arrived")
        finally:  # read, late, gone, too large or cancelled: the bytes are no longer in flight
            budget.give_back(size)
        return await handler(request)

    return read_body


async def _refuse_unread(request: web.Request, retry_after: str) -> web.Response:
    """503 sent now and the connection closed, its body left unread: aiohttp would otherwise
    drain it for the lingering time, holding the connection and reading what was refused. A
    client still sending may see the connection reset rather than the 503; both mean retry."""
    busy = _closing(503, "too many request bodies being read at once; retry later")
    busy.headers[hdrs.RETRY_AFTER] = retry_after
    await busy.prepare(request)
    await busy.write_eof()
    if request.transport is not None:
        request.transport.close()  # after the 503 is written out
    return busy


def _closing(status: int, text: str) -> web.Response:
    response = web.Response(status=status, text=text)
    response.force_close()
    return response
