"""Watching pages: the page figures on /metrics (scraped over HTTP from a real bridge), one log
line per change of a page, and ``/send status P…`` through the Slack stand-in.

The metrics registry is the process's, shared by every test run in it: each test reads the
figures before and after, and asserts on the difference.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.bot.bridge_kit import ALICE, BOB, CAROL, Bridge
from tests.bot.paging.test_paging_e2e import page_id_in
from tests.bot.paging_kit import Clock, sms_texts, start_paging, wait_for_step
from tests.bot.slack_steps import slash
from tests.bot.store_backends import PostgresBackend
from tests.clocks import wait_until

ONE_STEP = """
  one-step:
    allowed_senders: [sre]
    steps:
      - {notify: [carol], via: [sms-adhoc], wait: 5m}
"""
FULL_NUMBERS = ("254712345678", "798765432", "254700000003")


async def scrape(bridge: Bridge) -> dict[str, float]:
    """Every sample on /metrics, keyed by its line's name and labels as printed."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(bridge.world.bridge.url + "/metrics") as response,
    ):
        assert response.status == 200
        text = await response.text()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            samples[key] = float(value)
    return samples


def moved(before: dict[str, float], after: dict[str, float], key: str) -> float:
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_and_log_lines_follow_a_page_that_escalates_and_is_acknowledged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    try:
        before = await scrape(bridge)
        page_id = page_id_in((await slash(bridge, "page db-outage Disk full")).text)
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1")
        clock.advance(timedelta(minutes=5))
        await bridge.runtime.paging.tick()
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2")
        clock.advance(timedelta(seconds=40))
        answer = await slash(bridge, f"ack {page_id}", user=BOB)
        assert "You acknowledged" in answer.text
        await slash(bridge, f"ack {page_id}", user=ALICE)  # too late: counted once
        await bridge.idle()
        after = await scrape(bridge)
    finally:
        await bridge.world.close()

    label = '{escalation="db-outage"}'
    assert moved(before, after, f"bridge_pages_started_total{label}") == 1
    assert moved(before, after, f"bridge_pages_escalated_total{label}") == 1
    assert moved(before, after, f"bridge_pages_acknowledged_total{label}") == 1
    assert moved(before, after, f"bridge_pages_ended_unanswered_total{label}") == 0
    assert moved(before, after, f"bridge_page_ack_seconds_count{label}") == 1
    assert moved(before, after, f"bridge_page_ack_seconds_sum{label}") == 340  # 5m 40s
    buckets = '{escalation="db-outage",le="%s"}'
    assert moved(before, after, "bridge_page_ack_seconds_bucket" + buckets % "300.0") == 0
    assert moved(before, after, "bridge_page_ack_seconds_bucket" + buckets % "600.0") == 1

    lines = [r.getMessage() for r in caplog.records if r.name == "bot.paging.watch"]
    assert lines == [
        f"page {page_id} started: escalation db-outage, 3 step(s), by {ALICE}",
        f"page {page_id} escalated: escalation db-outage, step 2 of 3",
        f"page {page_id} acknowledged by bob (Slack) after 340s: escalation db-outage, step 2",
    ]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "bot.paging.watch")
    for number in FULL_NUMBERS:
        assert number not in caplog.text


async def test_a_page_nobody_answers_is_counted_and_logged_once_as_ended(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clock = Clock()
    bridge = await start_paging(tmp_path, clock, extra=ONE_STEP)
    try:
        before = await scrape(bridge)
        page_id = page_id_in((await slash(bridge, "page one-step Nobody home")).text)
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1")
        clock.advance(timedelta(minutes=5))
        # Three ticks at once race for the end, as replicas would: one of them ends it.
        await asyncio.gather(*(bridge.runtime.paging.tick() for _ in range(3)))
        await bridge.idle()
        after = await scrape(bridge)
    finally:
        await bridge.world.close()

    label = '{escalation="one-step"}'
    assert moved(before, after, f"bridge_pages_started_total{label}") == 1
    assert moved(before, after, f"bridge_pages_escalated_total{label}") == 0
    assert moved(before, after, f"bridge_pages_ended_unanswered_total{label}") == 1
    assert moved(before, after, f"bridge_page_ack_seconds_count{label}") == 0
    ended = [m for m in caplog.messages if m.startswith(f"page {page_id} ended")]
    assert ended == [
        f"page {page_id} ended unanswered: escalation one-step, step 1 of 1 was the last"
    ]


async def test_send_status_shows_a_page_to_those_who_may_see_it_and_nobody_else(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_paging(tmp_path, clock)
    try:
        answer = await slash(bridge, "page db-outage Disk 5 > 3 & <!channel>")
        page_id = page_id_in(answer.text)
        await wait_until(lambda: len(sms_texts(bridge)) == 1, what="step 1")
        clock.advance(timedelta(minutes=5))
        await bridge.runtime.paging.tick()
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="step 2")
        await wait_for_step(bridge, page_id, 1)
        await bridge.idle()

        active = await slash(bridge, f"status {page_id.lower()}", user=ALICE)
        text = active.text
        assert f"*Page {page_id}* · escalation `db-outage`" in text
        assert "Disk 5 &gt; 3 &amp; @channel" in text  # escaped for mrkdwn: inert
        assert "<!channel>" not in text
        assert "Started by <@U0ALICE001> at 2026-11-24 03:00:00 UTC" in text
        assert "Step 2 of 3 · waiting for an acknowledgement" in text
        assert re.search(r"• Step 1: <@U0ALICE001> by `sms-adhoc` \((sent|delivered)\)", text)
        assert re.search(r"• Step 2: <@U0BOB00002> by `sms-adhoc` \((sent|delivered)\)", text)

        clock.advance(timedelta(minutes=1))
        await slash(bridge, f"ack {page_id}", user=BOB)
        acked = await slash(bridge, f"status {page_id}", user=BOB)  # paged, so may see it
        assert "*Acknowledged* by <@U0BOB00002> at 2026-11-24 03:06:00 UTC (6m 0s" in acked.text

        # Carol is neither paged by Slack nor a sender: the page is as unknown to her as a
        # page that does not exist, word for word.
        forbidden = await slash(bridge, f"status {page_id}", user=CAROL)
        unknown = await slash(bridge, "status PZZZZZZZZ", user=CAROL)
        assert forbidden.text == unknown.text.replace("PZZZZZZZZ", page_id)
        assert "db-outage" not in forbidden.text
        assert "Acknowledged" not in forbidden.text
        assert "There is no page" in unknown.text
    finally:
        await bridge.world.close()


async def test_two_replicas_racing_for_every_move_count_each_move_once(
    tmp_path: Path, postgres_backend: PostgresBackend
) -> None:
    """Two bridges in this process on one PostgreSQL schema share the metrics registry: a move
    counted by both would show as 2."""
    clock = Clock()
    for part in ("a", "b"):
        (tmp_path / part).mkdir()
    db = postgres_backend.target
    one = await start_paging(tmp_path / "a", clock, extra=ONE_STEP, BRIDGE_DB=db)
    two = await start_paging(tmp_path / "b", clock, extra=ONE_STEP, BRIDGE_DB=db)
    pagings = (one.runtime.paging, two.runtime.paging)
    try:
        before = await scrape(one)
        acked_id = page_id_in((await slash(one, "page db-outage Disk full")).text)
        page_id_in((await slash(one, "page one-step Nobody home")).text)
        # Either replica may send a page's SMS (sends are shared out by lease): count both.
        await wait_until(lambda: len(sms_texts(one) + sms_texts(two)) == 2, what="step 1s")
        clock.advance(timedelta(minutes=5))
        await asyncio.gather(*(p.tick() for p in pagings for _ in range(3)))
        await wait_until(lambda: len(sms_texts(one) + sms_texts(two)) == 3, what="step 2")
        results = await asyncio.gather(
            *(
                p.acknowledge(acked_id, operator=f"op{i}", via="terminal")
                for i, p in enumerate(pagings)
            )
        )
        assert sorted(r.outcome for r in results) == ["acknowledged", "already"]
        await one.idle()
        await two.idle()
        after = await scrape(one)
    finally:
        await one.world.close()
        await two.world.close()

    for name, escalation, count in (
        ("bridge_pages_started_total", "db-outage", 1),
        ("bridge_pages_escalated_total", "db-outage", 1),
        ("bridge_pages_acknowledged_total", "db-outage", 1),
        ("bridge_page_ack_seconds_count", "db-outage", 1),
        ("bridge_pages_started_total", "one-step", 1),
        ("bridge_pages_ended_unanswered_total", "one-step", 1),
    ):
        assert moved(before, after, f'{name}{{escalation="{escalation}"}}') == count, name


BY_LIST = """
  by-list:
    allowed_senders: [sre]
    steps:
      - {notify: [oncall], via: [sms-adhoc], wait: 5m}
"""


async def test_a_number_that_acknowledges_by_link_is_masked_in_the_log_and_status(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A contact list's numbers are people of their own: nowhere whole in a log line or in
    ``/send status``."""
    caplog.set_level(logging.INFO)
    clock = Clock()
    bridge = await start_paging(tmp_path, clock, extra=BY_LIST)
    try:
        page_id = page_id_in((await slash(bridge, "page by-list Queue stuck")).text)
        await wait_until(lambda: len(sms_texts(bridge)) == 2, what="both numbers paged")
        [body] = [body for to, body in sms_texts(bridge) if to == "254712345678"]
        link = re.search(r"https://bridge\.example(/ack/[A-Za-z0-9_.\-]+)", body)
        assert link is not None
        clock.advance(timedelta(seconds=90))
        async with (
            aiohttp.ClientSession() as http,
            http.post(bridge.world.bridge.url + link.group(1)) as posted,
        ):
            assert posted.status == 200
        await bridge.idle()
        status = await slash(bridge, f"status {page_id}", user=ALICE)
    finally:
        await bridge.world.close()

    acked = [m for m in caplog.messages if m.startswith(f"page {page_id} acknowledged")]
    assert acked == [
        f"page {page_id} acknowledged by +2547•••••678 (link) after 90s: escalation by-list, step 1"
    ]
    assert "*Acknowledged* by +2547•••••678" in status.text
    assert "+2547•••••678 by `sms-adhoc`" in status.text
    assert "+2547•••••432 by `sms-adhoc`" in status.text  # contacts are normalised: +254…
    for number in ("254712345678", "254798765432", "798 765 432"):
        assert number not in caplog.text
        assert number not in status.text
