"""How a listener gets what it needs, and how it runs its work after the ack.

Why through bolt's ``context``: listeners are module-level functions (a test calls one directly,
as bolt's own sample apps do), and each app carries its own ``Deps`` in the context that bolt hands
to every listener, so there are no globals and many independent apps can live in one process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.slack.deps import Deps
from bot.slack.listeners.errors import after_ack

P = ParamSpec("P")
DEPS = "deps"  # the key in bolt's context


class ProvideDeps(AsyncMiddleware):
    """Puts this app's ``Deps`` into every request's context (``context["deps"]``)."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        req.context[DEPS] = self.deps
        return await next()


def deps_of(context: AsyncBoltContext) -> Deps:
    """This app's ``Deps``; a listener without them is a wiring bug, so it fails loudly."""
    deps = context.get(DEPS)
    if not isinstance(deps, Deps):
        raise LookupError("no Deps in the bolt context: register listeners with ProvideDeps")
    return deps


async def acked(
    ack: AsyncAck,
    deps: Deps,
    work: Callable[Concatenate[Deps, P], Awaitable[object]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> None:
    """``ack()`` now, then ``work(deps, *args, **kwargs)`` with after-ack failure handling.

    The work is started only after the ack, so Slack's three seconds are never spent on it.
    """
    await ack()
    await after_ack(deps, work(deps, *args, **kwargs))
