"""Leases on sends in PostgreSQL (``bot.store.leases`` says why), and the writes they fence.

One row per leased group in ``send_leases`` (migration 5). Every change is one statement whose
``WHERE`` is the compare-and-set: a takeover matches only a lapsed lease and bumps its epoch, a
renewal or a release only the lease as its owner knows it. Times are the store's clock, as for
every other timestamp in the send record: replicas' clocks must agree to well within
``takeover_after`` (NTP does that).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from bot.store import requests_sql as requests
from bot.store import sends_sql as sends
from bot.store.base import raise_unmatched
from bot.store.leases import CHORE_PREFIX, Lease
from bot.store.postgres_conn import PostgresConnection
from bot.store.postgres_rows import Conn
from bot.store.postgres_sql import PostgresSql
from providers.base import Recipient

_GROUP = "COALESCE(r.broadcast_id, r.request_id)"
_CHORE = CHORE_PREFIX  # a LIKE prefix as it is: "chore:" holds no wildcard (% or _)
_WORK = "(r.state IN ('accepted', 'sending') OR (r.state = 'done' AND r.reported_at IS NULL))"

# $1 owner, $2 new lease_until, $3 now, $4 limit, $5 orphan cutoff, $6 an orphan's epoch. Lapsed
# leases are locked SKIP LOCKED (two watchers split the work) and re-checked in the UPDATE;
# orphans (work nobody leased since the cutoff) are inserted, and ON CONFLICT leaves one that
# someone just leased. An orphan's lease row was deleted (released with work left), so its
# epoch is not 1 but the claim time in microseconds: above any epoch the group had before, so
# a lease handed out earlier (even to this same replica) never passes the fence again.
_CLAIM = f"""
    WITH lapsed AS (
        SELECT group_id FROM send_leases WHERE lease_until < $3 AND group_id NOT LIKE '{_CHORE}%'
        ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED
    ), taken AS (
        UPDATE send_leases AS l SET owner = $1, epoch = l.epoch + 1, lease_until = $2
        FROM lapsed WHERE l.group_id = lapsed.group_id AND l.lease_until < $3
        RETURNING l.group_id, l.epoch
    ), orphans AS (
        INSERT INTO send_leases (group_id, owner, epoch, lease_until)
        SELECT DISTINCT {_GROUP}, $1, $6::bigint, $2::timestamptz FROM requests AS r
        WHERE {_WORK} AND r.updated_at < $5
          AND NOT EXISTS (SELECT 1 FROM send_leases AS l WHERE l.group_id = {_GROUP})
        LIMIT $4
        ON CONFLICT (group_id) DO NOTHING
        RETURNING group_id, epoch
    )
    SELECT group_id, epoch FROM taken UNION ALL SELECT group_id, epoch FROM orphans
"""
_RENEW = """
    UPDATE send_leases AS l SET lease_until = $1
    FROM unnest($2::text[], $3::text[], $4::bigint[]) AS v (group_id, owner, epoch)
    WHERE l.group_id = v.group_id AND l.owner = v.owner AND l.epoch = v.epoch
    RETURNING l.group_id
"""


class PostgresLeaseBook:
    """``bot.store.leases.LeaseBook`` over a PostgreSQL store's pool and transactions."""

    def __init__(self, store: PostgresConnection) -> None:
        self._store = store

    async def acquire(self, group_id: str, owner: str, ttl: timedelta) -> Lease | None:
        until = self._store._now() + ttl
        epoch = await self._store._write(
            lambda conn: conn.fetchval(
                "INSERT INTO send_leases (group_id, owner, epoch, lease_until)"
                " VALUES ($1, $2, 1, $3) ON CONFLICT (group_id) DO NOTHING RETURNING epoch",
                group_id,
                owner,
                until,
            ),
            one_statement=True,
        )
        return Lease(group_id, owner, int(epoch)) if epoch is not None else None

    async def take(self, group_id: str, owner: str, ttl: timedelta) -> Lease | None:
        now = self._store._now()
        epoch = await self._store._write(
            lambda conn: conn.fetchval(
                "INSERT INTO send_leases (group_id, owner, epoch, lease_until)"
                " VALUES ($1, $2, 1, $3) ON CONFLICT (group_id) DO UPDATE"
                " SET owner = EXCLUDED.owner, epoch = send_leases.epoch + 1,"
                " lease_until = EXCLUDED.lease_until WHERE send_leases.lease_until < $4"
                " RETURNING epoch",
                group_id,
                owner,
                now + ttl,
                now,
            ),
            one_statement=True,
        )
        return Lease(group_id, owner, int(epoch)) if epoch is not None else None

    async def renew(self, leases: Sequence[Lease], ttl: timedelta) -> set[str]:
        if not leases:
            return set()
        until = self._store._now() + ttl
        columns = (
            [x.group_id for x in leases],
            [x.owner for x in leases],
            [x.epoch for x in leases],
        )
        rows = await self._store._write(
            lambda conn: conn.fetch(_RENEW, until, *columns), one_statement=True
        )
        return {str(row["group_id"]) for row in rows}

    async def release(self, lease: Lease) -> None:
        await self._store._write(
            lambda conn: conn.execute(
                "DELETE FROM send_leases WHERE group_id = $1 AND owner = $2 AND epoch = $3",
                lease.group_id,
                lease.owner,
                lease.epoch,
            ),
            one_statement=True,
        )

    async def holds(self, lease: Lease) -> bool:
        return bool(
            await self._store._value(
                "SELECT EXISTS (SELECT 1 FROM send_leases"
                " WHERE group_id = $1 AND owner = $2 AND epoch = $3)",
                lease.group_id,
                lease.owner,
                lease.epoch,
            )
        )

    async def claim_stale(
        self, owner: str, ttl: timedelta, grace: timedelta, limit: int = 50
    ) -> list[Lease]:
        now = self._store._now()
        fresh = int(now.timestamp() * 1_000_000)
        rows = await self._store._write(
            lambda conn: conn.fetch(_CLAIM, owner, now + ttl, now, limit, now - grace, fresh),
            one_statement=True,
        )
        return [Lease(str(row["group_id"]), owner, int(row["epoch"])) for row in rows]

    async def attempt_started(
        self, lease: Lease, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        now = self._store._now()
        unmatched = await self._store._write(
            lambda conn: sends.start_attempt(
                PostgresSql(conn), request_id, recipients, attempt, now, lease
            ),
            one_statement=all(r.ref for r in recipients),
            shielded=False,  # its call waits for it; a cancelled caller makes no call
        )
        raise_unmatched(request_id, unmatched)

    async def set_report(self, lease: Lease, request_id: str, channel: str, ts: str) -> None:
        async def body(conn: Conn) -> None:
            db = PostgresSql(conn)
            await sends.fence(db, lease)
            await requests.set_report(db, request_id, channel, ts, self._store._now())

        await self._store._write(body)

    async def mark_reported(self, lease: Lease, request_ids: Sequence[str]) -> None:
        async def body(conn: Conn) -> None:
            db = PostgresSql(conn)
            await sends.fence(db, lease)
            await requests.mark_reported(db, request_ids, self._store._now())

        await self._store._write(body)
