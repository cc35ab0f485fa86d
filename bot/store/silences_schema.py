"""Migration v13 for both stores: ``alert_silences``, the silence a group was born under, and
``heartbeats`` (one row per heartbeat: when it is next late, and the page of its miss).

Why a group names its silence: the decision to page nobody is taken once, when the group is
inserted (one statement, whatever replica wins), and Slack shows who silenced it until when.
"""

from __future__ import annotations

_TABLE = """
    CREATE TABLE alert_silences (
        silence_id  TEXT PRIMARY KEY,
        integration TEXT NOT NULL,
        matchers    TEXT NOT NULL,
        reason      TEXT NOT NULL,
        created_by  TEXT NOT NULL,
        starts_at   {ts} NOT NULL,
        ends_at     {ts} NOT NULL,
        ended_at    {ts},
        ended_by    TEXT
    )
"""
_HEARTBEATS = """
    CREATE TABLE heartbeats (
        name         TEXT PRIMARY KEY,
        state        TEXT NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'missed')),
        last_ping_at {ts},
        due_at       {ts} NOT NULL,
        missed_since {ts},
        page_id      TEXT,
        version      INTEGER NOT NULL DEFAULT 0
    )
"""
_REST = (
    "CREATE INDEX alert_silences_open ON alert_silences (integration, ends_at)"
    " WHERE ended_at IS NULL",
    "ALTER TABLE alert_groups ADD COLUMN silence_id TEXT",
    "CREATE INDEX heartbeats_due ON heartbeats (due_at) WHERE state = 'ok'",
    # The storm count reads the alert pages started within the window (``storms_sql``).
    "CREATE INDEX pages_alert_starts ON pages (created_at) WHERE idempotency_key LIKE 'alert:%'",
)
SQLITE_V13 = (_TABLE.format(ts="TEXT"), _HEARTBEATS.format(ts="TEXT"), *_REST)
POSTGRES_V13 = (_TABLE.format(ts="TIMESTAMPTZ"), _HEARTBEATS.format(ts="TIMESTAMPTZ"), *_REST)
V13_DESCRIPTION = "alert_silences (silenced alert groups page nobody); heartbeats"
