"""The 3.11 task factory that lets aiohttp write a request body in the turn that sends it.

Why: without it, on Python 3.11 each provider request left one turn of the event loop after
the call, about a millisecond per call under load (bench/store.py). It must change nothing
else: other coroutines get ordinary tasks, a writer that waits is finished by a task, and what
the writer raises or is thrown (a cancellation) goes where it went before.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web

from bot import eager_writes
from tests.conftest import StartApp

T = TypeVar("T")
CoroutineLike = Generator[Any, None, T] | Coroutine[Any, Any, T]  # what a task factory is given

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12+ has eager tasks")


class ClientRequest:
    """Stands in only for the name: the factory knows aiohttp's writer by its qualified name."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.gate: asyncio.Future[str] | None = None

    async def write_bytes(self, fail: bool = False) -> str:
        self.steps.append("first step")
        if fail:
            raise OSError("the socket went away")
        if self.gate is not None:
            self.steps.append(await self.gate)
        return "written"


@pytest.fixture
async def loop() -> AsyncIterator[asyncio.AbstractEventLoop]:
    """The test's own loop with the factory installed, and without it again afterwards."""
    running = asyncio.get_running_loop()
    eager_writes.install(running)
    try:
        yield running
    finally:
        running.set_task_factory(None)


async def test_the_name_is_aiohttps_writer() -> None:
    """If aiohttp renames its writer the factory stops helping: this says so."""
    from aiohttp.client_reqrep import ClientRequest as AiohttpRequest

    assert AiohttpRequest.write_bytes.__qualname__ in eager_writes.EAGER
    assert ClientRequest.write_bytes.__qualname__ in eager_writes.EAGER


async def test_a_writer_that_finishes_at_once_has_run_before_create_task_returns(
    loop: asyncio.AbstractEventLoop,
) -> None:
    request = ClientRequest()
    task = loop.create_task(request.write_bytes())
    assert request.steps == ["first step"]  # no turn of the loop in between
    assert task.done()
    assert await task == "written"


async def test_a_writer_that_waits_is_finished_by_a_task(loop: asyncio.AbstractEventLoop) -> None:
    request = ClientRequest()
    request.gate = loop.create_future()
    task = loop.create_task(request.write_bytes())
    assert request.steps == ["first step"]
    assert not task.done()
    request.gate.set_result("the rest")
    assert await asyncio.wait_for(task, 5) == "written"
    assert request.steps == ["first step", "the rest"]


async def test_a_waiting_writer_sees_its_cancellation(loop: asyncio.AbstractEventLoop) -> None:
    request = ClientRequest()
    request.gate = loop.create_future()
    task = loop.create_task(request.write_bytes())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert request.gate.cancelled()  # the writer's own await was cancelled, as in a task


async def test_a_writer_that_fails_at_once_raises_where_it_is_awaited(
    loop: asyncio.AbstractEventLoop,
) -> None:
    task = loop.create_task(ClientRequest().write_bytes(fail=True))
    with pytest.raises(OSError, match="went away"):
        await task


async def test_other_coroutines_get_ordinary_tasks_that_start_later(
    loop: asyncio.AbstractEventLoop,
) -> None:
    steps: list[str] = []

    async def other() -> None:
        steps.append("ran")

    task = loop.create_task(other(), name="other")
    assert isinstance(task, asyncio.Task)
    assert task.get_name() == "other"
    assert steps == []
    await task
    assert steps == ["ran"]


async def test_a_factory_already_set_is_kept() -> None:
    loop = asyncio.get_running_loop()

    def mine(loop: asyncio.AbstractEventLoop, coro: CoroutineLike[T], /) -> asyncio.Future[T]:
        return asyncio.Task(coro, loop=loop)

    loop.set_task_factory(mine)
    try:
        eager_writes.install(loop)
        assert loop.get_task_factory() is mine
    finally:
        loop.set_task_factory(None)


async def test_a_real_request_goes_out_in_the_turn_it_is_made(
    start_app: StartApp, loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through aiohttp itself: the body is on the socket before ``post`` first waits (without
    the factory, on 3.11, it leaves a turn later)."""
    arrived = asyncio.Event()

    async def receive(request: web.Request) -> web.Response:
        await request.read()
        arrived.set()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/v1/send", receive)
    server = await start_app(app)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{server.url}/v1/send", json={"to": "+254700000000"}) as r:
            assert await r.json() == {"ok": True}  # a warm connection for the next one
        writes: list[bytes] = []
        transport = asyncio.selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
        write = transport.write

        def noting(self: object, data: bytes) -> None:
            writes.append(bytes(data))
            write(self, data)

        monkeypatch.setattr(transport, "write", noting)
        request = asyncio.ensure_future(
            session.post(f"{server.url}/v1/send", json={"to": "+254700000001"})
        )
        await asyncio.sleep(0)  # the request's task takes exactly one step
        body_out = any(b"+254700000001" in data for data in writes)
        async with await request as response:
            assert response.status == 200
    assert body_out
    assert arrived.is_set()
