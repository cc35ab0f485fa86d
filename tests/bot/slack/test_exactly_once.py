"""Each thing a person does in Slack produces exactly one send — when Slack delivers it twice, when
it is clicked twice at once, and when the second copy reaches a bridge that restarted in between.

README's opening: nothing is sent twice, "not on a Slack retry, a double click, a restart or a
slow provider". The restart here stops the bridge's server (its runtime closes) and starts a new
one on the same ``bridge.db`` while Slack and the providers stay up, as a redeploy does;
``tests/bot/send/test_crash_restart.py`` does it with ``kill -9``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bridge_sandbox.slack import payloads

from bot import metrics
from bot.slack import ids
from tests.bot.bridge_kit import ALICE, CONFIG, FAST, INCIDENTS, Bridge, start_bridge
from tests.bot.crash_kit import restart_in_process
from tests.bot.slack_steps import deliveries, roots, send

ONCALL = ["254712345678", "254798765432"]
EVERYONE = [f"2547000000{i:02d}" for i in range(1, 13)]


@pytest.fixture
async def bridge(tmp_path: Path) -> AsyncIterator[Bridge]:
    running = await start_bridge(
        tmp_path, config_text=CONFIG.replace("confirm_over: 10", "confirm_over: 20")
    )
    try:
        yield running
    finally:
        await running.world.close()


async def restart(bridge: Bridge, tmp_path: Path, *, wait: bool = True) -> None:
    """A new bridge process-equivalent on the same database; ``wait=False`` stops mid-send."""
    if wait:
        await bridge.idle()
    bridge.world = await restart_in_process(bridge.world, tmp_path, FAST, wait=wait)
    bridge.user = bridge.world.user(ALICE, INCIDENTS)


def duplicates(surface: str) -> float:
    """How many submissions the bridge has recognised as one it already had (its metric)."""
    labels = {"surface": surface, "outcome": "duplicate"}
    return metrics.REGISTRY.get_sample_value("bridge_requests_total", labels) or 0.0


def slash_body(bridge: Bridge, text: str) -> bytes:
    return payloads.slash_command(bridge.slack, "/send", text, user=ALICE, channel=INCIDENTS)


async def notes(bridge: Bridge, before: int, n: int = 1) -> list[str]:
    """The texts of response_url answers posted after the first ``before``."""
    posts = await bridge.slack.wait_for(
        lambda s: s.responses[before:] if len(s.responses) >= before + n else None
    )
    return [str(p.body.get("text")) for p in posts]


# --- a slash command delivered twice --------------------------------------------------------


async def test_slash_command_retried_by_slack_sends_once(bridge: Bridge) -> None:
    body = slash_body(bridge, "oncall-sms Disk full on db-1")
    assert await send(bridge, body) == 200
    assert await send(bridge, body, retry_num=1) == 200  # Slack's X-Slack-Retry-Num: 1
    texts = await notes(bridge, 0, 2)  # both answered (after the ack): the send has started
    await bridge.idle()
    assert sum("nothing new was sent" in t for t in texts) == 1
    assert sorted(deliveries(bridge)) == ONCALL
    assert len(roots(bridge)) == 1


async def test_slash_command_delivered_twice_at_once_sends_once(bridge: Bridge) -> None:
    body = slash_body(bridge, "oncall-sms Disk full on db-1")
    statuses = await asyncio.gather(send(bridge, body), send(bridge, body, retry_num=1))
    assert list(statuses) == [200, 200]
    await notes(bridge, 0, 2)
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ONCALL
    assert len(roots(bridge)) == 1


async def test_slash_command_retried_after_a_restart_sends_once(
    bridge: Bridge, tmp_path: Path
) -> None:
    body = slash_body(bridge, "oncall-sms Disk full on db-1")
    assert await send(bridge, body) == 200
    await notes(bridge, 0)  # answered after the ack: the request is recorded
    await restart(bridge, tmp_path)
    before = len(bridge.slack.responses)
    assert await send(bridge, body, retry_num=1) == 200
    [text] = await notes(bridge, before)
    assert "nothing new was sent" in text
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ONCALL
    assert len(roots(bridge)) == 1


async def test_slash_command_retried_into_a_bridge_restarted_mid_send_sends_once(
    bridge: Bridge, tmp_path: Path
) -> None:
    tnt = bridge.emulators.talkntalk
    tnt.latency = 0.3  # longer than the account's pacing (5/s): a request is always in flight
    body = slash_body(bridge, "everyone-sms Office closed today")
    assert await send(bridge, body) == 200
    await bridge.slack.wait_for(lambda s: len(tnt.deliveries) >= 3)
    # A graceful restart lets the calls in flight answer, starts no new ones, and the new bridge
    # resumes the rest.
    await restart(bridge, tmp_path, wait=False)
    resumed_from = len(tnt.requests)
    before = len(bridge.slack.responses)
    assert await send(bridge, body, retry_num=2) == 200
    [text] = await notes(bridge, before)  # the retry is answered: it was seen as the same request
    assert "nothing new was sent" in text
    await bridge.idle()  # the resumed send has finished
    [request] = await bridge.runtime.store.recent_requests(None)
    assert request.state.value == "done"
    outcomes = {
        r.address.lstrip("+"): r.status.value
        for r in await bridge.runtime.store.recipients(request.request_id)
    }
    counts = Counter(deliveries(bridge))
    assert sorted(outcomes) == EVERYONE
    assert len(tnt.requests) > resumed_from  # the restarted bridge sent the rest
    for number, outcome in outcomes.items():
        assert outcome == "sent", outcome  # in flight at the stop: answered, not cut off
        assert counts[number] == 1
    assert len(roots(bridge)) == 1


# --- a modal submitted twice ----------------------------------------------------------------


async def open_send_modal(bridge: Bridge) -> str:
    status, _ = await bridge.user.slash("/send", "")
    assert status == 200
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    return str(view["id"])


async def test_view_submission_posted_twice_with_the_same_view_id_sends_once(
    bridge: Bridge,
) -> None:
    view_id = await open_send_modal(bridge)
    values = {ids.TEXT_BLOCK: "Disk full on db-1"}
    # Two presses of Submit (two payloads, one view) and Slack's retry of the first.
    first = payloads.view_submission(bridge.slack, view_id, values, user=ALICE)
    second = payloads.view_submission(bridge.slack, view_id, values, user=ALICE)
    statuses = await asyncio.gather(
        send(bridge, first), send(bridge, second), send(bridge, first, retry_num=1)
    )
    assert list(statuses) == [200, 200, 200]
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) >= 2)
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ONCALL
    assert len(roots(bridge)) == 1


async def test_view_submission_retried_after_a_restart_sends_once(
    bridge: Bridge, tmp_path: Path
) -> None:
    view_id = await open_send_modal(bridge)
    body = payloads.view_submission(
        bridge.slack, view_id, {ids.TEXT_BLOCK: "Disk full"}, user=ALICE
    )
    assert await send(bridge, body) == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) >= 2)
    await restart(bridge, tmp_path)
    seen = duplicates("modal")
    assert await send(bridge, body, retry_num=1) == 200
    # A modal has no response_url to answer on: wait until the bridge has counted the retry.
    await bridge.slack.wait_for(lambda _: duplicates("modal") > seen, timeout=10)
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ONCALL
    assert len(roots(bridge)) == 1


# --- Retry failed clicked twice -------------------------------------------------------------


async def one_failed(bridge: Bridge) -> tuple[str, str]:
    """oncall-sms with credit for one: (the failure message's ts, the number that failed)."""
    bridge.emulators.talkntalk.balance = 1
    assert await send(bridge, slash_body(bridge, "oncall-sms Disk full on db-1")) == 200
    message = await bridge.slack.wait_for_message(INCIDENTS, ids.RETRY_FAILED)
    await bridge.idle()
    [sent_to] = deliveries(bridge)
    bridge.emulators.talkntalk.balance = 1000
    return message.ts, (set(ONCALL) - {sent_to}).pop()


def click_body(bridge: Bridge, ts: str) -> bytes:
    return payloads.block_actions_message(
        bridge.slack, ts, ids.RETRY_FAILED, channel=INCIDENTS, user=ALICE
    )


async def test_retry_failed_clicked_twice_at_once_sends_once(bridge: Bridge) -> None:
    ts, failed_to = await one_failed(bridge)
    before = len(bridge.slack.responses)
    clicks = [click_body(bridge, ts), click_body(bridge, ts)]
    statuses = await asyncio.gather(*(send(bridge, c) for c in clicks))
    assert statuses == [200, 200]
    [note] = await notes(bridge, before)
    assert "already sent again" in note
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) >= 2)
    await bridge.idle()
    assert Counter(deliveries(bridge))[failed_to] == 1
    assert len(deliveries(bridge)) == 2


async def test_retry_failed_clicked_again_after_a_restart_sends_once(
    bridge: Bridge, tmp_path: Path
) -> None:
    ts, failed_to = await one_failed(bridge)
    # Both clicks are made on the message as it was; the second reaches a restarted bridge.
    body, second_click = click_body(bridge, ts), click_body(bridge, ts)
    assert await send(bridge, body) == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) >= 2)
    await restart(bridge, tmp_path)
    before = len(bridge.slack.responses)
    assert await send(bridge, body, retry_num=1) == 200  # Slack's retry of the click
    assert await send(bridge, second_click) == 200  # and a second click
    texts = await notes(bridge, before, 2)
    assert all("already sent again" in t for t in texts)
    await bridge.idle()
    assert Counter(deliveries(bridge))[failed_to] == 1
    assert len(deliveries(bridge)) == 2
