"""Migration v8 on both stores: one scheduler at a time claims posting a page's missing root
message (``claim_page_root``), and the first root recorded stays (``set_page_root``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from bot.store import Store
from bot.store.migrations import latest_version
from tests.bot.store.test_store_pages import T0, new_page
from tests.bot.store_backends import Backend

HOLD = timedelta(seconds=30)


async def test_one_claim_on_a_missing_root_wins_until_it_runs_out(store: Store) -> None:
    await store.create_page(new_page())
    results = await asyncio.gather(
        *(store.claim_page_root("P7K3QX9A2", T0, T0 + HOLD) for _ in range(5))
    )
    assert sorted(results) == [False, False, False, False, True]
    page = await store.get_page("P7K3QX9A2")
    assert page is not None
    assert page.root_claimed_until == T0 + HOLD
    assert (page.version, page.next_at) == (0, T0)  # the page's moves are not touched
    later = T0 + HOLD - timedelta(seconds=1)
    assert not await store.claim_page_root("P7K3QX9A2", later, later + HOLD)
    # The holder renews just before posting; once another took over, its renewal fails.
    assert await store.claim_page_root("P7K3QX9A2", later, T0 + 2 * HOLD, held=T0 + HOLD)
    lapsed = T0 + 2 * HOLD
    assert await store.claim_page_root("P7K3QX9A2", lapsed, lapsed + HOLD)
    assert not await store.claim_page_root("P7K3QX9A2", lapsed, lapsed + HOLD, held=T0 + 2 * HOLD)


async def test_no_claim_once_a_root_is_recorded_or_without_a_channel(store: Store) -> None:
    await store.create_page(new_page())
    assert await store.set_page_root("P7K3QX9A2", "C0INCIDENT", "1700000000.000100")
    assert not await store.claim_page_root("P7K3QX9A2", T0, T0 + HOLD)
    # A second root recorded later (a slow starter after a re-post) does not replace the first.
    assert not await store.set_page_root("P7K3QX9A2", "C0INCIDENT", "1700000000.000200")
    page = await store.get_page("P7K3QX9A2")
    assert page is not None
    assert page.root_ts == "1700000000.000100"
    await store.create_page(replace(new_page("PNOSLACK1"), slack_channel=None))
    assert not await store.claim_page_root("PNOSLACK1", T0, T0 + HOLD)


async def test_a_v7_record_upgrades_with_no_claims(backend: Backend) -> None:
    async with backend.store(migrations=backend.migrations[:7]):
        pass  # a send record written by the release before v8, with a page and no root
    at = "'2026-11-24T03:00:00.000000Z'"
    await backend.fetch(
        "INSERT INTO pages (page_id, escalation, text, slack_channel, next_at, created_at)"
        f" VALUES ('P7K3QX9A2', 'db-outage', 'DB down', 'C0INCIDENT', {at}, {at})"
    )
    async with backend.store() as store:
        page = await store.get_page("P7K3QX9A2")
        assert page is not None
        assert (page.root_ts, page.root_claimed_until) == (None, None)
        assert await store.claim_page_root("P7K3QX9A2", T0, T0 + HOLD)
    assert await backend.version() == latest_version() >= 8
    assert "root_claimed_until" in await backend.columns("pages")
