"""Heartbeats: a dead man's switch. ``POST /heartbeat/<name>`` resets one; no ping for
``every`` + ``grace`` starts a page ("heartbeat <name> missed since …") through its escalation;
the next ping ends that page ("heartbeat back").

Why the page is started before the miss is recorded: its key is ``heartbeat:<name>:<version>``
(one per miss), so replicas racing start one page; then the miss is a compare-and-set, and a
scheduler that dies between the two leaves a page that is already due (any replica's scheduler
runs it). A ping that lands between the two wins: the page just started is ended at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from bot.alerts.text import fitted, minute
from bot.paging import snapshot, watch
from bot.paging.service import PagingService, new_page_id
from bot.store.base import Store
from bot.store.heartbeats_base import HeartbeatRecord
from bot.store.pages_base import NewPage, PageRecord
from config import Settings
from config.settings import Heartbeat

log = logging.getLogger(__name__)


class HeartbeatService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        paging: PagingService,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.store = store
        self.paging = paging
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    async def watch_all(self) -> None:
        """Watch every configured heartbeat: one that never pings is late too."""
        now = self.clock()
        for beat in self.settings.heartbeats.values():
            await self.store.watch_heartbeat(beat.name, now + beat.every + beat.grace)

    async def ping(self, beat: Heartbeat) -> None:
        """Record the ping (what the answer promises); end the page of a miss, if any."""
        now = self.clock()
        before = await self.store.ping_heartbeat(beat.name, now, now + beat.every + beat.grace)
        if before is not None and before.state == "missed" and before.page_id is not None:
            log.info("heartbeat %s is back: ending page %s", beat.name, before.page_id)
            await self._end(beat, before.page_id, f"heartbeat {beat.name} back at {minute(now)}")

    async def check_due(self) -> int:
        """Start a page for each heartbeat that fell due (the scheduler's tick); how many."""
        started = 0
        for record in await self.store.due_heartbeats(self.clock()):
            beat = self.settings.heartbeats.get(record.name)
            if beat is not None and await self._missed(beat, record):
                started += 1
        return started

    async def _missed(self, beat: Heartbeat, record: HeartbeatRecord) -> bool:
        policy = self.settings.escalations.get(beat.escalation)
        if policy is None:
            return False
        since = record.due_at - beat.grace  # when the ping was expected
        text = f"heartbeat {beat.name} missed since {minute(since)}"
        text = fitted(self.settings, policy, text, self.paging.command, self.paging.links)
        new = NewPage(
            new_page_id(),
            policy.name,
            text,
            None,
            beat.announce_in,
            self.clock(),
            f"heartbeat:{beat.name}:{record.version}",
            snapshot.to_json(policy),
        )
        page = await self.store.create_page(new)  # no caps: a missed heartbeat always pages
        won = await self.store.miss_heartbeat(beat.name, record.version, page.page_id, since)
        now = await self.store.heartbeat(beat.name)
        if not won and (now is None or now.page_id != page.page_id):
            # A ping came first: this miss is over before it paged anyone.
            await self._end(beat, page.page_id, f"heartbeat {beat.name} pinged in time")
            return False
        if page.page_id != new.page_id:
            return False  # another replica started it, and runs it
        log.info("heartbeat %s missed since %s: page %s", beat.name, minute(since), page.page_id)
        watch.started(self.settings, page)
        task = asyncio.create_task(self._run_page(page), name=f"heartbeat-{page.page_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _run_page(self, page: PageRecord) -> None:
        try:
            await self.paging.begin(page)
        except Exception:
            log.exception("a heartbeat page's first step failed; the paging scheduler retries")

    async def _end(self, beat: Heartbeat, page_id: str, words: str) -> None:
        await self.paging.end_at_source(page_id, "heartbeat:" + beat.name, words)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.wait(list(self._tasks))
