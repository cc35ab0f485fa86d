"""Requests in the send record: recorded whole, once per idempotency key, and read back."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from bot.dispatch_batch import Recorder
from bot.store import (
    NewRequest,
    RecipientStatus,
    RequestState,
    SQLiteStore,
    Store,
    StoreError,
    Surface,
    UnknownRecipients,
    UnknownRequest,
)
from bot.store.postgres import PostgresStore
from providers.base import Recipient
from tests.bot.store_backends import Backend
from tests.bot.store_fixtures import MESSAGE, ROUTE, Clock, failed, new_request, recipients, sent


def test_each_store_is_a_store_and_the_dispatchers_recorder(tmp_path: Path) -> None:
    for as_store in (
        SQLiteStore(tmp_path / "x.db"),
        PostgresStore("postgresql://nobody@127.0.0.1:1/none"),  # not opened: never connects
    ):
        typed: Store = as_store
        as_recorder: Recorder = typed
        assert as_recorder is as_store


async def test_a_request_is_recorded_with_every_recipient_pending(store: Store) -> None:
    to = recipients("R1", 3)
    record, created = await store.create_request(new_request("R1"), to, "slack:trigger-1")
    assert created
    assert record.state is RequestState.ACCEPTED
    assert (record.route, record.message) == (ROUTE, MESSAGE)
    assert (record.total, record.user_id, record.surface) == (3, "U0SRE", Surface.SLASH)
    assert record.idempotency_key == "slack:trigger-1"
    stored = await store.recipients("R1")
    assert [r.to_recipient() for r in stored] == to
    assert {r.status for r in stored} == {RecipientStatus.PENDING}
    assert await store.get_request("R1") == record


async def test_recipients_without_a_ref_get_one_from_the_request_id(store: Store) -> None:
    await store.create_request(new_request("R1"), [Recipient(address="+254700000001")] * 2, None)
    assert [r.ref for r in await store.recipients("R1")] == ["R1-0", "R1-1"]


async def test_the_same_idempotency_key_records_one_request(store: Store) -> None:
    first, created = await store.create_request(new_request("R1"), recipients("R1", 2), "k")
    again, created_again = await store.create_request(new_request("R2"), recipients("R2", 5), "k")
    assert (created, created_again) == (True, False)
    assert again == first
    assert await store.get_request("R2") is None
    assert await store.recent_requests(None) == [first]


async def test_the_idempotency_key_holds_across_a_restart(backend: Backend) -> None:
    async with backend.store() as store:
        _first, _ = await store.create_request(new_request("R1"), recipients("R1", 2), "view:V1")
    async with backend.store() as store:
        again, created = await store.create_request(
            new_request("R9"), recipients("R9", 2), "view:V1"
        )
    assert not created
    assert again.request_id == "R1"


async def test_concurrent_submits_with_one_key_become_one_request(store: Store) -> None:
    results = await asyncio.gather(
        *(
            store.create_request(new_request(f"R{i}"), recipients(f"R{i}", 3), "double-click")
            for i in range(20)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({record.request_id for record, _ in results}) == 1
    assert len(await store.recent_requests(None, limit=50)) == 1


async def test_without_a_key_every_submit_is_a_new_request(store: Store) -> None:
    await store.create_request(new_request("R1"), recipients("R1", 1), None)
    await store.create_request(new_request("R2"), recipients("R2", 1), None)
    assert len(await store.recent_requests(None)) == 2


async def test_a_broadcast_is_recorded_as_one_group_under_one_key(store: Store) -> None:
    entries = [
        (
            new_request(rid, surface=Surface.BROADCAST, broadcast_id="RA", title="On-call"),
            recipients(rid, n),
        )
        for rid, n in [("RA", 2), ("RB", 3)]
    ]
    records, created = await store.create_requests(entries, "view:V7")
    assert created
    assert [r.request_id for r in records] == ["RA", "RB"]
    assert records[1].title == "On-call"
    again, created_again = await store.create_requests(entries, "view:V7")
    assert not created_again
    assert again == records
    assert await store.group_requests("RA") == records
    assert [r.request_id for r in await store.group_requests("RB")] == ["RB"]


async def test_a_broadcast_with_a_bad_entry_records_nothing(store: Store) -> None:
    entries = [
        (new_request("RA", broadcast_id="RA"), recipients("RA", 2)),
        (new_request("RA", broadcast_id="RA"), recipients("RB", 1)),  # the same request id
    ]
    with pytest.raises(StoreError, match="not recorded"):
        await store.create_requests(entries, "k")
    assert await store.get_request("RA") is None
    assert (await store.create_requests(entries[:1], "k"))[1]  # the key was not taken either


async def test_a_request_needs_recipients_and_a_fresh_id(store: Store) -> None:
    with pytest.raises(ValueError, match="no recipients"):
        await store.create_request(new_request("R1"), [], None)
    await store.create_request(new_request("R1"), recipients("R1", 1), None)
    with pytest.raises(StoreError, match="R1"):
        await store.create_request(new_request("R1"), recipients("R1", 1), None)


async def test_a_held_request_is_confirmed_or_cancelled_exactly_once(store: Store) -> None:
    await store.create_request(
        new_request("R1", state=RequestState.HELD), recipients("R1", 1), None
    )
    await store.create_request(
        new_request("R2", state=RequestState.HELD), recipients("R2", 1), None
    )
    held, accepted = RequestState.HELD, RequestState.ACCEPTED
    assert await store.transition("R1", held, accepted)
    assert not await store.transition("R1", held, RequestState.CANCELLED)  # a late Cancel click
    assert await store.transition("R2", held, RequestState.CANCELLED)
    assert not await store.transition("R2", held, accepted)
    r1, r2 = await store.get_request("R1"), await store.get_request("R2")
    assert r1 is not None
    assert r1.state is accepted
    assert r1.finished_at is None
    assert r2 is not None
    assert r2.state is RequestState.CANCELLED
    assert r2.finished_at is not None
    with pytest.raises(UnknownRequest):
        await store.transition("R404", held, accepted)


async def test_state_only_moves_forward(store: Store) -> None:
    await store.create_request(new_request("R1"), recipients("R1", 1), None)
    assert await store.set_state("R1", RequestState.SENDING) is RequestState.SENDING
    assert await store.set_state("R1", RequestState.ACCEPTED) is RequestState.SENDING
    assert await store.set_state("R1", RequestState.DONE) is RequestState.DONE
    assert await store.set_state("R1", RequestState.CANCELLED) is RequestState.DONE
    record = await store.get_request("R1")
    assert record is not None
    assert record.finished
    assert record.finished_at is not None
    with pytest.raises(UnknownRequest):
        await store.set_state("R404", RequestState.DONE)


async def test_unfinished_requests_are_the_held_accepted_and_sending(store: Store) -> None:
    for rid, state in [("R1", RequestState.HELD), ("R2", RequestState.ACCEPTED)]:
        await store.create_request(new_request(rid, state=state), recipients(rid, 1), None)
    for rid in ("R3", "R4"):
        await store.create_request(new_request(rid), recipients(rid, 1), None)
    await store.set_state("R3", RequestState.SENDING)
    await store.set_state("R4", RequestState.DONE)
    assert [r.request_id for r in await store.unfinished_requests()] == ["R1", "R2", "R3"]


async def test_the_report_message_is_remembered(store: Store) -> None:
    await store.create_request(new_request("R1"), recipients("R1", 1), None)
    await store.set_report("R1", "C0INCIDENTS", "1714550400.000100")
    record = await store.get_request("R1")
    assert record is not None
    assert (record.report_channel, record.report_ts) == ("C0INCIDENTS", "1714550400.000100")
    with pytest.raises(UnknownRequest):
        await store.set_report("R404", "C1", "1.2")


async def test_recent_requests_are_newest_first_and_per_user(backend: Backend) -> None:
    clock = Clock()
    async with backend.store(clock=clock) as store:
        for i, user in enumerate(["U1", "U2", "U1", None, "U1"]):
            clock.advance(minutes=1)
            await store.create_request(
                new_request(f"R{i}", user_id=user), recipients(f"R{i}", 1), None
            )
        await store.create_request(
            new_request("R5", user_id="U1"), recipients("R5", 1), None
        )  # same instant
        assert [r.request_id for r in await store.recent_requests("U1")] == ["R5", "R4", "R2", "R0"]
        assert [r.request_id for r in await store.recent_requests("U1", limit=2)] == ["R5", "R4"]
        assert [r.request_id for r in await store.recent_requests(None, limit=3)] == [
            "R5",
            "R4",
            "R3",
        ]
        assert await store.recent_requests("U404") == []
        newest = (await store.recent_requests(None, limit=1))[0]
        assert newest.created_at == clock.now


async def test_counts_cover_every_status_and_the_total(store: Store) -> None:
    to = recipients("R1", 5)
    await store.create_request(new_request("R1"), to, None)
    await store.attempt_started("R1", to[:4], 1)
    await store.outcomes_recorded("R1", [sent(to[0], "m0"), sent(to[1], "m1"), failed(to[2])])
    assert await store.counts("R1") == {
        "pending": 1, "in_flight": 1, "sent": 2, "failed": 1, "unknown": 0,
        "delivered": 0, "read": 0, "total": 5,
    }  # fmt: skip
    with pytest.raises(UnknownRequest):
        await store.counts("R404")


async def test_recipients_can_be_filtered_by_status(store: Store) -> None:
    to = recipients("R1", 4)
    await store.create_request(new_request("R1"), to, None)
    await store.outcomes_recorded("R1", [failed(to[1]), failed(to[3]), sent(to[0])])
    bad = await store.recipients("R1", [RecipientStatus.FAILED])
    assert [r.idx for r in bad] == [1, 3]
    assert bad[0].reason == "the number is not on WhatsApp"
    assert (bad[0].code, bad[0].http_status) == ("E1", 400)
    both = [RecipientStatus.FAILED, RecipientStatus.PENDING]
    assert [r.idx for r in await store.recipients("R1", both)] == [1, 2, 3]
    assert await store.recipients("R1", []) == []


async def test_ids_and_numbers_are_stored_but_no_provider_key(backend: Backend) -> None:
    record = NewRequest(
        request_id="R1", surface=Surface.CLI, user_id=None, channel="oncall-sms",
        account="tnt", route=ROUTE, message=MESSAGE,
    )  # fmt: skip
    async with backend.store() as store:
        await store.create_request(record, recipients("R1", 1), None)
    names = await backend.columns("requests") | await backend.columns("recipients")
    route = str(await backend.scalar("SELECT route FROM requests"))
    assert not any("key" in n and n != "idempotency_key" for n in names)
    assert "api_key" not in route
    assert "ACME" in route


async def test_outcomes_for_strangers_are_refused_after_the_rest_is_kept(
    store: Store,
) -> None:
    to = recipients("R1", 2)
    await store.create_request(new_request("R1"), to, None)
    stranger = Recipient(address="+254799999999", ref="R9-0")
    with pytest.raises(UnknownRecipients, match="R9-0"):
        await store.outcomes_recorded("R1", [sent(to[0], "m0"), sent(stranger)])
    assert (await store.counts("R1"))["sent"] == 1
    with pytest.raises(UnknownRequest):
        await store.attempt_started("R404", to, 1)


async def test_any_message_text_is_stored_exactly(store: Store) -> None:
    # JSON text on both backends: PostgreSQL's jsonb would refuse the escaped NUL.
    text = "Ünïcode ✓ 'quoted' \"double\" \\ back\\slash \x00 nul 🚨"
    request = replace(new_request("R1"), message=MESSAGE.model_copy(update={"text": text}))
    await store.create_request(request, recipients("R1", 1), None)
    record = await store.get_request("R1")
    assert record is not None
    assert record.message.text == text
