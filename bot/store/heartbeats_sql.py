"""The heartbeat table's operations, written once for both stores over ``PagesSql``'s hooks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from bot.store.heartbeats_base import HeartbeatRecord, HeartbeatState
from bot.store.timers_sql import TimersSql

_TRIES = 5  # pings racing each other: each try is one compare-and-set


class HeartbeatsSql(TimersSql):
    def _heartbeat(self, row: Mapping[str, Any]) -> HeartbeatRecord:
        return HeartbeatRecord(
            name=row["name"],
            state=cast(HeartbeatState, row["state"]),
            last_ping_at=self._opt_dt(row["last_ping_at"]),
            due_at=self._dt(row["due_at"]),
            missed_since=self._opt_dt(row["missed_since"]),
            page_id=row["page_id"],
            version=int(row["version"]),
        )

    async def watch_heartbeat(self, name: str, due_at: datetime) -> None:
        await self._page_exec(
            "INSERT INTO heartbeats (name, due_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (name, self._ts(due_at)),
        )

    async def heartbeat(self, name: str) -> HeartbeatRecord | None:
        rows = await self._page_fetch("SELECT * FROM heartbeats WHERE name = ?", (name,))
        return self._heartbeat(rows[0]) if rows else None

    async def ping_heartbeat(
        self, name: str, at: datetime, due_at: datetime
    ) -> HeartbeatRecord | None:
        for _ in range(_TRIES):
            before = await self.heartbeat(name)
            if before is None:
                if await self._page_exec(
                    "INSERT INTO heartbeats (name, last_ping_at, due_at) VALUES (?, ?, ?)"
                    " ON CONFLICT DO NOTHING",
                    (name, self._ts(at), self._ts(due_at)),
                ):
                    return None
                continue
            if await self._page_exec(
                "UPDATE heartbeats SET state = 'ok', last_ping_at = ?, due_at = ?,"
                " missed_since = NULL, page_id = NULL, version = version + 1"
                " WHERE name = ? AND version = ?",
                (self._ts(at), self._ts(due_at), name, before.version),
            ):
                return before
        raise RuntimeError("a heartbeat kept changing while its ping was recorded; try again")

    async def due_heartbeats(self, now: datetime) -> list[HeartbeatRecord]:
        rows = await self._page_fetch(
            "SELECT * FROM heartbeats WHERE state = 'ok' AND due_at <= ? ORDER BY due_at",
            (self._ts(now),),
        )
        return [self._heartbeat(r) for r in rows]

    async def miss_heartbeat(self, name: str, version: int, page_id: str, since: datetime) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE heartbeats SET state = 'missed', page_id = ?, missed_since = ?,"
                " version = version + 1 WHERE name = ? AND version = ? AND state = 'ok'",
                (page_id, self._ts(since), name, version),
            )
        )
