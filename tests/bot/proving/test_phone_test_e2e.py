"""``/send test-me`` and ``/send test <person>`` end to end: signed slash commands, real sends to
the emulators, receipts posted to the webhook, and one Slack message that updates per method."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from bridge_sandbox.slack import payloads

from tests.bot.bridge_kit import ALICE, BOB, CAROL, FAST, INCIDENTS, Bridge, start_bridge
from tests.bot.paging_kit import Clock
from tests.bot.receipts.test_receipts import (
    KAL_SECRET,
    RECEIPTS_CONFIG,
    TNT_SECRET,
    post_tnt,
    tnt_body,
)
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

PEOPLE = """
people:
  alice:
    phone: "+254712345678"
    whatsapp: "+919812345678"
    slack: U0ALICE001
    reach: [{via: sms-adhoc}, {via: india-wa, after: 2m}]
    quiet: {from: "22:00", until: "07:00", timezone: Africa/Nairobi}
  bob:   {phone: "0798 765 432", slack: U0BOB00002}
  carol: {phone: "+254700000003", slack: U0CAROL003}

schedules:
  primary:
    timezone: Africa/Nairobi
    rotation: {start: "2026-11-02T09:00", every: 1w, people: [bob, alice]}

escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {notify: [schedule:primary], via: [sms-adhoc], wait: 5m}
"""


async def start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Bridge:
    monkeypatch.setenv("TNT_WEBHOOK_SECRET", TNT_SECRET)
    monkeypatch.setenv("KAL_WEBHOOK_SECRET", KAL_SECRET)
    options = replace(FAST, clock=clock, page_tick=0.02)
    return await start_bridge(tmp_path, config_text=RECEIPTS_CONFIG + PEOPLE, options=options)


def shown_tests(bridge: Bridge) -> list[str]:
    return [
        m.text + str(m.blocks)
        for messages in bridge.slack.messages.values()
        for m in messages
        if m.text.startswith("Phone test of")
    ]


def only_test_message(bridge: Bridge) -> str:
    (shown,) = shown_tests(bridge)
    return shown


async def test_test_me_shows_each_method_sent_then_delivered_in_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, monkeypatch, clock)
    try:
        await bridge.as_user(ALICE).slash("/send", "test-me")
        await wait_until(lambda: len(bridge.emulators.talkntalk.deliveries) == 1, what="the SMS")
        await wait_until(lambda: len(bridge.emulators.kaleyra.deliveries) == 1, what="the WA")
        sms = bridge.emulators.talkntalk.deliveries[0]
        assert sms.recipient == "254712345678"
        assert "No reply needed" in str(sms.payload)
        assert "Test from chatops-bridge" in str(sms.payload)
        assert bridge.emulators.kaleyra.deliveries[0].recipient.endswith("919812345678")
        await wait_until(
            lambda: "waiting for the delivery report" in "".join(shown_tests(bridge)),
            what="sent, waiting",
        )
        # TalkNTalk reports the SMS delivered: its line turns to delivered.
        status, _ = await post_tnt(bridge, tnt_body(sms.message_id, "delivered"))
        assert status == 200
        await wait_until(lambda: "delivered" in only_test_message(bridge), what="delivered")
        # Kaleyra never reports: after the wait the line says so, and the test is done.
        clock.advance(timedelta(minutes=2))
        await wait_until(lambda: "Done." in only_test_message(bridge), what="done")
        shown = only_test_message(bridge)
        assert "SMS by `sms-adhoc` to +2547•••••678: :white_check_mark: delivered" in shown
        assert "WhatsApp by `india-wa`" in shown
        assert "no delivery report within 2m" in shown
        assert "+254712345678" not in shown  # numbers masked
        # Recorded like any other send, under the asker.
        recorded = await bridge.runtime.store.recent_requests(ALICE, 10)
        assert sorted(r.channel for r in recorded) == ["india-wa", "sms-adhoc"]
    finally:
        await bridge.world.close()


async def test_a_dry_wallet_shows_as_failed_with_the_providers_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, monkeypatch, clock)
    bridge.emulators.talkntalk.balance = 0
    try:
        await bridge.as_user(ALICE).slash("/send", "test-me")
        await wait_until(lambda: ":x: failed" in "".join(shown_tests(bridge)), what="the failure")
        clock.advance(timedelta(minutes=2))  # the WhatsApp line ends too
        await wait_until(lambda: "Done." in only_test_message(bridge), what="done")
        assert "top up the TalkNTalk wallet" in only_test_message(bridge)
    finally:
        await bridge.world.close()


async def test_testing_someone_else_is_for_those_who_may_page_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, monkeypatch, clock)
    try:
        refused = await slash(bridge, "test alice", user=CAROL)
        assert "You may test alice's phone only if you may page them" in refused.text
        assert "`db-outage`" in refused.text
        stranger = await slash(bridge, "test-me", user="U0NOBODY01")
        assert "You are not in people" in stranger.text
        unknown = await slash(bridge, "test dave", user=BOB)
        assert "There is nobody called `dave` in people" in unknown.text
        assert bridge.emulators.talkntalk.deliveries == []
        # Bob is in sre (by its usergroup), and db-outage pages alice: he may test her phone.
        await bridge.as_user(BOB).slash("/send", "test alice")
        await wait_until(lambda: shown_tests(bridge), what="bob's test of alice")
        assert "(asked by <@U0BOB00002>)" in only_test_message(bridge)
        await wait_until(lambda: len(bridge.emulators.talkntalk.deliveries) == 1, what="SMS")
        assert "for alice asked by bob" in str(bridge.emulators.talkntalk.deliveries[0].payload)
        clock.advance(timedelta(minutes=2))
        await wait_until(lambda: "Done." in only_test_message(bridge), what="done")
    finally:
        await bridge.world.close()


async def test_oncall_words_the_on_call_persons_rules_and_quiet_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge = await start(tmp_path, monkeypatch, Clock())
    try:
        shown = await slash(bridge, "oncall")
        # 2026-11-24: the weekly rotation (alice, bob) from Mon 2 Nov is in alice's turn.
        assert "*primary*: <@U0ALICE001> until" in shown.text
        assert "reach: sms-adhoc at once, then india-wa after 2m" in shown.text
        assert "quiet 22:00–07:00 Africa/Nairobi (holds low-urgency pages)" in shown.text
    finally:
        await bridge.world.close()


async def test_a_test_me_slack_delivers_twice_sends_once_and_posts_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    bridge = await start(tmp_path, monkeypatch, clock)
    try:
        body = payloads.slash_command(
            bridge.slack, "/send", "test-me", user=ALICE, channel=INCIDENTS
        )
        user = bridge.as_user(ALICE)
        assert (await user.send(body))[0] == 200
        await wait_until(lambda: shown_tests(bridge), what="the test message")
        assert (await user.send(body, retry_num=1))[0] == 200  # Slack's X-Slack-Retry-Num: 1
        await wait_until(
            lambda: any("already running" in e.text for e in bridge.slack.ephemerals),
            what="the retry's answer",
        )
        assert len(shown_tests(bridge)) == 1
        clock.advance(timedelta(minutes=2))
        await wait_until(lambda: "Done." in only_test_message(bridge), what="done")
        assert len(bridge.emulators.talkntalk.deliveries) == 1
        assert len(bridge.emulators.kaleyra.deliveries) == 1
    finally:
        await bridge.world.close()
