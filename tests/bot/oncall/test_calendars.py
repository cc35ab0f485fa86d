"""The runtime's https calendars: fetched at the first tick, again when ``refresh`` has passed
on the runtime's clock (not before), a failed refresh keeping the last good calendar, and the
schedules mapping the runtime hands to paging and ``/send oncall`` showing the latest."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from bridge_sandbox.emulators.common import RunningServer

from bot.oncall.calendars import Calendars
from config.schedules import Schedule, on_call
from tests.bot.oncall.test_ical_refresher import AT, BERLIN, PEOPLE, Calendar, server
from tests.bot.paging_kit import Clock

__all__ = ["server"]  # the loopback calendar server fixture


async def test_calendars_refresh_on_the_clock_and_keep_the_last_good_one(
    server: tuple[RunningServer, Calendar],
) -> None:
    running, calendar = server
    url = f"{running.url}/team.ics"
    clock = Clock()
    schedules = {"secondary": Schedule("secondary", BERLIN, source=url)}
    async with aiohttp.ClientSession() as session:
        calendars = Calendars(
            schedules,
            {"secondary": timedelta(minutes=10)},
            people=dict.fromkeys(PEOPLE),
            session=session,
            clock=clock,
        )
        live = calendars.live
        assert on_call(live["secondary"], AT) is None  # nothing until fetched
        await calendars.tick()
        assert on_call(live["secondary"], AT).person == "carol"  # type: ignore[union-attr]
        calendar.body = calendar.body.replace(b"SUMMARY:carol", b"SUMMARY:bob")
        clock.advance(timedelta(minutes=9))
        await calendars.tick()
        assert calendar.hits == 1  # refresh not due yet
        clock.advance(timedelta(minutes=1))
        await calendars.tick()
        assert calendar.hits == 2
        assert on_call(live["secondary"], AT).person == "bob"  # type: ignore[union-attr]
        calendar.status = 500
        clock.advance(timedelta(minutes=10))
        await calendars.tick()
        assert calendar.hits == 3
        assert on_call(live["secondary"], AT).person == "bob"  # type: ignore[union-attr]
