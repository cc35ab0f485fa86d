"""The alert group table's operations, written once for both stores over ``PagesSql``'s
dialect hooks (``_page_exec``, ``_page_fetch``, ``_ts``, ``_dt``)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from bot.store import alerts_batch_sql
from bot.store.alerts_base import (
    AlertGroup,
    AlertNote,
    AlertState,
    FiringGroup,
    Recorded,
)
from bot.store.sql import Sql
from bot.store.storms_sql import StormsSql

T = TypeVar("T")

_FIRING = "integration = ? AND group_hash = ? AND state = 'firing'"


class AlertsSql(StormsSql):
    """``bot.store.alerts_base.AlertStore`` on the page tables' primitives."""

    def _alert_group(self, row: Mapping[str, Any]) -> AlertGroup:
        return AlertGroup(
            group_id=row["group_id"],
            integration=row["integration"],
            group_hash=row["group_hash"],
            group_key=row["group_key"],
            state=cast(AlertState, row["state"]),
            escalation=row["escalation"],
            page_id=row["page_id"],
            title=row["title"],
            detail=row["detail"],
            count=int(row["count"]),
            first_at=self._dt(row["first_at"]),
            last_at=self._dt(row["last_at"]),
            resolved_at=self._opt_dt(row["resolved_at"]),
            slack_channel=row["slack_channel"],
            root_ts=row["root_ts"],
            silence_id=row["silence_id"],
        )

    async def _tx(self, body: Callable[[Sql], Coroutine[Any, Any, T]]) -> T:
        """Run ``body`` in a committed transaction (each store's own; see ``SqlStore._tx``)."""
        raise NotImplementedError

    async def _urgent_tx(self, body: Callable[[Sql], Coroutine[Any, Any, T]]) -> T:
        """``_tx`` for a write a client's answer waits on, not queued behind background work
        (PostgreSQL: on a connection of its own; SQLite: ahead of the jobs queued on its
        thread)."""
        return await self._tx(body)

    async def record_alert_notes(self, notes: Sequence[AlertNote]) -> list[Recorded]:
        if not notes:
            return []

        async def body(sql: Sql) -> list[Recorded]:
            return await alerts_batch_sql.record(sql, notes, self._alert_group, self._silence)

        return await self._urgent_tx(body)

    async def _one_group(self, where: str, params: tuple[object, ...]) -> AlertGroup | None:
        rows = await self._page_fetch(
            f"SELECT * FROM alert_groups WHERE {where} ORDER BY first_at DESC LIMIT 1", params
        )
        return self._alert_group(rows[0]) if rows else None

    async def firing_alert_group(self, integration: str, group_hash: str) -> AlertGroup | None:
        return await self._one_group(_FIRING, (integration, group_hash))

    async def alert_group(self, group_id: str) -> AlertGroup | None:
        return await self._one_group("group_id = ?", (group_id,))

    async def firing_alert_groups(self, limit: int) -> tuple[list[FiringGroup], int]:
        rows = await self._page_fetch(
            "SELECT g.*, p.state AS page_state FROM alert_groups g"
            " LEFT JOIN pages p ON p.page_id = g.page_id WHERE g.state = 'firing'"
            " ORDER BY g.last_at DESC, g.group_id LIMIT ?",
            (limit,),
        )
        total = await self._page_fetch(
            "SELECT COUNT(*) AS n FROM alert_groups WHERE state = 'firing'", ()
        )
        found = [FiringGroup(self._alert_group(r), r["page_state"]) for r in rows]
        return found, int(total[0]["n"])

    async def alert_group_of_page(self, page_id: str) -> AlertGroup | None:
        return await self._one_group("page_id = ?", (page_id,))

    async def set_alert_group_silence(self, group_id: str, silence_id: str) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE alert_groups SET silence_id = ? WHERE group_id = ?"
                " AND state = 'firing' AND page_id IS NULL",
                (silence_id, group_id),
            )
        )

    async def unsilenced_groups(self, since: datetime | None, now: datetime) -> list[AlertGroup]:
        # From the silences (a handful, typed by people) to their groups.
        ended = "COALESCE(s.ended_at, s.ends_at)"
        where, params = f"{ended} <= ?", [self._ts(now)]
        if since is not None:
            where += f" AND {ended} > ?"
            params.append(self._ts(since))
        rows = await self._page_fetch(
            "SELECT g.* FROM alert_silences s JOIN alert_groups g ON g.silence_id = s.silence_id"
            f" WHERE {where} AND g.state = 'firing' AND g.page_id IS NULL"
            " ORDER BY g.first_at, g.group_id",
            params,
        )
        return [self._alert_group(row) for row in rows]

    async def set_alert_group_page(self, group_id: str, page_id: str) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE alert_groups SET page_id = ? WHERE group_id = ? AND page_id IS NULL",
                (page_id, group_id),
            )
        )

    async def set_alert_group_root(self, group_id: str, channel: str, ts: str) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE alert_groups SET slack_channel = ?, root_ts = ?"
                " WHERE group_id = ? AND root_ts IS NULL",
                (channel, ts, group_id),
            )
        )

    async def end_page_at_source(self, page_id: str, by: str, at: datetime) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE pages SET state = 'ended', ended_at = ?, acknowledged_by = ?,"
                " next_at = NULL, version = version + 1 WHERE page_id = ? AND state = 'active'",
                (self._ts(at), by, page_id),
            )
        )
