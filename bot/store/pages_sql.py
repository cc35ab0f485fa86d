"""The page tables' operations, written once for both stores.

Why once: the statements are the same on SQLite and PostgreSQL but for placeholders and the time
type: each store's mixin supplies how a statement runs (``_page_exec``, ``_page_fetch``), its
``Dialect`` the timestamps. Statements use ``?``; the PostgreSQL mixin numbers them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from bot.store.pages_base import (
    NewPage,
    PageCapReached,
    PageCaps,
    PageEvent,
    PageRecord,
    PageSend,
    PageState,
)
from bot.store.sql import Dialect

_ACTIVE = "state = 'active'"


class PagesSql:
    """``bot.store.pages_base.PageStore`` over four primitives a store provides."""

    async def _page_exec(self, sql: str, params: Sequence[object]) -> int:
        """Run one write statement in its own committed transaction; rows it changed."""
        raise NotImplementedError

    async def _page_fetch(self, sql: str, params: Sequence[object]) -> list[Mapping[str, Any]]:
        raise NotImplementedError

    _dialect: Dialect  # the store's: its timestamps

    def _ts(self, moment: datetime) -> object:
        return self._dialect.ts(moment)

    def _dt(self, value: Any) -> datetime:
        return self._dialect.dt(value)

    def _opt_dt(self, value: Any) -> datetime | None:
        return None if value is None else self._dt(value)

    def _page(self, row: Mapping[str, Any]) -> PageRecord:
        return PageRecord(
            page_id=row["page_id"],
            escalation=row["escalation"],
            text=row["text"],
            sender=row["sender"],
            slack_channel=row["slack_channel"],
            root_ts=row["root_ts"],
            state=cast(PageState, row["state"]),
            round=int(row["round"]),
            step=int(row["step"]),
            next_at=self._opt_dt(row["next_at"]),
            version=int(row["version"]),
            created_at=self._dt(row["created_at"]),
            acknowledged_by=row["acknowledged_by"],
            acknowledged_at=self._opt_dt(row["acknowledged_at"]),
            ended_at=self._opt_dt(row["ended_at"]),
            idempotency_key=row["idempotency_key"],
            root_claimed_until=self._opt_dt(row["root_claimed_until"]),
            escalation_steps=row["escalation_steps"],
        )

    async def _page_exec_serialized(self, sql: str, params: Sequence[object]) -> int:
        """``_page_exec``, serialized with every other such statement (on PostgreSQL, across
        replicas): what it reads cannot change between its read and its write."""
        raise NotImplementedError

    async def create_page(self, page: NewPage, caps: PageCaps | None = None) -> PageRecord:
        created = self._ts(page.created_at)
        values = (
            page.page_id,
            page.escalation,
            page.text,
            page.sender,
            page.slack_channel,
            created,
            created,
            page.idempotency_key,
            page.escalation_steps,
        )
        insert = (
            "INSERT INTO pages (page_id, escalation, text, sender, slack_channel, next_at,"
            " created_at, idempotency_key, escalation_steps)"
        )
        # Only a repeated key is "already started"; a page id collision still fails loudly.
        if caps is None:
            inserted = await self._page_exec(
                f"{insert} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                values,
            )
        else:
            # The counts and the insert are one statement, serialized with every other capped
            # start: two starts racing for the last place cannot both see it free.
            inserted = await self._page_exec_serialized(
                f"{insert} SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?"
                f" WHERE (SELECT COUNT(*) FROM pages WHERE {_ACTIVE} AND sender = ?) < ?"
                f" AND (SELECT COUNT(*) FROM pages WHERE {_ACTIVE} AND escalation = ?) < ?"
                " ON CONFLICT (idempotency_key) DO NOTHING",
                (*values, page.sender, caps.per_sender, page.escalation, caps.per_escalation),
            )
        if inserted:
            found = await self.get_page(page.page_id)
        else:
            rows = await self._page_fetch(
                "SELECT * FROM pages WHERE idempotency_key = ?", (page.idempotency_key,)
            )
            found = self._page(rows[0]) if rows else None
            if found is None and caps is not None:
                raise await self._cap_reached(page, caps)
        assert found is not None
        return found

    async def _cap_reached(self, page: NewPage, caps: PageCaps) -> PageCapReached:
        """Which cap refused ``page``, for the refusal (read after the fact: only words)."""
        for which, column, value, limit in (
            ("sender", "sender", page.sender, caps.per_sender),
            ("escalation", "escalation", page.escalation, caps.per_escalation),
        ):
            rows = await self._page_fetch(
                f"SELECT page_id FROM pages WHERE {_ACTIVE} AND {column} = ?"
                " ORDER BY created_at, page_id",
                (value,),
            )
            if len(rows) >= limit:
                return PageCapReached(which, len(rows), limit, [r["page_id"] for r in rows[:5]])
        # Freed meanwhile (acknowledged between the insert and this look): say the tighter one.
        return PageCapReached("sender", caps.per_sender, caps.per_sender, [])

    async def get_page(self, page_id: str) -> PageRecord | None:
        rows = await self._page_fetch("SELECT * FROM pages WHERE page_id = ?", (page_id,))
        return self._page(rows[0]) if rows else None

    async def due_pages(self, now: datetime, limit: int = 100) -> list[PageRecord]:
        rows = await self._page_fetch(
            f"SELECT * FROM pages WHERE {_ACTIVE} AND next_at <= ? ORDER BY next_at LIMIT ?",
            (self._ts(now), limit),
        )
        return [self._page(r) for r in rows]

    async def active_pages(self) -> list[PageRecord]:
        rows = await self._page_fetch(f"SELECT * FROM pages WHERE {_ACTIVE}", ())
        return [self._page(r) for r in rows]

    async def claim_page(
        self, page_id: str, version: int, now: datetime, lease_until: datetime
    ) -> PageRecord | None:
        changed = await self._page_exec(
            "UPDATE pages SET next_at = ?, version = version + 1"
            f" WHERE page_id = ? AND version = ? AND {_ACTIVE} AND next_at <= ?",
            (self._ts(lease_until), page_id, version, self._ts(now)),
        )
        return await self.get_page(page_id) if changed else None

    async def renew_page_claim(self, page_id: str, version: int, until: datetime) -> bool:
        return bool(
            await self._page_exec(
                f"UPDATE pages SET next_at = ? WHERE page_id = ? AND version = ? AND {_ACTIVE}",
                (self._ts(until), page_id, version),
            )
        )

    async def advance_page(
        self, page_id: str, version: int, round_: int, step: int, next_at: datetime
    ) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE pages SET round = ?, step = ?, next_at = ?, version = version + 1"
                f" WHERE page_id = ? AND version = ? AND {_ACTIVE}",
                (round_, step, self._ts(next_at), page_id, version),
            )
        )

    async def end_page(self, page_id: str, version: int, at: datetime) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE pages SET state = 'ended', ended_at = ?, next_at = NULL,"
                f" version = version + 1 WHERE page_id = ? AND version = ? AND {_ACTIVE}",
                (self._ts(at), page_id, version),
            )
        )

    async def acknowledge_page(self, page_id: str, by: str, at: datetime) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE pages SET state = 'acknowledged', acknowledged_by = ?,"
                " acknowledged_at = ?, next_at = NULL, version = version + 1"
                f" WHERE page_id = ? AND {_ACTIVE}",
                (by, self._ts(at), page_id),
            )
        )

    async def claim_page_root(
        self, page_id: str, now: datetime, until: datetime, held: datetime | None = None
    ) -> bool:
        if held is None:
            claim, args = "(root_claimed_until IS NULL OR root_claimed_until <= ?)", self._ts(now)
        else:
            claim, args = "root_claimed_until = ?", self._ts(held)
        return bool(
            await self._page_exec(
                "UPDATE pages SET root_claimed_until = ? WHERE page_id = ?"
                f" AND slack_channel IS NOT NULL AND root_ts IS NULL AND {claim}",
                (self._ts(until), page_id, args),
            )
        )

    async def set_page_root(self, page_id: str, channel: str, ts: str) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE pages SET slack_channel = ?, root_ts = ?"
                " WHERE page_id = ? AND root_ts IS NULL",
                (channel, ts, page_id),
            )
        )

    async def add_page_send(self, send: PageSend) -> bool:
        return bool(
            await self._page_exec(
                "INSERT INTO page_sends (page_id, round, step, person, via_idx, channel,"
                " request_id, ref, sent_at, fell_back) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)"
                " ON CONFLICT DO NOTHING",
                (
                    send.page_id,
                    send.round,
                    send.step,
                    send.person,
                    send.via_idx,
                    send.channel,
                    send.request_id,
                    send.ref,
                    self._ts(send.sent_at),
                ),
            )
        )

    async def page_sends(self, page_id: str) -> list[PageSend]:
        rows = await self._page_fetch(
            "SELECT * FROM page_sends WHERE page_id = ? ORDER BY round, step, sent_at, via_idx",
            (page_id,),
        )
        return [
            PageSend(
                page_id=r["page_id"],
                round=int(r["round"]),
                step=int(r["step"]),
                person=r["person"],
                via_idx=int(r["via_idx"]),
                channel=r["channel"],
                request_id=r["request_id"],
                ref=r["ref"],
                sent_at=self._dt(r["sent_at"]),
                fell_back=bool(r["fell_back"]),
            )
            for r in rows
        ]

    async def mark_fell_back(
        self, page_id: str, round_: int, step: int, person: str, via_idx: int
    ) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE page_sends SET fell_back = 1 WHERE page_id = ? AND round = ?"
                " AND step = ? AND person = ? AND via_idx = ? AND fell_back = 0",
                (page_id, round_, step, person, via_idx),
            )
        )

    async def pages_for_requests(self, request_ids: Sequence[str]) -> list[str]:
        found: dict[str, None] = {}
        for request_id in request_ids:
            rows = await self._page_fetch(
                "SELECT DISTINCT page_id FROM page_sends WHERE request_id = ?", (request_id,)
            )
            found.update(dict.fromkeys(r["page_id"] for r in rows))
        return list(found)

    async def add_page_event(self, page_id: str, event_key: str, at: datetime, text: str) -> bool:
        return bool(
            await self._page_exec(
                "INSERT INTO page_events (page_id, event_key, at, text) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (page_id, event_key, self._ts(at), text),
            )
        )

    async def page_events(self, page_id: str) -> list[PageEvent]:
        rows = await self._page_fetch(
            "SELECT * FROM page_events WHERE page_id = ? ORDER BY seq", (page_id,)
        )
        return [
            PageEvent(r["page_id"], r["event_key"], self._dt(r["at"]), r["text"], bool(r["posted"]))
            for r in rows
        ]

    async def mark_event_posted(self, page_id: str, event_key: str) -> bool:
        return bool(
            await self._page_exec(
                "UPDATE page_events SET posted = 1 WHERE page_id = ? AND event_key = ?"
                " AND posted = 0",
                (page_id, event_key),
            )
        )
