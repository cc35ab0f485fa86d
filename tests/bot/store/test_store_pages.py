"""The page tables on both stores: every move is a compare-and-set, so two schedulers racing on
one page (a restart overlapping the old process, or two replicas) make each move exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store import Store
from bot.store.pages_base import NewPage, PageSend
from tests.bot.store_backends import Backend

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)


def new_page(page_id: str = "P7K3QX9A2") -> NewPage:
    return NewPage(page_id, "db-outage", "DB down", "U0ALICE001", "C0INCIDENT", T0)


async def test_a_new_page_is_active_and_due_at_once(store: Store) -> None:
    page = await store.create_page(new_page())
    assert (page.state, page.round, page.step, page.version) == ("active", 0, -1, 0)
    assert page.next_at == T0
    assert [p.page_id for p in await store.due_pages(T0)] == ["P7K3QX9A2"]
    assert await store.due_pages(T0 - timedelta(seconds=1)) == []
    assert await store.get_page("P0000000") is None


async def test_one_claim_wins_and_a_lease_makes_the_move_due_again(store: Store) -> None:
    page = await store.create_page(new_page())
    lease = T0 + timedelta(seconds=30)
    results = await asyncio.gather(
        *(store.claim_page(page.page_id, page.version, T0, lease) for _ in range(5))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].next_at == lease
    assert await store.due_pages(T0 + timedelta(seconds=29)) == []
    (again,) = await store.due_pages(lease)
    assert await store.claim_page(page.page_id, again.version, lease, lease) is not None


async def test_a_renewed_claim_stays_and_a_lapsed_one_is_taken_over(store: Store) -> None:
    page = await store.create_page(new_page())
    second = timedelta(seconds=1)
    claimed = await store.claim_page(page.page_id, page.version, T0, T0 + 5 * second)
    assert claimed is not None
    assert await store.renew_page_claim(page.page_id, claimed.version, T0 + 9 * second)
    assert await store.due_pages(T0 + 8 * second) == []  # the holder is alive: not due
    (lapsed,) = await store.due_pages(T0 + 9 * second)
    taken = await store.claim_page(page.page_id, lapsed.version, T0 + 9 * second, T0 + 14 * second)
    assert taken is not None
    # The old holder learns it lost the claim: its renewal and its advance are refused.
    assert not await store.renew_page_claim(page.page_id, claimed.version, T0 + 20 * second)
    assert not await store.advance_page(page.page_id, claimed.version, 0, 0, T0)
    assert await store.acknowledge_page(page.page_id, "U0BOB00002", T0 + 10 * second)
    assert not await store.renew_page_claim(page.page_id, taken.version, T0 + 20 * second)


async def test_advance_end_and_acknowledge_are_compare_and_set(store: Store) -> None:
    page = await store.create_page(new_page())
    claimed = await store.claim_page(page.page_id, 0, T0, T0 + timedelta(seconds=30))
    assert claimed is not None
    due = T0 + timedelta(minutes=5)
    assert await store.advance_page(page.page_id, claimed.version, 0, 0, due)
    assert not await store.advance_page(page.page_id, claimed.version, 0, 1, due)  # stale
    first = await store.get_page(page.page_id)
    assert first is not None
    assert (first.step, first.next_at) == (0, due)
    assert await store.acknowledge_page(page.page_id, "U0BOB00002", due)
    assert not await store.acknowledge_page(page.page_id, "U0ALICE001", due)
    done = await store.get_page(page.page_id)
    assert done is not None
    assert (done.state, done.acknowledged_by, done.acknowledged_at) == (
        "acknowledged",
        "U0BOB00002",
        due,
    )
    assert not await store.end_page(page.page_id, done.version, due)
    assert await store.due_pages(due + timedelta(days=1)) == []


async def test_sends_events_and_fallback_claims_are_recorded_once(
    store: Store, backend: Backend
) -> None:
    await store.create_page(new_page())
    send = PageSend("P7K3QX9A2", 0, 0, "alice", 0, "oncall-sms", "RAAAA1111", "RAAAA1111-1", T0)
    assert await store.add_page_send(send)
    assert not await store.add_page_send(send)
    assert await store.page_sends("P7K3QX9A2") == [send]
    assert await store.pages_for_requests(["RAAAA1111", "RNONE"]) == ["P7K3QX9A2"]
    claims = await asyncio.gather(
        *(store.mark_fell_back("P7K3QX9A2", 0, 0, "alice", 0) for _ in range(3))
    )
    assert sorted(claims) == [False, False, True]
    assert (await store.page_sends("P7K3QX9A2"))[0].fell_back
    assert await store.add_page_event("P7K3QX9A2", "paged:0:0", T0, "paged alice")
    assert not await store.add_page_event("P7K3QX9A2", "paged:0:0", T0, "again")
    (event,) = await store.page_events("P7K3QX9A2")
    assert (event.text, event.posted) == ("paged alice", False)
    assert await store.mark_event_posted("P7K3QX9A2", "paged:0:0")
    assert not await store.mark_event_posted("P7K3QX9A2", "paged:0:0")
    assert "pages" in await backend.tables()


async def test_a_page_survives_reopening_the_store(backend: Backend) -> None:
    async with backend.store() as first:
        await first.create_page(new_page())
    async with backend.store() as second:
        page = await second.get_page("P7K3QX9A2")
    assert page is not None
    assert page.state == "active"
