"""Who may act on an earlier send: Retry, Send/Cancel and status are decided for the person who
clicks or asks, under the config in force now, from where they are — end to end."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.slack import ids
from tests.bot.bridge_kit import (
    ALICE,
    BOB,
    CAROL,
    CONFIG,
    ELSEWHERE,
    FAST,
    INCIDENTS,
    Bridge,
    start_bridge,
)
from tests.bot.slack_steps import (
    click_ephemeral_body,
    deliveries,
    nothing_sent,
    provider_requests,
    send,
    slash,
)

SRE_GROUP = "S0SRE1234"


class Clock:
    """Wall time plus an offset the test moves: the store stamps and the service judges by it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bridge(tmp_path: Path, clock: Clock) -> AsyncIterator[Bridge]:
    """The test bridge, with user groups looked up afresh each time (ttl 0), so removing
    someone from a group takes effect at once, and a clock the test moves."""
    options = dataclasses.replace(FAST, directory_ttl=0.0, clock=clock)
    running = await start_bridge(tmp_path, options=options)
    try:
        yield running
    finally:
        await running.world.close()


async def one_failed(bridge: Bridge, user: str = ALICE) -> str:
    """``user`` sends oncall-sms (2 numbers) with credit for one; the failed list's Retry."""
    bridge.emulators.talkntalk.balance = 1
    await slash(bridge, "oncall-sms Disk full on db-1", user=user)
    await bridge.idle()
    assert len(deliveries(bridge)) == 1
    bridge.emulators.talkntalk.balance = 1000
    message = await bridge.slack.wait_for_message(INCIDENTS, ids.RETRY_FAILED)
    return message.ts


async def click_note(bridge: Bridge, user: str, ts: str, action: str, channel: str) -> str:
    """``user`` clicks ``action`` on the message ``ts``; the ephemeral note they get back."""
    before = len(bridge.slack.responses)
    status, _ = await bridge.as_user(user, channel).click(ts, action)
    assert status == 200
    notes = await bridge.slack.wait_for(lambda s: s.responses[before:])
    assert notes[0].body.get("response_type") == "ephemeral"
    return str(notes[0].body["text"])


# --- Retry ------------------------------------------------------------------------------------


async def test_retry_by_the_requester_after_leaving_the_group_is_refused(bridge: Bridge) -> None:
    ts = await one_failed(bridge, user=BOB)  # BOB is in sre through the user group
    requests = provider_requests(bridge)
    bridge.slack.usergroups[SRE_GROUP] = []  # ...and has since left it
    note = await click_note(bridge, BOB, ts, ids.RETRY_FAILED, INCIDENTS)
    assert "not allowed to send to `oncall-sms`" in note
    assert "allowed_senders" in note  # how to fix it
    await bridge.idle()
    assert provider_requests(bridge) == requests  # the emulator saw nothing new
    assert len(deliveries(bridge)) == 1


async def test_an_allowed_coworker_can_retry_in_the_channels_thread(bridge: Bridge) -> None:
    ts = await one_failed(bridge, user=ALICE)
    status, _ = await bridge.as_user(BOB, INCIDENTS).click(ts, ids.RETRY_FAILED)
    assert status == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ["254712345678", "254798765432"]


async def test_retry_by_someone_never_allowed_is_refused(bridge: Bridge) -> None:
    ts = await one_failed(bridge, user=ALICE)
    note = await click_note(bridge, CAROL, ts, ids.RETRY_FAILED, INCIDENTS)
    assert "not allowed to send to `oncall-sms`" in note
    await bridge.idle()
    assert len(deliveries(bridge)) == 1


# A broadcast reports in announce_in (here a channel where oncall-sms may not be used), so its
# failure list and Retry button sit where a fresh send to oncall-sms would be refused.
ANNOUNCED_ELSEWHERE = CONFIG.replace("announce_in: C0INCIDENT", f"announce_in: {ELSEWHERE}")


async def test_retry_from_a_slack_channel_the_channel_is_not_used_in_is_refused(
    tmp_path: Path,
) -> None:
    assert ANNOUNCED_ELSEWHERE != CONFIG
    running = await start_bridge(tmp_path, config_text=ANNOUNCED_ELSEWHERE)
    try:
        bridge = running
        bridge.emulators.talkntalk.balance = 1
        await bridge.user.shortcut(ids.BROADCAST_SHORTCUT)
        await bridge.slack.wait_for(lambda s: s.calls_to("views.open"))
        view = bridge.slack.last_view()
        assert view is not None
        values = {
            f"{ids.SEVERITY_BLOCK}.oncall": "SEV1",
            ids.TEXT_BLOCK: "Checkout is down",
            f"{ids.CHANNELS_BLOCK}.oncall": ["oncall-sms"],
        }
        assert (await bridge.user.submit(view["id"], values))[0] == 200
        await bridge.idle()
        assert len(deliveries(bridge)) == 1
        bridge.emulators.talkntalk.balance = 1000
        message = await bridge.slack.wait_for_message(ELSEWHERE, ids.RETRY_FAILED)
        requests = provider_requests(bridge)
        note = await click_note(bridge, ALICE, message.ts, ids.RETRY_FAILED, ELSEWHERE)
        assert "`oncall-sms` can only be used from <#C0INCIDENT>" in note
        await bridge.idle()
        assert provider_requests(bridge) == requests
    finally:
        await running.world.close()


@pytest.mark.parametrize("action", [ids.RETRY_FAILED, ids.RETRY_UNKNOWN])
async def test_a_retry_older_than_the_max_age_is_refused(
    bridge: Bridge, clock: Clock, action: str
) -> None:
    tnt = bridge.emulators.talkntalk
    tnt.balance = 1
    tnt.inject(status=500, body={"detail": "upstream hiccup"}, process=True)
    await slash(bridge, "oncall-sms Disk full on db-1")  # one unknown, one failed
    await bridge.idle()
    tnt.balance = 1000
    message = await bridge.slack.wait_for_message(INCIDENTS, ids.RETRY_UNKNOWN)
    requests = provider_requests(bridge)
    clock.offset = timedelta(hours=25)  # the default retry_max_age is 24h
    note = await click_note(bridge, ALICE, message.ts, action, INCIDENTS)
    assert "over 24h old" in note
    assert "run the command again for `oncall-sms`" in note  # what to do instead
    await bridge.idle()
    assert provider_requests(bridge) == requests


async def test_a_retry_within_the_max_age_goes_ahead(bridge: Bridge, clock: Clock) -> None:
    ts = await one_failed(bridge)
    clock.offset = timedelta(hours=23)
    status, _ = await bridge.user.click(ts, ids.RETRY_FAILED)
    assert status == 200
    await bridge.slack.wait_for(lambda s: len(deliveries(bridge)) == 2)


# --- Send / Cancel on a held send ---------------------------------------------------------------


async def test_confirm_by_a_requester_who_left_the_group_is_refused(bridge: Bridge) -> None:
    prompt = await slash(bridge, "everyone-sms Office closed today", user=BOB)
    assert prompt.text.endswith("Send?")
    bridge.slack.usergroups[SRE_GROUP] = []
    before = len(bridge.slack.responses)
    body = click_ephemeral_body(bridge, prompt, ids.CONFIRM_SEND, user=BOB)
    assert await send(bridge, body) == 200
    notes = await bridge.slack.wait_for(lambda s: s.responses[before:])
    assert "not allowed to send to `everyone-sms`" in str(notes[0].body["text"])
    await nothing_sent(bridge)


async def test_the_requester_may_still_cancel_after_leaving_the_group(bridge: Bridge) -> None:
    prompt = await slash(bridge, "everyone-sms Office closed today", user=BOB)
    bridge.slack.usergroups[SRE_GROUP] = []
    body = click_ephemeral_body(bridge, prompt, ids.CANCEL_SEND, user=BOB)
    assert await send(bridge, body) == 200
    await bridge.slack.wait_for(lambda s: prompt.text == "Cancelled — nothing was sent.")
    await nothing_sent(bridge)


# --- status and history -------------------------------------------------------------------------


async def queued_id(bridge: Bridge, user: str = ALICE) -> str:
    queued = await slash(bridge, "oncall-sms Disk full", user=user)
    await bridge.idle()
    return queued.text.split()[1]


async def test_status_by_a_stranger_reads_as_an_unknown_id(bridge: Bridge) -> None:
    request_id = await queued_id(bridge)
    shown = await slash(bridge, f"status {request_id}", user=CAROL, channel=ELSEWHERE)
    unknown = await slash(bridge, "status RZZZZZZZZ", user=CAROL, channel=ELSEWHERE)
    assert shown.text == unknown.text.replace("RZZZZZZZZ", request_id)
    assert shown.blocks == unknown.blocks  # nothing of the request, not even that it exists
    assert "oncall-sms" not in repr(shown.blocks) + shown.text


async def test_status_by_an_allowed_sender_of_the_channel_is_shown(bridge: Bridge) -> None:
    request_id = await queued_id(bridge, user=ALICE)
    shown = await slash(bridge, f"status {request_id}", user=BOB, channel=ELSEWHERE)
    assert f"*{request_id}*" in repr(shown.blocks)
    assert "sent 2 (of 2)" in repr(shown.blocks)


async def test_status_by_the_requester_is_shown_even_after_leaving_the_group(
    bridge: Bridge,
) -> None:
    request_id = await queued_id(bridge, user=BOB)
    bridge.slack.usergroups[SRE_GROUP] = []
    shown = await slash(bridge, f"status {request_id}", user=BOB)
    assert f"*{request_id}*" in repr(shown.blocks)
    coworker = await slash(bridge, f"status {request_id}", user=ALICE)  # allowed by id
    assert f"*{request_id}*" in repr(coworker.blocks)


async def test_history_lists_only_the_askers_own_sends(bridge: Bridge) -> None:
    request_id = await queued_id(bridge, user=ALICE)
    theirs = await slash(bridge, "history", user=BOB)
    assert request_id not in repr(theirs.blocks) + theirs.text
