"""``/send`` end to end: signed requests to the bridge, sandbox Slack, real provider emulators."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from bot.slack import ids
from tests.bot.bridge_kit import (
    ALICE,
    BOB,
    CAROL,
    CONFIG,
    ELSEWHERE,
    INCIDENTS,
    Bridge,
    start_bridge,
)
from tests.bot.slack_steps import (
    click_ephemeral_body,
    deliveries,
    ephemeral_after,
    nothing_sent,
    provider_requests,
    roots,
    send,
    settle,
    slash,
)
from tests.clocks import HeldSleep


async def test_help_lists_usage_and_the_channels_usable_here(bridge: Bridge) -> None:
    reply = await slash(bridge, "help")
    shown = reply.text + repr(reply.blocks)
    assert "`/send &lt;channel&gt; &lt;message&gt;`" in shown
    assert "`/send status &lt;request-id&gt;`" in shown
    assert "`oncall-sms`" in shown
    assert "`/send page &lt;escalation&gt; &lt;text&gt;`" in shown
    assert "`/send ack &lt;page-id&gt;`" in shown
    assert "`/send oncall [schedule]`" in shown
    await nothing_sent(bridge)


async def test_list_shows_what_each_channel_reaches_with_masked_numbers(bridge: Bridge) -> None:
    reply = await slash(bridge, "LIST")
    shown = repr(reply.blocks)
    assert "*oncall-sms* — TalkNTalk sms" in shown
    assert "`+2547•••••678`" in shown
    assert "+254712345678" not in shown
    assert "*india-wa*" in shown


async def test_list_for_a_usergroup_member_shows_channels_allowed_to_the_group(
    bridge: Bridge,
) -> None:
    reply = await slash(bridge, "list", user=BOB)
    shown = repr(reply.blocks)
    assert "*oncall-sms*" in shown  # sre includes usergroup:S0SRE1234, which Bob is in
    assert "*india-wa*" not in shown  # only U0ALICE001 by id


async def test_ack_is_sent_before_slow_usergroup_lookups(bridge: Bridge) -> None:
    held = HeldSleep()  # usergroups.users.list answers only once released
    bridge.slack.sleep = held
    bridge.slack.set_latency("usergroups.users.list", 1.0)
    command = bridge.as_user(BOB).slash("/send", "oncall-sms Disk full")
    # Acked while any lookup is still held (the bound only catches an ack that waits for it).
    status, ack = await asyncio.wait_for(command, 10)
    assert (status, ack) == (200, None)
    held.release()
    reply = await ephemeral_after(bridge, 0, BOB)
    assert reply.text.startswith("Queued R")


async def test_empty_command_opens_the_send_modal(bridge: Bridge) -> None:
    status, ack = await bridge.user.slash("/send", "")
    assert (status, ack) == (200, None)
    view = await bridge.slack.wait_for(lambda s: s.last_view())
    assert view["callback_id"] == ids.SEND_MODAL
    assert [c.error for c in bridge.slack.calls_to("views.open")] == [None]


async def test_text_to_a_channel_is_queued_and_sent_to_its_recipients(bridge: Bridge) -> None:
    reply = await slash(bridge, 'oncall-sms   "Disk full on db-1"')
    assert reply.text.startswith("Queued R")
    assert reply.text.endswith(
        "to 2 recipients of `oncall-sms`. SMS: 1 part, GSM-7, to each. "
        "Results will be posted in this channel."
    )
    request_id = reply.text.split()[1]
    await bridge.idle()
    assert sorted(deliveries(bridge)) == ["254712345678", "254798765432"]
    bodies = [d.payload["message"] for d in bridge.emulators.talkntalk.deliveries]
    assert bodies == ["Disk full on db-1", "Disk full on db-1"]
    [root] = roots(bridge)
    assert request_id in root.text + repr(root.blocks)


async def test_numbers_send_instead_of_the_channel_recipients(bridge: Bridge) -> None:
    reply = await slash(bridge, "customers <tel:+254712345678|+254712345678>,0700000001 Hello")
    assert "to 2 recipients of `customers`" in reply.text
    await bridge.idle()
    sent = bridge.emulators.autokonnect.requests
    assert sent, "AutoKonnect received nothing"
    assert "tag" not in repr(sent[0].body)  # not the channel's own tag:42
    assert "254712345678" in repr(sent[0].body)
    assert "254700000001" in repr(sent[0].body)


async def test_status_and_history_of_an_earlier_send(bridge: Bridge) -> None:
    queued = await slash(bridge, "oncall-sms Disk full")
    request_id = queued.text.split()[1]
    await bridge.idle()
    status = await slash(bridge, f"status {request_id.lower()}")
    shown = repr(status.blocks)
    assert f"*{request_id}*" in shown
    assert "sent 2 (of 2)" in shown
    assert "`+2547•••••678` — sent" in shown
    history = await slash(bridge, "history")
    assert f"`{request_id}` · text to `oncall-sms`" in repr(history.blocks)


async def test_status_of_an_unknown_request_says_so(bridge: Bridge) -> None:
    reply = await slash(bridge, "status RZZZZZZZZ")
    assert "There is no request `RZZZZZZZZ`" in reply.text


async def test_status_without_an_id_gives_the_usage(bridge: Bridge) -> None:
    reply = await slash(bridge, "status")
    assert reply.text == "usage: /send status &lt;request-id&gt;"  # mrkdwn: shown as typed


MANY = ",".join(f"+2547000{i:05d}" for i in range(1, 52))  # 51 > max_recipients 50


@pytest.mark.parametrize(
    ("user", "channel", "text", "expected"),
    [
        (ALICE, INCIDENTS, "nosuch Hello", "There is no channel called `nosuch`"),
        (CAROL, INCIDENTS, "oncall-sms Hello", "You are not allowed to send to `oncall-sms`"),
        (ALICE, ELSEWHERE, "oncall-sms Hello", "`oncall-sms` can only be used from <#C0INCIDENT>"),
        (ALICE, INCIDENTS, "oncall-sms +254712345678 Hello", "does not take numbers of your own"),
        (ALICE, INCIDENTS, "sms-adhoc +2541234567 Hello", "`+2541234567` is not a valid number"),
        (ALICE, INCIDENTS, "sms-adhoc Hello", "has no default recipients; give numbers"),
        (ALICE, INCIDENTS, f"sms-adhoc {MANY} Hello", "That is 51 recipients; the limit is 50"),
    ],
)
async def test_each_denial_explains_itself_and_nothing_is_sent(
    bridge: Bridge, user: str, channel: str, text: str, expected: str
) -> None:
    reply = await slash(bridge, text, user=user, channel=channel)
    assert expected in reply.text
    assert reply.text.endswith("Nothing was sent.")
    assert reply.via == "response_url"
    await nothing_sent(bridge)


async def test_empty_text_explains_how_to_write_it(bridge: Bridge) -> None:
    reply = await slash(bridge, "oncall-sms   ")
    assert reply.text == (
        "Write the message after the channel name: /send oncall-sms Disk full on db-1"
    )
    await nothing_sent(bridge)


TEMPLATES_ONLY = CONFIG.replace(
    "\nbroadcasts:",
    """
  promo:
    provider: ak
    service: waba
    waba_id: "123"
    to: ["tag:42"]
    allowed_senders: [sre]
    message_types: [template]

broadcasts:""",
)


async def test_a_type_the_channel_does_not_take_is_refused(tmp_path: Path) -> None:
    bridge = await start_bridge(tmp_path, config_text=TEMPLATES_ONLY)
    try:
        reply = await slash(bridge, "promo Big sale")
        assert "`promo` does not take text messages; it takes: template." in reply.text
        await nothing_sent(bridge)
    finally:
        await bridge.world.close()


async def test_a_large_send_waits_for_confirmation_then_sends_once(bridge: Bridge) -> None:
    prompt = await slash(bridge, "everyone-sms Office closed today")
    assert prompt.text == (
        "This sends to 12 people through everyone-sms (SMS: 1 part, GSM-7, to each). Send?"
    )
    await bridge.idle()
    assert provider_requests(bridge) == 0  # held: nothing before the click
    # A double click: both clicks leave before Slack replaces the prompt.
    first = click_ephemeral_body(bridge, prompt, ids.CONFIRM_SEND)
    second = click_ephemeral_body(bridge, prompt, ids.CONFIRM_SEND)
    assert await send(bridge, first) == 200
    assert await send(bridge, second) == 200
    await bridge.slack.wait_for(lambda s: prompt.text == "Sending…")
    assert prompt.blocks == []  # the buttons are gone
    await settle(bridge, responses=2)
    assert len(deliveries(bridge)) == 12
    assert len(set(deliveries(bridge))) == 12
    assert len(roots(bridge)) == 1


async def test_cancel_on_a_held_send_sends_nothing(bridge: Bridge) -> None:
    prompt = await slash(bridge, "everyone-sms Office closed today")
    assert await send(bridge, click_ephemeral_body(bridge, prompt, ids.CANCEL_SEND)) == 200
    await bridge.slack.wait_for(lambda s: prompt.text == "Cancelled — nothing was sent.")
    await nothing_sent(bridge)


async def test_send_clicked_after_cancel_sends_nothing(bridge: Bridge) -> None:
    prompt = await slash(bridge, "everyone-sms Office closed today")
    cancel = click_ephemeral_body(bridge, prompt, ids.CANCEL_SEND)
    confirm = click_ephemeral_body(bridge, prompt, ids.CONFIRM_SEND)
    assert await send(bridge, cancel) == 200
    await bridge.slack.wait_for(lambda s: prompt.text.startswith("Cancelled"))
    assert await send(bridge, confirm) == 200
    await settle(bridge, responses=2)
    assert prompt.text == "Cancelled — nothing was sent."
    await nothing_sent(bridge)


async def test_send_clicked_on_a_stale_confirmation_sends_nothing_and_says_why(
    bridge: Bridge, tmp_path: Path
) -> None:
    prompt = await slash(bridge, "everyone-sms Office closed today")
    # The prompt sat unanswered for 20 minutes (aged in the record, as time would).
    with contextlib.closing(sqlite3.connect(tmp_path / "bridge.db")) as db, db:
        db.execute("UPDATE requests SET created_at = '2020-01-01T00:00:00.000000Z'")
    before = len(bridge.slack.responses)
    assert await send(bridge, click_ephemeral_body(bridge, prompt, ids.CONFIRM_SEND)) == 200
    note = await bridge.slack.wait_for(lambda s: s.responses[before:])
    assert "over 15 minutes old, so nothing was sent" in str(note[0].body["text"])
    await nothing_sent(bridge)
    [request] = await bridge.runtime.store.recent_requests(None)
    assert request.state.value == "cancelled"
