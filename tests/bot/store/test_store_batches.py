"""Batch-shaped send-record writes (issue 9), on both backends.

Why: a big send records thousands of attempts and outcomes; one statement per recipient made the
store, not the provider, the bottleneck. A batch must cost a few statements whatever its size,
and batching must not bend the promise: no call reaches the provider before its attempt row is
committed, and no outcome is reported before it is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from bridge_sandbox.emulators.talkntalk import TalkNTalkState, create_app

from bot.accounts import open_accounts
from bot.dispatch import Dispatcher
from bot.store import Store, UnknownRecipients
from bot.store.sqlite_thread import SyncDB
from bot.values import Plan
from providers import TalkNTalkConfig
from providers.base import Outcome, Recipient
from tests.bot.store.test_store_dispatch import NO_BACKOFF, plan_for
from tests.bot.store_backends import Backend
from tests.bot.store_fixtures import ACCOUNT, failed, new_request, recipients, sent
from tests.conftest import StartApp

DRIVER_METHODS = {
    SyncDB: ("run", "run_many"),  # every SQLite statement goes through one of these
    asyncpg.connection.Connection: ("execute", "executemany", "fetch", "fetchval", "fetchrow"),
}


def count_statements(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Count every statement either driver sends (an executemany counts one per row)."""
    counts: Counter[str] = Counter()

    def counting(method: Callable[..., Any]) -> Callable[..., Any]:
        many = method.__name__ in ("executemany", "run_many")

        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kw: Any) -> Any:
            if many:
                rows = list(args[1])
                args = (args[0], rows, *args[2:])
            counts["statements"] += len(rows) if many else 1
            return method(self, *args, **kw)

        return wrapper

    for cls, names in DRIVER_METHODS.items():
        for name in names:
            monkeypatch.setattr(cls, name, counting(getattr(cls, name)))
    return counts


async def statuses(backend: Backend) -> dict[str, int]:
    rows = await backend.fetch("SELECT status, COUNT(*) FROM recipients GROUP BY status")
    return {status: int(n) for status, n in rows}


async def test_a_batch_of_attempts_and_outcomes_costs_a_few_statements_whatever_its_size(
    store: Store, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    to = recipients("R1", 600)  # more than one SQLite chunk of bound parameters
    await store.create_request(new_request("R1"), to, None)
    counts = count_statements(monkeypatch)

    await store.attempt_started("R1", to, 1)

    assert counts["statements"] <= 8
    assert await statuses(backend) == {"in_flight": 600}
    assert await backend.scalar("SELECT COUNT(*) FROM attempts WHERE attempt = 1") == 600
    assert await backend.scalar("SELECT state FROM requests") == "sending"

    counts.clear()
    await store.outcomes_recorded(
        "R1", [sent(r, f"m-{r.ref}") for r in to[:300]] + [failed(r) for r in to[300:]]
    )

    assert counts["statements"] <= 12
    assert await statuses(backend) == {"sent": 300, "failed": 300}
    stored = {r.ref: r for r in await store.recipients("R1")}
    assert stored[to[0].ref].provider_message_id == f"m-{to[0].ref}"
    assert stored[to[599].ref].reason == "the number is not on WhatsApp"
    assert {r.attempts for r in stored.values()} == {1}


async def test_a_batch_keeps_the_status_rules_for_each_recipient(store: Store) -> None:
    to = recipients("R1", 4)
    await store.create_request(new_request("R1"), to, None)
    await store.attempt_started("R1", to[:2], 1)
    await store.outcomes_recorded("R1", [sent(to[0], "m0")])

    await store.attempt_started("R1", to, 2)  # to[0] is decided: an attempt does not undo it
    await store.outcomes_recorded("R1", [failed(to[0]), sent(to[1], "m1"), sent(to[2], "m2")])

    by_ref = {r.ref: r for r in await store.recipients("R1")}
    assert by_ref[to[0].ref].status.value == "sent"  # a stale failure never overwrites sent
    assert by_ref[to[0].ref].reason is None
    assert [by_ref[r.ref].status.value for r in to[1:]] == ["sent", "sent", "in_flight"]
    assert [by_ref[r.ref].attempts for r in to] == [2, 2, 2, 2]


async def test_a_batch_naming_a_stranger_records_the_rest_and_says_who(
    store: Store, backend: Backend
) -> None:
    to = recipients("R1", 3)
    stranger = Recipient(address="+254799999999", ref="R1-stranger")
    await store.create_request(new_request("R1"), to, None)

    with pytest.raises(UnknownRecipients) as raised:
        await store.attempt_started("R1", [*to, stranger], 1)

    assert raised.value.refs == ("R1-stranger",)
    assert await statuses(backend) == {"in_flight": 3}


class CountingRecorder:
    """The real store, with the size of each write the dispatcher asks for noted."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.attempt_writes: list[int] = []
        self.outcome_writes: list[int] = []

    async def attempt_started(
        self, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        self.attempt_writes.append(len(recipients))
        await self.store.attempt_started(request_id, recipients, attempt)

    async def outcomes_recorded(self, request_id: str, outcomes: Sequence[Outcome]) -> None:
        self.outcome_writes.append(len(outcomes))
        await self.store.outcomes_recorded(request_id, outcomes)

    async def batch_accepted(self, request_id: str, recipients_count: int) -> None:
        await self.store.batch_accepted(request_id, recipients_count)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def test_every_call_reaches_the_provider_after_its_attempt_row_is_committed(
    backend: Backend, start_app: StartApp
) -> None:
    """The emulator reads the database (its own connection: committed rows only) as each
    request arrives, while 8 calls at a time go out in batches."""
    arrived_unrecorded: list[str] = []
    arrivals: list[str] = []

    @web.middleware
    async def check_attempt_row(request: web.Request, handler: Handler) -> web.StreamResponse:
        mobile = json.loads(await request.read())["mobile"]
        arrivals.append(mobile)
        rows = await backend.fetch(
            "SELECT r.address FROM attempts AS a JOIN recipients AS r"
            " ON r.request_id = a.request_id AND r.idx = a.idx"
        )
        if f"+{mobile}" not in {address for (address,) in rows}:
            arrived_unrecorded.append(mobile)
        return await handler(request)

    state = TalkNTalkState()
    app = create_app(state)
    app.middlewares.append(check_attempt_row)
    plan: Plan = plan_for("R1", 40)
    server = await start_app(app)
    config = TalkNTalkConfig(
        type="talkntalk", api_key=state.api_key, base_url=server.url, timeout_seconds=30,
        rate_per_minute=600_000, max_concurrency=8,
    )  # fmt: skip
    async with backend.store() as store, open_accounts({ACCOUNT: config}) as accounts:
        account = accounts[ACCOUNT]
        await store.create_request(new_request("R1"), plan.recipients, None)
        recorder = CountingRecorder(store)
        dispatcher = Dispatcher({account.name: account}, recorder=recorder, retry=NO_BACKOFF)
        reported_before_recorded: list[str] = []
        async for outcome in dispatcher.dispatch(plan):
            rows = await backend.fetch(
                f"SELECT status FROM recipients WHERE ref = '{outcome.recipient.ref}'"
            )
            if rows != [("sent",)]:
                reported_before_recorded.append(outcome.recipient.ref)

    assert len(arrivals) == 40
    assert arrived_unrecorded == []
    assert reported_before_recorded == []
    assert sum(recorder.attempt_writes) == 40  # each claim writes at once (test_attempt_claims)
    assert len(recorder.outcome_writes) < 40  # outcomes coming back together share a write


async def test_a_claim_is_one_trip_to_the_database_and_a_lookup_uses_the_ref_index(
    store: Store, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why: each trip waits a turn of a busy event loop; a claim sits between a recipient's turn
    and its call. PostgreSQL: one statement, and no reset query when the connection goes back
    to the pool. SQLite: its statements go to the database thread together (one trip)."""
    to = recipients("R1", 2000)
    await store.create_request(new_request("R1"), to, None)
    counts = count_statements(monkeypatch)

    await store.attempt_started("R1", to[:10], 1)

    if backend.kind == "postgresql":
        assert counts["statements"] == 1
    else:
        assert counts["statements"] <= 5  # BEGIN, three statements, COMMIT: in one trip
    assert await statuses(backend) == {"in_flight": 10, "pending": 1990}


async def test_sqlite_finds_recipients_by_ref_through_the_unique_index(tmp_path: Path) -> None:
    """Without statistics SQLite preferred the primary key's request_id prefix and read every
    row of the request for each lookup by ref (1.3 ms a statement at 10,000 recipients)."""
    from bot.store.sqlite import SQLiteStore
    from bot.store.sqlite_sql import SQLITE

    path = tmp_path / "plan.db"
    async with SQLiteStore(path) as store:  # the real schema
        await store.create_request(new_request("R1"), recipients("R1", 50), None)
    where, params = SQLITE.by_ref("recipients", "R1", [f"R1-{i}" for i in range(10)])
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        plan = db.execute(  # a claim of ten
            f"EXPLAIN QUERY PLAN SELECT idx FROM recipients WHERE {where}", params
        ).fetchall()
    assert [row[-1] for row in plan] == [
        "SEARCH recipients USING INDEX sqlite_autoindex_recipients_1 (ref=?)"
    ]


async def held_database_thread(store: Any) -> tuple[asyncio.Future[None], threading.Event]:
    """Keep the store's database thread busy until the event is set (writes queue meanwhile)."""
    gate = threading.Event()

    async def hold(db: SyncDB) -> None:
        gate.wait(10)

    held = asyncio.ensure_future(store._run(hold))
    await asyncio.sleep(0)
    return held, gate


async def test_sqlite_claims_of_one_attempt_queued_together_share_their_statements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big send's claims arrive a few at a time, each writing at once; those that queue
    behind a commit run as one set of statements per attempt, and each caller still hears
    only about the strangers it named itself."""
    from bot.store.sqlite import SQLiteStore

    to = recipients("R1", 6)
    stranger = Recipient(address="+254799999999", ref="R1-stranger")
    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), to, None)
        held, gate = await held_database_thread(store)
        counts = count_statements(monkeypatch)
        claims = [
            asyncio.ensure_future(store.attempt_started("R1", to[0:2], 1)),
            asyncio.ensure_future(store.attempt_started("R1", [to[2], stranger], 1)),
            asyncio.ensure_future(store.attempt_started("R1", [to[3]], 2)),
            asyncio.ensure_future(store.attempt_started("R1", [to[4]], 1)),
        ]
        for _ in range(3):
            await asyncio.sleep(0)
        gate.set()
        results = await asyncio.wait_for(asyncio.gather(*claims, return_exceptions=True), 10)
        await held

        assert [results[0], results[2], results[3]] == [None, None, None]
        assert isinstance(results[1], UnknownRecipients)
        assert results[1].refs == ("R1-stranger",)
        # One transaction: BEGIN; attempt 1 (three callers) in a savepoint: INSERT, UPDATE, the
        # lookup naming the stranger, the request moved; attempt 2 in another; COMMIT. Written
        # one by one, attempt 1 alone would have taken three savepoints of five statements.
        assert counts["statements"] <= 13
        stored = {r.ref: r for r in await store.recipients("R1")}
        assert [stored[r.ref].status.value for r in to] == ["in_flight"] * 5 + ["pending"]
        assert [stored[r.ref].attempts for r in to] == [1, 1, 1, 2, 1, 0]


async def test_sqlite_claims_merged_for_a_missing_request_all_fail(tmp_path: Path) -> None:
    from bot.store.sqlite import SQLiteStore

    async with SQLiteStore(tmp_path / "bridge.db") as store:
        await store.create_request(new_request("R1"), recipients("R1", 2), None)
        held, gate = await held_database_thread(store)
        to = recipients("R2", 3)
        claims = [asyncio.ensure_future(store.attempt_started("R2", [r], 1)) for r in to]
        for _ in range(3):
            await asyncio.sleep(0)
        gate.set()
        results = await asyncio.wait_for(asyncio.gather(*claims, return_exceptions=True), 10)
        await held

        assert all(isinstance(result, LookupError) for result in results)
        assert {r.status.value for r in await store.recipients("R1")} == {"pending"}
