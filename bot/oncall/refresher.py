"""Fetches an https iCalendar schedule, then again every ``refresh``, keeping the last good one.

The runtime runs one per https schedule through ``bot.oncall.calendars`` (on its clock);
``run`` is for a refresher on its own. A failed fetch never empties a schedule: the previous
calendar stays in force and the failure is logged (without the URL's query, which may hold a
token). Every fetch has a deadline and a size cap; parsing runs off the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from urllib.parse import urlsplit

import aiohttp

from config import ical
from config.schedules import Schedule

log = logging.getLogger(__name__)
DEFAULT_REFRESH = timedelta(minutes=10)
FETCH_TIMEOUT = 10.0  # seconds, for the whole request
_CHUNK = 64 * 1024

Sleep = Callable[[float], Awaitable[None]]


class CalendarRefresher:
    """One https schedule's calendar: ``await fetch()`` once, or ``run()`` to keep it fresh."""

    def __init__(
        self,
        schedule: Schedule,
        url: str,
        *,
        session: aiohttp.ClientSession,
        people: Collection[str],
        refresh: timedelta | None = None,
        timeout: float = FETCH_TIMEOUT,
        max_bytes: int = ical.MAX_ICS_BYTES,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.current = schedule  # calendar None until the first good fetch
        self.url = url
        self.session = session
        self.people = frozenset(people)
        self.refresh = refresh or DEFAULT_REFRESH
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.max_bytes = max_bytes
        self.sleep = sleep
        parts = urlsplit(url)
        self.shown = f"{parts.scheme}://{parts.netloc}{parts.path}"  # no query: it may be a token

    async def _download(self) -> bytes:
        async with self.session.get(self.url, timeout=self.timeout) as response:
            if response.status != 200:
                raise ical.CalendarProblem(f"{self.shown} answered HTTP {response.status}")
            if (response.content_length or 0) > self.max_bytes:
                raise ical.CalendarProblem(f"{self.shown} is over {self.max_bytes} bytes")
            data = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > self.max_bytes:
                    raise ical.CalendarProblem(f"{self.shown} is over {self.max_bytes} bytes")
            return bytes(data)

    async def fetch(self) -> Schedule:
        """Fetch and parse once; on success ``current`` is the new schedule. Raises
        ``CalendarProblem`` (bad answer, too big, unknown people) or the network's error."""
        data = await self._download()
        calendar = await asyncio.to_thread(ical.parse, data, self.current.timezone)
        unknown = sorted(set(calendar.summaries) - self.people)
        if unknown:
            raise ical.CalendarProblem(
                f"{self.shown}: events name people not in the config: {', '.join(unknown)}"
            )
        self.current = dataclasses.replace(self.current, calendar=calendar)
        return self.current

    async def run(self) -> None:
        """Fetch now and every ``refresh`` until cancelled; failures keep the last calendar."""
        while True:
            try:
                await self.fetch()
            except (ical.CalendarProblem, aiohttp.ClientError, TimeoutError) as exc:
                reason = str(exc) if isinstance(exc, ical.CalendarProblem) else type(exc).__name__
                log.warning(
                    "schedule %s: calendar not refreshed (%s); keeping the previous one",
                    self.current.name,
                    reason,
                )
            await self.sleep(self.refresh.total_seconds())
