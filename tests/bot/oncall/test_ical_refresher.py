"""The https calendar refresher against a loopback aiohttp server serving an .ics: a good fetch,
a failed refresh keeping the last calendar, the size cap and the deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from bridge_sandbox.emulators.common import RunningServer, serve

from bot.oncall.refresher import CalendarRefresher
from config.ical import CalendarProblem
from config.schedules import Schedule, on_call

FIXTURE = Path(__file__).parents[2] / "fixtures" / "oncall" / "weekly-with-override.ics"
PEOPLE = {"alice", "bob", "carol"}
BERLIN = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 10, 28, 19, tzinfo=UTC)  # 20:00 in Berlin: carol's one-off event


class Calendar:
    """What the loopback server answers; tests change it between fetches."""

    def __init__(self) -> None:
        self.body = FIXTURE.read_bytes()
        self.status = 200
        self.hold = asyncio.Event()  # set: answer; clear: hang until the client gives up
        self.hold.set()
        self.hits = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits += 1
        await self.hold.wait()
        return web.Response(body=self.body, status=self.status, content_type="text/calendar")


@pytest.fixture
async def server() -> AsyncIterator[tuple[RunningServer, Calendar]]:
    calendar = Calendar()
    app = web.Application()
    app.router.add_get("/team.ics", calendar.handle)
    running = await serve(app)
    yield running, calendar
    calendar.hold.set()
    await running.close()


def refresher(url: str, session: aiohttp.ClientSession, **kw: object) -> CalendarRefresher:
    schedule = Schedule("secondary", BERLIN, source=url)
    return CalendarRefresher(schedule, url, session=session, people=PEOPLE, **kw)  # type: ignore[arg-type]


async def test_fetch_reads_the_calendar_and_run_keeps_it_when_a_refresh_fails(
    server: tuple[RunningServer, Calendar], caplog: pytest.LogCaptureFixture
) -> None:
    running, calendar = server
    sleeps: asyncio.Queue[float] = asyncio.Queue()
    go_on = asyncio.Event()

    async def sleep(seconds: float) -> None:  # the refresh interval, driven by the test
        await sleeps.put(seconds)
        await go_on.wait()
        go_on.clear()

    async with aiohttp.ClientSession() as session:
        fresh = refresher(
            f"{running.url}/team.ics?token=s3cret",
            session,
            refresh=timedelta(minutes=10),
            sleep=sleep,
        )
        assert on_call(fresh.current, AT) is None  # nothing until fetched
        task = asyncio.create_task(fresh.run())
        assert await asyncio.wait_for(sleeps.get(), 10) == 600.0
        assert on_call(fresh.current, AT).person == "carol"  # type: ignore[union-attr]
        calendar.status = 500
        go_on.set()
        assert await asyncio.wait_for(sleeps.get(), 10) == 600.0
        assert calendar.hits == 2
        assert "answered HTTP 500; keeping the previous one" in caplog.text.replace(")", "")
        assert "s3cret" not in caplog.text  # a token in the URL's query is never logged
        assert on_call(fresh.current, AT).person == "carol"  # type: ignore[union-attr]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_calendar_over_the_size_cap_or_naming_strangers_is_refused(
    server: tuple[RunningServer, Calendar],
) -> None:
    running, calendar = server
    async with aiohttp.ClientSession() as session:
        small = refresher(f"{running.url}/team.ics", session, max_bytes=100)
        with pytest.raises(CalendarProblem, match="is over 100 bytes"):
            await small.fetch()
        calendar.body = calendar.body.replace(b"SUMMARY:carol", b"SUMMARY:mallory")
        strangers = refresher(f"{running.url}/team.ics", session)
        with pytest.raises(CalendarProblem, match="not in the config: mallory"):
            await strangers.fetch()
        assert strangers.current.calendar is None


async def test_a_hanging_server_fails_the_fetch_at_its_deadline(
    server: tuple[RunningServer, Calendar],
) -> None:
    running, calendar = server
    calendar.hold.clear()
    async with aiohttp.ClientSession() as session:
        slow = refresher(f"{running.url}/team.ics", session, timeout=0.2)
        with pytest.raises(TimeoutError):
            await slow.fetch()
