"""Migration v11 for both stores: ``alert_groups``, one row per alert group while it fires.

Why a partial unique index: one firing group per (integration, group key), so retries and two
replicas racing start one page; once resolved its key is free and the next firing is a new
group with a new page. ``page_id`` is not a foreign key: ended pages are purged by retention
(``keep_records``) on their own schedule, and a group only names its page for display.
"""

from __future__ import annotations

_TABLE = """
    CREATE TABLE alert_groups (
        group_id      TEXT PRIMARY KEY,
        integration   TEXT NOT NULL,
        group_hash    TEXT NOT NULL,
        group_key     TEXT NOT NULL,
        state         TEXT NOT NULL DEFAULT 'firing' CHECK (state IN ('firing', 'resolved')),
        escalation    TEXT,
        page_id       TEXT,
        title         TEXT NOT NULL,
        detail        TEXT NOT NULL,
        count         INTEGER NOT NULL DEFAULT 1,
        first_at      {ts} NOT NULL,
        last_at       {ts} NOT NULL,
        resolved_at   {ts},
        slack_channel TEXT NOT NULL,
        root_ts       TEXT
    )
"""
_INDEXES = (
    "CREATE UNIQUE INDEX alert_groups_firing ON alert_groups (integration, group_hash)"
    " WHERE state = 'firing'",
    "CREATE INDEX alert_groups_by_page ON alert_groups (page_id) WHERE page_id IS NOT NULL",
    # ``keep_records`` removes resolved groups by when they were resolved (a firing one stays).
    "CREATE INDEX alert_groups_resolved ON alert_groups (resolved_at) WHERE state = 'resolved'",
)
SQLITE_V11 = (_TABLE.format(ts="TEXT"), *_INDEXES)
POSTGRES_V11 = (_TABLE.format(ts="TIMESTAMPTZ"), *_INDEXES)
V11_DESCRIPTION = "alert_groups (alerts from monitoring: one page per firing group)"
