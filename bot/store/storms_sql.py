"""Alert storms on the page tables, written once for both stores: an alert page started only
while its integration's storm limit allows, and the one open storm page per integration.

Why the count and the insert are one statement, serialized with every capped page start (the
same lock as the page caps): two replicas starting the last page the window allows cannot both
see the place free, and two replicas opening a storm page cannot open two. The window slides:
a page counts while it started less than ``per`` ago, so once the storm passes new groups page
one by one again. Nothing is kept but the pages themselves: the count survives restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.store.alerts_base import AlertGroup, PageGroups
from bot.store.pages_base import NewPage, PageRecord
from bot.store.silences_sql import SilencesSql

_INSERT = (
    "INSERT INTO pages (page_id, escalation, text, sender, slack_channel, next_at,"
    " created_at, idempotency_key, escalation_steps) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?"
)
STORM_KEY = "storm:"  # a storm page's idempotency key: storm:<integration>:<page id>
# A storm page takes new groups while active, or for one window after it was acknowledged (the
# person who acknowledged it is not paged again for the same storm).
_OPEN_STORM = (
    "idempotency_key LIKE ? ESCAPE '\\' AND (state = 'active'"
    " OR (state = 'acknowledged' AND acknowledged_at > ?))"
)


def _values(page: NewPage, ts: object) -> tuple[object, ...]:
    return (
        page.page_id,
        page.escalation,
        page.text,
        page.sender,
        page.slack_channel,
        ts,
        ts,
        page.idempotency_key,
        page.escalation_steps,
    )


def _storm_prefix(integration: str) -> str:
    like = integration.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{STORM_KEY}{like}:%"


class StormsSql(SilencesSql):
    def _alert_group(self, row: Mapping[str, Any]) -> AlertGroup:
        raise NotImplementedError  # ``AlertsSql`` reads the row

    async def start_alert_page(
        self, page: NewPage, integration: str, max_pages: int | None, per: timedelta
    ) -> PageRecord | None:
        ts = self._ts(page.created_at)
        if max_pages is None:
            await self._page_exec(
                f"{_INSERT} ON CONFLICT (idempotency_key) DO NOTHING", _values(page, ts)
            )
        else:
            await self._page_exec_serialized(
                f"{_INSERT} WHERE (SELECT COUNT(*) FROM pages p JOIN alert_groups g"
                " ON g.group_id = substr(p.idempotency_key, 7)"
                " WHERE p.idempotency_key LIKE 'alert:%' AND p.created_at > ?"
                " AND g.integration = ?) < ?"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                (*_values(page, ts), self._ts(page.created_at - per), integration, max_pages),
            )
        rows = await self._page_fetch(
            "SELECT * FROM pages WHERE idempotency_key = ?", (page.idempotency_key,)
        )
        return self._page(rows[0]) if rows else None

    async def open_storm_page(
        self, page: NewPage, integration: str, ack_window: timedelta
    ) -> PageRecord:
        prefix = _storm_prefix(integration)
        since = self._ts(page.created_at - ack_window)
        await self._page_exec_serialized(
            f"{_INSERT} WHERE NOT EXISTS (SELECT 1 FROM pages WHERE {_OPEN_STORM})",
            (*_values(page, self._ts(page.created_at)), prefix, since),
        )
        rows = await self._page_fetch(
            f"SELECT * FROM pages WHERE {_OPEN_STORM} ORDER BY created_at DESC, page_id LIMIT 1",
            (prefix, since),
        )
        if not rows:  # ended between the insert and the look: the next notification opens one
            raise RuntimeError("the storm page ended while a group joined it; try again")
        return self._page(rows[0])

    async def alert_groups_of_page(self, page_id: str, limit: int) -> PageGroups:
        rows = await self._page_fetch(
            "SELECT * FROM alert_groups WHERE page_id = ?"
            " ORDER BY state, last_at DESC, group_id LIMIT ?",
            (page_id, limit),
        )
        counts = await self._page_fetch(
            "SELECT COUNT(*) AS total, SUM(CASE WHEN state = 'firing' THEN 1 ELSE 0 END)"
            " AS firing FROM alert_groups WHERE page_id = ?",
            (page_id,),
        )
        groups: list[AlertGroup] = [self._alert_group(r) for r in rows]
        total, firing = counts[0]["total"], counts[0]["firing"]
        return PageGroups(groups, int(total or 0), int(firing or 0))
