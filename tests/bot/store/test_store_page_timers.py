"""Page timers (migration 14) on both stores: written once per (page, round, step, person,
rule), claimed by exactly one scheduler while the page is active, a lapsed claim taken again,
and a failed rule's successor brought forward only if it was due later."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store import Store
from bot.store.pages_base import NewPage
from bot.store.timers_base import VIA, PageTimer

T0 = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)
LEASE = timedelta(seconds=5)


def chain(page_id: str = "P7K3QX9A2", at: datetime = T0) -> list[PageTimer]:
    return [
        PageTimer(page_id, 0, 0, "alice", 0, "oncall-wa", at),
        PageTimer(page_id, 0, 0, "alice", 1, "oncall-sms", at + MINUTE),
        PageTimer(page_id, 0, 0, "alice", 2, "oncall-voice", at + 2 * MINUTE),
    ]


async def started(store: Store, page_id: str = "P7K3QX9A2") -> None:
    await store.create_page(NewPage(page_id, "db", "DB down", "U0ALICE001", None, T0))


async def test_timers_are_written_once_and_keep_their_first_due_time(store: Store) -> None:
    await started(store)
    assert await store.add_page_timers(chain()) == 3
    # the step run again after a crash, a minute later: nothing new, the times stay
    assert await store.add_page_timers(chain(at=T0 + MINUTE)) == 0
    assert await store.add_page_timers([]) == 0
    timers = await store.page_timers("P7K3QX9A2")
    assert [(t.rule, t.channel, t.due_at, t.done) for t in timers] == [
        (0, "oncall-wa", T0, False),
        (1, "oncall-sms", T0 + MINUTE, False),
        (2, "oncall-voice", T0 + 2 * MINUTE, False),
    ]


async def test_one_claim_wins_a_due_timer_and_a_lapsed_claim_is_taken_again(
    store: Store,
) -> None:
    await started(store)
    await store.add_page_timers(chain())
    assert [t.rule for t in await store.due_page_timers(T0)] == [0]
    assert [t.rule for t in await store.due_page_timers(T0 + MINUTE)] == [0, 1]
    first = chain()[0]
    won = await asyncio.gather(*(store.claim_page_timer(first, T0, T0 + LEASE) for _ in range(5)))
    assert won.count(True) == 1
    assert await store.due_page_timers(T0 + LEASE - timedelta(seconds=1)) == []
    # its claimer died: after the lease another scheduler takes it
    assert [t.rule for t in await store.due_page_timers(T0 + LEASE)] == [0]
    assert await store.claim_page_timer(first, T0 + LEASE, T0 + 2 * LEASE)
    assert await store.finish_page_timer(first)
    assert not await store.finish_page_timer(first)
    assert not await store.claim_page_timer(first, T0 + MINUTE, T0 + MINUTE + LEASE)
    assert [t.rule for t in await store.due_page_timers(T0 + 2 * MINUTE)] == [1, 2]
    # a rule not yet due is not claimed
    assert not await store.claim_page_timer(chain()[2], T0 + MINUTE, T0 + MINUTE + LEASE)


async def test_an_acknowledged_page_has_no_due_timers_and_none_is_claimed(store: Store) -> None:
    await started(store)
    await store.add_page_timers(chain())
    assert await store.acknowledge_page("P7K3QX9A2", "slack:U0BOB00002", T0)
    later = T0 + 3 * MINUTE
    assert await store.due_page_timers(later) == []
    assert not any([await store.claim_page_timer(t, later, later + LEASE) for t in chain()])


async def test_a_timer_is_brought_forward_only_if_due_later(store: Store) -> None:
    await started(store)
    await store.add_page_timers(chain())
    now = T0 + timedelta(seconds=10)
    assert await store.hasten_page_timer("P7K3QX9A2", 0, 0, "alice", 1, now)
    assert not await store.hasten_page_timer("P7K3QX9A2", 0, 0, "alice", 1, now)
    assert not await store.hasten_page_timer("P7K3QX9A2", 0, 0, "alice", 0, now)  # due before
    assert [t.rule for t in await store.due_page_timers(now)] == [0, 1]


async def test_a_held_send_through_the_step_is_a_timer_of_its_own(store: Store) -> None:
    await started(store)
    held = PageTimer("P7K3QX9A2", 0, 0, "carol", VIA, "sms-adhoc", T0 + 4 * MINUTE)
    await store.add_page_timers([held, *chain()])
    (due,) = await store.due_page_timers(T0 + 4 * MINUTE, limit=1)
    assert due.rule == 0  # earliest first
    assert held in await store.page_timers("P7K3QX9A2")


async def test_the_scheduler_learns_when_the_next_paging_work_falls_due(store: Store) -> None:
    """``next_paging_due``: the earliest of an active page's next move and a timer nobody
    holds; nothing once the page is acknowledged."""
    assert await store.next_paging_due(T0) is None
    await started(store)
    page = await store.get_page("P7K3QX9A2")
    assert page is not None
    assert await store.next_paging_due(T0) == page.next_at  # the first move, due at once
    assert await store.advance_page("P7K3QX9A2", page.version, 0, 0, T0 + 5 * MINUTE)
    assert await store.next_paging_due(T0) == T0 + 5 * MINUTE
    await store.add_page_timers(chain())
    assert await store.next_paging_due(T0) == T0  # alice's rule 1
    first, second, _ = chain()
    assert await store.claim_page_timer(first, T0, T0 + LEASE)
    assert await store.next_paging_due(T0) == T0 + MINUTE  # a held timer is its holder's
    assert await store.finish_page_timer(first)
    assert await store.next_paging_due(T0) == T0 + MINUTE
    assert await store.hasten_page_timer("P7K3QX9A2", 0, 0, "alice", 1, T0 + 30 * SECOND)
    assert await store.next_paging_due(T0) == T0 + 30 * SECOND
    assert second.rule == 1
    assert await store.acknowledge_page("P7K3QX9A2", "slack:U0BOB00002", T0 + 40 * SECOND)
    assert await store.next_paging_due(T0 + 40 * SECOND) is None
