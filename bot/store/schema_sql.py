"""The send record's tables (migrations 1 to 4 and 6), written once for both stores.

Why once: a table defined twice drifts. Each statement names the few words that differ between
the databases in braces, and ``render`` fills them from the dialect's ``ddl``: the time type,
PostgreSQL's ``seq`` column (SQLite's ``rowid`` keeps insertion order for free), an
auto-numbered id, a flag column, and the "still parked" condition of the receipts' partial
indexes. A table only replicas need (pacing, leases) is defined here too, and given to SQLite
as an empty migration, so both schemas keep one version number per change.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.sql import Dialect

SURFACES_V1 = "('slash', 'modal', 'broadcast', 'shortcut', 'cli', 'retry')"
_STATUS = "('pending', 'in_flight', 'sent', 'failed', 'unknown', 'delivered', 'read')"


def render(statements: Sequence[str], dialect: Dialect) -> tuple[str, ...]:
    """The statements in one dialect's words (``Dialect.ddl``, and its ``unmatched``)."""
    words = {**dialect.ddl, "unmatched": dialect.unmatched}
    return tuple(statement.format_map(words) for statement in statements)


def requests_table(name: str, surfaces: str, later_columns: str = "") -> str:
    """``CREATE TABLE`` of requests (as v1 made it, plus ``later_columns``): SQLite rebuilds
    it under another name to change a CHECK (migration 5)."""
    return f"""
    CREATE TABLE {name} (
        request_id        TEXT PRIMARY KEY,{{seq}}
        created_at        {{ts}} NOT NULL,
        updated_at        {{ts}} NOT NULL,
        finished_at       {{ts}},
        surface           TEXT NOT NULL CHECK (surface IN {surfaces}),
        user_id           TEXT,
        slack_channel     TEXT,
        thread_ts         TEXT,
        channel           TEXT NOT NULL,
        account           TEXT NOT NULL,
        route             TEXT NOT NULL,  -- JSON text (jsonb would refuse some text)
        message           TEXT NOT NULL,
        state             TEXT NOT NULL DEFAULT 'accepted'
            CHECK (state IN ('held', 'accepted', 'sending', 'done', 'cancelled')),
        idempotency_key   TEXT UNIQUE,
        parent_request_id TEXT REFERENCES requests (request_id),
        broadcast_id      TEXT,
        report_channel    TEXT,
        report_ts         TEXT,
        title             TEXT,
        response_url      TEXT,
        total             INTEGER NOT NULL{later_columns}
    )
    """


# The requests table's indexes (v1, and again after SQLite's rebuild of it).
REQUEST_INDEXES = (
    "CREATE INDEX requests_by_created ON requests (created_at{seq_key})",
    "CREATE INDEX requests_by_user ON requests (user_id, created_at)",
    "CREATE INDEX requests_unfinished ON requests (state)"
    " WHERE state IN ('held', 'accepted', 'sending')",
    "CREATE INDEX requests_by_broadcast ON requests (broadcast_id) WHERE broadcast_id IS NOT NULL",
    "CREATE INDEX requests_by_parent ON requests (parent_request_id)"
    " WHERE parent_request_id IS NOT NULL",
)

V1 = (
    requests_table("requests", SURFACES_V1),
    *REQUEST_INDEXES,
    f"""
    CREATE TABLE recipients (
        request_id          TEXT NOT NULL REFERENCES requests (request_id),
        idx                 INTEGER NOT NULL,
        address             TEXT NOT NULL,
        ref                 TEXT NOT NULL UNIQUE,
        status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN {_STATUS}),
        provider_message_id TEXT,
        reason              TEXT,
        code                TEXT,
        http_status         INTEGER,
        attempts            INTEGER NOT NULL DEFAULT 0,
        updated_at          {{ts}} NOT NULL,
        PRIMARY KEY (request_id, idx)
    )
    """,
    "CREATE INDEX recipients_by_message_id ON recipients (provider_message_id)"
    " WHERE provider_message_id IS NOT NULL",
    "CREATE INDEX recipients_by_address ON recipients (request_id, address)",
    """
    CREATE TABLE attempts (
        request_id TEXT NOT NULL,
        idx        INTEGER NOT NULL,
        attempt    INTEGER NOT NULL,
        started_at {ts} NOT NULL,
        PRIMARY KEY (request_id, idx, attempt),
        FOREIGN KEY (request_id, idx) REFERENCES recipients (request_id, idx)
    )
    """,
    """
    CREATE TABLE receipts (
        id                  {id},
        account             TEXT NOT NULL,
        provider_message_id TEXT,
        ref                 TEXT,
        status              TEXT NOT NULL,
        reason              TEXT,
        code                TEXT,
        event_key           TEXT NOT NULL,
        event_at            {ts},
        received_at         {ts} NOT NULL,
        matched             {matched},
        request_id          TEXT,
        idx                 INTEGER,
        UNIQUE (account, event_key),
        CHECK (provider_message_id IS NOT NULL OR ref IS NOT NULL)
    )
    """,
    "CREATE INDEX receipts_parked_by_message_id ON receipts (account, provider_message_id)"
    " WHERE {unmatched}",
    "CREATE INDEX receipts_parked_by_ref ON receipts (account, ref) WHERE {unmatched}",
    "CREATE INDEX receipts_parked_by_age ON receipts (received_at) WHERE {unmatched}",
)

# v2: when the final report (summary and failure list) was written to Slack, so a crash between
# the last outcome and the report is finished on restart instead of losing the failure list.
V2 = (
    "ALTER TABLE requests ADD COLUMN reported_at {ts}",
    "UPDATE requests SET reported_at = COALESCE(finished_at, updated_at)"
    " WHERE state IN ('done', 'cancelled')",
    "CREATE INDEX requests_unreported ON requests (state) WHERE reported_at IS NULL",
)

# v3: how many people the provider itself said it queued the message for (AutoKonnect expands
# contact tags and dedupes numbers on its side, so our own count can be far from the truth).
V3 = ("ALTER TABLE requests ADD COLUMN provider_count INTEGER",)

# v4 (PostgreSQL only): accounts' request slots and 429 pauses, shared by replicas
# (``postgres_pacing``). One SQLite file has one bridge, which paces in memory.
V4_REPLICAS = (
    """
    CREATE TABLE account_pacing (
        account      TEXT PRIMARY KEY,
        next_slot_at {ts},  -- the first slot not yet claimed (NULL: never claimed)
        paused_until {ts}   -- no request before this, after a 429 (NULL: never paused)
    )
    """,
)

# v6 (PostgreSQL only): which replica owns each send until when (``postgres_leases``);
# ``epoch`` fences writes. A SQLite bridge is the only process on its file and recovers
# everything at start.
V6_REPLICAS = (
    """
    CREATE TABLE send_leases (
        group_id    TEXT PRIMARY KEY,  -- a broadcast's id, or a lone request's
        owner       TEXT NOT NULL,     -- the replica id
        epoch       BIGINT NOT NULL,   -- bumped by every takeover
        lease_until {ts} NOT NULL
    )
    """,
    "CREATE INDEX send_leases_by_expiry ON send_leases (lease_until)",
)
