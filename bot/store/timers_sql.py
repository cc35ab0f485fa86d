"""The page timers' operations and table (migration 14), written once for both stores over
``PagesSql``'s hooks (``_page_exec``, ``_page_fetch``, ``_ts``, ``_dt``).

Why a claim is a lease on ``claimed_until`` and ``done`` a separate flag: a replica that dies
between claiming a timer and recording its send leaves the claim to lapse; the next claimer
sends again with the same idempotency key, so the send already recorded comes back instead of
going twice. ``done`` is set only once the send is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.store.pages_sql import PagesSql
from bot.store.timers_base import PageTimer

V14_DESCRIPTION = "page_timers (each person's contact rules and quiet-hours holds, durable)"
_TABLE = """
    CREATE TABLE page_timers (
        page_id       TEXT NOT NULL REFERENCES pages (page_id),
        round         INTEGER NOT NULL,
        step          INTEGER NOT NULL,
        person        TEXT NOT NULL,
        rule          INTEGER NOT NULL,
        channel       TEXT NOT NULL,
        due_at        {ts} NOT NULL,
        claimed_until {ts},
        done          INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (page_id, round, step, person, rule)
    )
"""
_INDEX = "CREATE INDEX page_timers_due ON page_timers (due_at) WHERE done = 0"
SQLITE_V14 = (_TABLE.format(ts="TEXT"), _INDEX)
POSTGRES_V14 = (_TABLE.format(ts="TIMESTAMPTZ"), _INDEX)

_KEY = "page_id = ? AND round = ? AND step = ? AND person = ? AND rule = ?"
_FREE = "done = 0 AND due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
_COLUMNS = "page_id, round, step, person, rule, channel, due_at"


class TimersSql(PagesSql):
    """``bot.store.timers_base.TimerStore`` on the page tables' primitives."""

    def _timer(self, row: Mapping[str, Any]) -> PageTimer:
        return PageTimer(
            page_id=row["page_id"],
            round=int(row["round"]),
            step=int(row["step"]),
            person=row["person"],
            rule=int(row["rule"]),
            channel=row["channel"],
            due_at=self._dt(row["due_at"]),
            claimed_until=self._opt_dt(row["claimed_until"]),
            done=bool(row["done"]),
        )

    async def add_page_timers(self, timers: list[PageTimer]) -> int:
        if not timers:
            return 0
        rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(timers))
        params: list[object] = []
        for t in timers:
            params += [t.page_id, t.round, t.step, t.person, t.rule, t.channel, self._ts(t.due_at)]
        return await self._page_exec(
            f"INSERT INTO page_timers ({_COLUMNS}) VALUES {rows} ON CONFLICT DO NOTHING", params
        )

    async def page_timers(self, page_id: str) -> list[PageTimer]:
        rows = await self._page_fetch(
            "SELECT * FROM page_timers WHERE page_id = ? ORDER BY round, step, person, rule",
            (page_id,),
        )
        return [self._timer(r) for r in rows]

    async def due_page_timers(self, now: datetime, limit: int = 100) -> list[PageTimer]:
        at = self._ts(now)
        rows = await self._page_fetch(
            "SELECT t.* FROM page_timers AS t JOIN pages AS p ON p.page_id = t.page_id"
            " WHERE t.done = 0 AND t.due_at <= ?"
            " AND (t.claimed_until IS NULL OR t.claimed_until <= ?)"
            " AND p.state = 'active' ORDER BY t.due_at LIMIT ?",
            (at, at, limit),
        )
        return [self._timer(r) for r in rows]

    async def next_paging_due(self, now: datetime) -> datetime | None:
        # One round trip: the scheduler asks this before every pause.
        rows = await self._page_fetch(
            "SELECT (SELECT MIN(t.due_at) FROM page_timers AS t JOIN pages AS p"
            " ON p.page_id = t.page_id WHERE t.done = 0"
            " AND (t.claimed_until IS NULL OR t.claimed_until <= ?) AND p.state = 'active')"
            " AS timer_at, (SELECT MIN(next_at) FROM pages WHERE state = 'active') AS page_at",
            (self._ts(now),),
        )
        found = [self._opt_dt(rows[0][column]) for column in ("timer_at", "page_at")]
        return min((when for when in found if when is not None), default=None)

    async def claim_page_timer(self, timer: PageTimer, now: datetime, until: datetime) -> bool:
        at = self._ts(now)
        return bool(
            await self._page_exec(
                f"UPDATE page_timers SET claimed_until = ? WHERE {_KEY} AND {_FREE}"
                " AND EXISTS (SELECT 1 FROM pages AS p WHERE p.page_id = page_timers.page_id"
                " AND p.state = 'active')",
                (self._ts(until), *timer.key, at, at),
            )
        )

    async def finish_page_timer(self, timer: PageTimer) -> bool:
        return bool(
            await self._page_exec(
                f"UPDATE page_timers SET done = 1 WHERE {_KEY} AND done = 0", timer.key
            )
        )

    async def hasten_page_timer(
        self, page_id: str, round_: int, step: int, person: str, rule: int, at: datetime
    ) -> bool:
        moment = self._ts(at)
        return bool(
            await self._page_exec(
                f"UPDATE page_timers SET due_at = ? WHERE {_KEY} AND done = 0 AND due_at > ?",
                (moment, page_id, round_, step, person, rule, moment),
            )
        )
