"""``POST /webhooks/{account}`` end to end: a whole bridge on loopback, signed TalkNTalk receipts
and Kaleyra callbacks posted over HTTP, the send record and the Slack root message read back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import metrics
from bot.store.base import NewRequest, RecipientRecord, RecipientStatus, Surface
from config.numbers import mask_address
from providers.base import Message, Outcome, OutcomeStatus, Recipient, Route, Service
from providers.talkntalk_receipts import talkntalk_signature
from tests.bot.bridge_kit import ALICE, CONFIG, Bridge, start_bridge
from tests.bot.slack_steps import roots, slash
from tests.clocks import HeldSleep

TNT_SECRET = "tnt-webhook-secret-SECRET-9"
KAL_SECRET = "kal-webhook-secret-SECRET-8"

RECEIPTS_CONFIG = CONFIG.replace(
    "    base_url: ${TNT_URL}\n",
    "    base_url: ${TNT_URL}\n    webhook_secret: ${TNT_WEBHOOK_SECRET}\n",
).replace(
    "    base_url: ${KAL_URL}\n",
    "    base_url: ${KAL_URL}\n    webhook_secret: ${KAL_WEBHOOK_SECRET}\n",
)
assert RECEIPTS_CONFIG.count("webhook_secret") == 2


@pytest.fixture
async def bridge_rx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bridge]:
    """A bridge whose tnt and kal accounts take receipts (secrets from the environment)."""
    monkeypatch.setenv("TNT_WEBHOOK_SECRET", TNT_SECRET)
    monkeypatch.setenv("KAL_WEBHOOK_SECRET", KAL_SECRET)
    running = await start_bridge(tmp_path, config_text=RECEIPTS_CONFIG)
    try:
        yield running
    finally:
        await running.world.close()


async def post(
    bridge: Bridge, account: str, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    url = f"{bridge.world.bridge.url}/webhooks/{account}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers or {}) as response,
    ):
        return response.status, await response.json()


def tnt_body(message_id: Any, status: str, event: str | None = None, **data: Any) -> bytes:
    payload = {
        "event": event or f"sms.{status}",
        "timestamp": "2026-05-20T11:31:02+03:00",
        "data": {"id": message_id, "mobile": "254712345678", "status": status, **data},
    }
    return json.dumps(payload).encode()


async def post_tnt(
    bridge: Bridge, body: bytes, *, secret: str = TNT_SECRET, prefix: str = "sha256="
) -> tuple[int, Any]:
    headers = {"X-TalkNTalk-Signature": prefix + talkntalk_signature(secret, body)}
    return await post(bridge, "tnt", body, {**headers, "X-TalkNTalk-Event": "sms.x"})


async def sent_request(bridge: Bridge, text: str) -> tuple[str, list[RecipientRecord]]:
    """``/send <text>`` by Alice, sent to the end; its request id and recipients."""
    reply = await slash(bridge, text)
    assert reply.text.startswith("Queued R"), reply.text
    await bridge.idle()
    (record,) = await bridge.runtime.store.recent_requests(ALICE, 1)
    recipients = await bridge.runtime.store.recipients(record.request_id)
    assert all(r.status is RecipientStatus.SENT and r.provider_message_id for r in recipients)
    return record.request_id, recipients


async def statuses(bridge: Bridge, request_id: str) -> list[RecipientStatus]:
    return [r.status for r in await bridge.runtime.store.recipients(request_id)]


def root_text(bridge: Bridge) -> str:
    (root,) = roots(bridge)
    return root.text + json.dumps(root.blocks, ensure_ascii=False)


def receipts_counted(account: str, status: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "bridge_receipts_total", {"provider": account, "status": status}
    )
    return value or 0.0


# --- TalkNTalk SMS ----------------------------------------------------------------------------


async def test_signed_sms_receipts_show_as_delivered_in_the_root_message(
    bridge_rx: Bridge,
) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    assert "delivered" not in root_text(bridge_rx)
    before = receipts_counted("tnt", "delivered")
    for prefix, r in zip(("sha256=", ""), recipients, strict=True):  # both signature forms
        body = tnt_body(r.provider_message_id, "delivered")
        assert await post_tnt(bridge_rx, body, prefix=prefix) == (
            200,
            {"ok": True, "applied": 1, "events": 1},
        )
    await bridge_rx.idle()
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.DELIVERED] * 2
    assert "delivered 2" in root_text(bridge_rx)
    assert "sent 2/2" in root_text(bridge_rx)  # delivered still counts as accepted
    assert receipts_counted("tnt", "delivered") == before + 2


async def test_queued_and_sent_receipts_keep_a_sent_message_sent(bridge_rx: Bridge) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    message_id = recipients[0].provider_message_id
    for status in ("queued", "sent"):
        assert (await post_tnt(bridge_rx, tnt_body(message_id, status)))[0] == 200
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.SENT] * 2


async def test_a_repeated_receipt_changes_nothing(bridge_rx: Bridge) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    body = tnt_body(recipients[0].provider_message_id, "delivered")
    assert (await post_tnt(bridge_rx, body))[1]["applied"] == 1
    await bridge_rx.idle()
    updates = len(bridge_rx.slack.calls_to("chat.update"))
    assert await post_tnt(bridge_rx, body) == (200, {"ok": True, "applied": 0, "events": 1})
    await bridge_rx.idle()
    assert await statuses(bridge_rx, request_id) == [
        RecipientStatus.DELIVERED,
        RecipientStatus.SENT,
    ]
    assert len(bridge_rx.slack.calls_to("chat.update")) == updates


async def test_a_late_sent_never_downgrades_a_delivered_message(bridge_rx: Bridge) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    message_id = recipients[0].provider_message_id
    assert (await post_tnt(bridge_rx, tnt_body(message_id, "delivered")))[1]["applied"] == 1
    assert await post_tnt(bridge_rx, tnt_body(message_id, "sent")) == (
        200,
        {"ok": True, "applied": 0, "events": 1},
    )
    assert (await statuses(bridge_rx, request_id))[0] is RecipientStatus.DELIVERED


async def test_a_failed_receipt_moves_a_sent_message_to_failed_with_the_reason(
    bridge_rx: Bridge,
) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    body = tnt_body(recipients[1].provider_message_id, "undelivered", event="sms.failed")
    assert (await post_tnt(bridge_rx, body))[1]["applied"] == 1
    await bridge_rx.idle()
    failed = (await bridge_rx.runtime.store.recipients(request_id))[1]
    assert failed.status is RecipientStatus.FAILED
    assert failed.reason == "the network reported the message undelivered"
    assert "failed 1" in root_text(bridge_rx)


async def test_a_receipt_before_the_send_is_recorded_is_applied_when_it_lands(
    bridge_rx: Bridge,
) -> None:
    # TalkNTalk may post data.id as an integer; the send answered the same id as a string.
    assert await post_tnt(bridge_rx, tnt_body(12345, "delivered")) == (
        200,
        {"ok": True, "applied": 0, "events": 1},
    )
    store = bridge_rx.runtime.store
    recipient = Recipient(address="+254712345678", ref="RPARKED01-0")
    record = NewRequest(
        request_id="RPARKED01",
        surface=Surface.CLI,
        user_id=None,
        channel="oncall-sms",
        account="tnt",
        route=Route(service=Service.SMS, sender_id="ACME"),
        message=Message(text="Disk full"),
    )
    await store.create_request(record, [recipient], None)
    await store.attempt_started("RPARKED01", [recipient], 1)
    assert await statuses(bridge_rx, "RPARKED01") == [RecipientStatus.IN_FLIGHT]
    sent = Outcome(recipient=recipient, status=OutcomeStatus.SENT, provider_message_id="12345")
    await store.outcomes_recorded("RPARKED01", [sent])
    assert await statuses(bridge_rx, "RPARKED01") == [RecipientStatus.DELIVERED]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-TalkNTalk-Signature": ""},
        {"X-TalkNTalk-Signature": "sha256=" + talkntalk_signature("wrong-secret", b"{}")},
    ],
    ids=["missing", "empty", "wrong-secret"],
)
async def test_unsigned_or_wrongly_signed_receipts_get_401_and_change_nothing(
    bridge_rx: Bridge, headers: dict[str, str]
) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    body = tnt_body(recipients[0].provider_message_id, "delivered")
    if headers.get("X-TalkNTalk-Signature"):
        headers = {"X-TalkNTalk-Signature": "sha256=" + talkntalk_signature("wrong", body)}
    status, answer = await post(bridge_rx, "tnt", body, headers)
    assert status == 401
    assert answer["ok"] is False
    assert TNT_SECRET not in json.dumps(answer)
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.SENT] * 2
    # Nothing was recorded either: the same event, properly signed, still applies.
    assert (await post_tnt(bridge_rx, body))[1]["applied"] == 1


async def test_a_tampered_body_gets_401_and_changes_nothing(bridge_rx: Bridge) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    signed = tnt_body(recipients[0].provider_message_id, "failed")
    tampered = tnt_body(recipients[0].provider_message_id, "delivered")
    headers = {"X-TalkNTalk-Signature": talkntalk_signature(TNT_SECRET, signed)}
    assert (await post(bridge_rx, "tnt", tampered, headers))[0] == 401
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.SENT] * 2


async def test_signed_malformed_json_gets_400(bridge_rx: Bridge) -> None:
    status, answer = await post_tnt(bridge_rx, b'{"event": "sms.delivered", ')
    assert status == 400
    assert answer == {"ok": False, "error": "the body is not valid JSON"}


async def test_events_other_than_sms_statuses_are_acknowledged_and_ignored(
    bridge_rx: Bridge,
) -> None:
    body = json.dumps({"event": "wallet.low", "data": {"balance": 3}}).encode()
    status, answer = await post_tnt(bridge_rx, body)
    assert status == 200
    assert answer["applied"] == 0
    assert "not an SMS status" in answer["ignored"]


async def test_receipts_are_answered_without_waiting_on_slack_and_log_no_secret_or_number(
    bridge_rx: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    _, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    caplog.set_level(logging.DEBUG)
    held = HeldSleep()  # every Slack call from now on waits until released
    bridge_rx.slack.sleep = held
    bridge_rx.slack.set_latency("*", 1.0)
    for r in recipients * 5:
        answer = post_tnt(bridge_rx, tnt_body(r.provider_message_id, "delivered"))
        # The generous bound catches an answer that waits for Slack (held: it never would).
        assert (await asyncio.wait_for(answer, 10))[0] == 200
    await post(bridge_rx, "tnt", tnt_body("x", "delivered"), {"X-TalkNTalk-Signature": "00"})
    held.release()
    bridge_rx.slack.set_latency("*", 0)
    await bridge_rx.idle()
    assert f"receipt delivered for {mask_address('254712345678')}" in caplog.text
    for secret in (TNT_SECRET, "254712345678", "254798765432"):
        assert secret not in caplog.text


# --- accounts that take no receipts -----------------------------------------------------------


async def test_autokonnect_answers_404_explaining_it_cannot_report_delivery(
    bridge_rx: Bridge,
) -> None:
    status, answer = await post(bridge_rx, "ak", b"{}")
    assert status == 404
    assert answer["ok"] is False
    assert answer["error"].startswith("AutoKonnect cannot report delivery")


async def test_an_unknown_account_name_answers_404(bridge_rx: Bridge) -> None:
    status, answer = await post(bridge_rx, "nope", b"{}")
    assert (status, answer["ok"]) == (404, False)
    assert "no provider account named 'nope'" in answer["error"]


async def test_accounts_without_a_webhook_secret_refuse_receipts_with_404(bridge: Bridge) -> None:
    body = tnt_body("1", "delivered")
    headers = {"X-TalkNTalk-Signature": talkntalk_signature("", body)}
    for account in ("tnt", "kal"):
        status, answer = await post(bridge, account, body, headers)
        assert (status, answer) == (
            404,
            {"ok": False, "error": f"receipts not configured for {account}: set webhook_secret"},
        )
