"""How a listener gets what it needs, and how it runs its work after the ack.

Why through bolt's ``context``: listeners are module-level functions (a test calls one directly,
as bolt's own sample apps do), and each app carries its own ``Deps`` in the context that bolt hands
to every listener, so there are no globals and many independent apps can live in one process.

Why the work runs in a task of its own: the app runs with bolt's ``process_before_response=True``
(``bot.slack.app``), so Slack gets the ack's response as soon as the listener returns. A listener
acks, starts its work with ``acked``/``acked_in_turn`` and returns at once; it never awaits
work after ``ack()``.
"""

from __future__ import annotations

import asyncio
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
    """``ack()`` now, then ``work(deps, *args, **kwargs)`` in its own task (``start_work``).

    The work is started only after the ack, so Slack's three seconds are never spent on it, and
    the listener returns right away, so bolt answers Slack without waiting for the work.
    """
    await ack()
    start_work(deps, None, work, *args, **kwargs)


async def acked_in_turn(
    ack: AsyncAck,
    deps: Deps,
    work: Callable[Concatenate[Deps, P], Awaitable[object]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> None:
    """``acked``, but the work waits for one of ``deps.after_ack_slots`` first: a burst of
    commands cannot crowd the event loop that answers the acks behind them."""
    await ack()
    start_work(deps, deps.after_ack_slots, work, *args, **kwargs)


def start_work(
    deps: Deps,
    slots: asyncio.Semaphore | None,
    work: Callable[Concatenate[Deps, P], Awaitable[object]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> asyncio.Task[None]:
    """Run ``work(deps, *args, **kwargs)`` in a new task, its failure reported by ``after_ack``.

    The task copies this context (so ``after_ack`` knows the request), and the service holds it
    until it ends: the event loop keeps only weak references, and a shutdown waits for it (Slack
    has its ack and will not retry, so dropped work would be a request that never happened).
    Nothing escapes the task: ``after_ack`` reports every ``Exception``.
    """

    async def run() -> None:
        if slots is None:
            await after_ack(deps, work(deps, *args, **kwargs))
            return
        async with slots:
            await after_ack(deps, work(deps, *args, **kwargs))

    task = asyncio.create_task(run(), name=f"after ack: {getattr(work, '__name__', 'work')}")
    deps.service.track_listener(task)
    return task
