"""The https calendar schedules of a running bridge, kept fresh on the runtime's clock.

Why one mapping that the refresh writes into: the paging engine and ``/send oncall`` read
``settings.schedules``; the runtime gives them ``live`` (read-only view), and a good fetch
replaces that schedule in it, so every reader sees the latest good calendar and a failed
fetch changes nothing. Refreshes fall due on the injected clock, so tests move time instead
of sleeping through ``refresh``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType

import aiohttp

from bot.oncall.refresher import DEFAULT_REFRESH, CalendarRefresher
from bot.tasks import stop_task
from config import Settings, ical
from config.schedules import Schedule

log = logging.getLogger(__name__)


def https_calendars(settings: Settings) -> dict[str, timedelta]:
    """The schedules read from an https URL, with how often each is fetched."""
    found: dict[str, timedelta] = {}
    for name, schedule in settings.schedules.items():
        if schedule.source.startswith("https://"):
            cfg = settings.file.schedules.get(name)
            found[name] = (cfg.refresh if cfg is not None else None) or DEFAULT_REFRESH
    return found


class Calendars:
    """``live`` holds every schedule; ``tick`` fetches the https ones whose refresh is due."""

    def __init__(
        self,
        schedules: Mapping[str, Schedule],
        refresh: Mapping[str, timedelta],
        *,
        people: Mapping[str, object],
        session: aiohttp.ClientSession,
        clock: Callable[[], datetime],
        tick: float = 1.0,
    ) -> None:
        self._live = dict(schedules)
        self.live: Mapping[str, Schedule] = MappingProxyType(self._live)
        self.clock = clock
        self.tick_seconds = tick
        self.refreshers = {
            name: CalendarRefresher(
                schedules[name],
                schedules[name].source,
                session=session,
                people=list(people),
                refresh=every,
            )
            for name, every in refresh.items()
        }
        self._due: dict[str, datetime] = {}  # absent: fetch at the next tick
        self._loop: asyncio.Task[None] | None = None

    async def tick(self) -> None:
        """Fetch every calendar whose refresh is due; a failure keeps the previous one."""
        for name, refresher in self.refreshers.items():
            now = self.clock()
            if self._due.get(name, now) > now:
                continue
            self._due[name] = now + refresher.refresh
            try:
                self._live[name] = await refresher.fetch()
            except (ical.CalendarProblem, aiohttp.ClientError, TimeoutError) as exc:
                reason = str(exc) if isinstance(exc, ical.CalendarProblem) else type(exc).__name__
                log.warning(
                    "schedule %s: calendar not refreshed (%s); keeping the previous one",
                    name,
                    reason,
                )

    async def _run(self) -> None:
        while True:
            await self.tick()
            await asyncio.sleep(self.tick_seconds)

    def start(self) -> None:
        if self.refreshers and self._loop is None:
            self._loop = asyncio.create_task(self._run(), name="calendar-refresh")

    async def stop(self) -> None:
        loop, self._loop = self._loop, None
        await stop_task(loop)
