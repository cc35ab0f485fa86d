"""On Python 3.11, let aiohttp write a request body in the turn that sends it, as it does on 3.12+.

Why: aiohttp writes a request's body in a task of its own (``ClientRequest.write_bytes``). From
Python 3.12 it starts that task eagerly, so the bytes leave in the same turn of the event loop;
on 3.11, which has no eager tasks, they leave a turn later: about a millisecond on every provider
call while a big send keeps the loop busy (bench/store.py). This task factory runs the first step
of that one coroutine at once and hands what is left, if anything, to an ordinary task. Every
other coroutine gets the default task, and on 3.12+ nothing is installed.
"""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Coroutine, Generator
from typing import Any

EAGER = frozenset({"ClientRequest.write_bytes"})  # aiohttp's body writer (client_reqrep.py)


def install(loop: asyncio.AbstractEventLoop) -> None:
    """Use the factory on ``loop`` (Python 3.11 only; a custom factory already set is kept)."""
    if sys.version_info < (3, 12) and loop.get_task_factory() is None:
        loop.set_task_factory(_factory)


_CoroutineLike = Coroutine[Any, Any, Any] | Generator[Any, None, Any]


def _factory(
    loop: asyncio.AbstractEventLoop, coro: _CoroutineLike, **kwargs: Any
) -> asyncio.Future[Any]:
    if getattr(coro, "__qualname__", "") not in EAGER:
        return asyncio.Task(coro, loop=loop, **kwargs)
    try:
        pending = coro.send(None)
    except StopIteration as stop:  # done in one step, the usual case: nothing left to schedule
        done: asyncio.Future[Any] = loop.create_future()
        done.set_result(stop.value)
        return done
    except BaseException as exc:  # the caller sees it where it awaits the writer, as before
        failed: asyncio.Future[Any] = loop.create_future()
        failed.set_exception(exc)
        return failed
    rest = _resume(coro, pending)
    next(rest)  # started, so a cancellation before the task's first step still reaches coro
    return asyncio.Task(rest, loop=loop, **kwargs)


@types.coroutine
def _resume(coro: _CoroutineLike, pending: Any) -> Generator[Any, Any, Any]:
    """Go on with a coroutine that already made its first step and is waiting on ``pending``:
    what the task sends or throws in (a cancellation) goes on to the coroutine, as it would
    have in a task of its own."""
    try:
        yield None  # where the factory leaves it; the task's first step resumes it
    except GeneratorExit:  # dropped without ever running (its loop closed)
        coro.close()
        raise
    except BaseException as exc:  # cancelled before that step: as a task would, cancel the wait
        if isinstance(exc, asyncio.CancelledError) and isinstance(pending, asyncio.Future):
            pending.cancel()
        try:
            pending = coro.throw(exc)
        except StopIteration as stop:
            return stop.value
    while True:
        try:
            sent = yield pending
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                pending = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
            continue
        try:
            pending = coro.send(sent)
        except StopIteration as stop:
            return stop.value
