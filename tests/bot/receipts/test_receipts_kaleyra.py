"""Kaleyra WhatsApp callbacks end to end: sent through ``india-wa``, then callbacks carrying our
ref (or Kaleyra's message id) posted to ``/webhooks/kal`` with the shared secret or Basic auth.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from bot.store.base import RecipientRecord, RecipientStatus
from tests.bot.bridge_kit import Bridge, start_bridge
from tests.bot.receipts.test_receipts import (
    KAL_SECRET,
    RECEIPTS_CONFIG,
    TNT_SECRET,
    bridge_rx,
    post,
    root_text,
    sent_request,
    statuses,
)

__all__ = ["bridge_rx"]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def kal_callback(
    recipient: RecipientRecord, status: str, *, with_id: bool = True
) -> dict[str, Any]:
    entry = {"status": status, "timestamp": "1603104327", "recipient_id": "919812345678"}
    if with_id:
        entry["id"] = recipient.provider_message_id or ""
    return {
        "meta_object": {"value": {"statuses": [entry]}},
        "extra_info": {"ref": recipient.ref, "wa_source": "api"},
    }


async def test_kaleyra_callbacks_with_our_ref_count_delivered_then_read(bridge_rx: Bridge) -> None:
    request_id, (recipient,) = await sent_request(bridge_rx, "india-wa +919812345678 Hello")
    header = {"X-Webhook-Secret": KAL_SECRET}
    # Matched by our ref alone (no message id in the callback).
    body = json.dumps(kal_callback(recipient, "delivered", with_id=False)).encode()
    assert (await post(bridge_rx, "kal", body, header))[1]["applied"] == 1
    await bridge_rx.idle()
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.DELIVERED]
    assert "delivered 1" in root_text(bridge_rx)
    # The top-level form, matched by the message id.
    top = {"status": "read", "message_id": recipient.provider_message_id}
    assert (await post(bridge_rx, "kal", json.dumps(top).encode(), header))[1]["applied"] == 1
    await bridge_rx.idle()
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.READ]
    assert "read 1" in root_text(bridge_rx)


async def test_kaleyra_callbacks_with_a_wrong_or_missing_secret_get_401(bridge_rx: Bridge) -> None:
    request_id, (recipient,) = await sent_request(bridge_rx, "india-wa +919812345678 Hello")
    body = json.dumps(kal_callback(recipient, "read")).encode()
    for headers in ({}, {"X-Webhook-Secret": "guess"}, {"Authorization": "Basic a2FsOng="}):
        assert (await post(bridge_rx, "kal", body, headers))[0] == 401
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.SENT]


async def test_kaleyra_basic_auth_when_a_webhook_username_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TNT_WEBHOOK_SECRET", TNT_SECRET)
    monkeypatch.setenv("KAL_WEBHOOK_SECRET", KAL_SECRET)
    text = RECEIPTS_CONFIG.replace(
        "    webhook_secret: ${KAL_WEBHOOK_SECRET}\n",
        "    webhook_secret: ${KAL_WEBHOOK_SECRET}\n    webhook_username: kaleyra\n",
    )
    bridge = await start_bridge(tmp_path, config_text=text)
    try:
        request_id, (recipient,) = await sent_request(bridge, "india-wa +919812345678 Hello")
        body = json.dumps(kal_callback(recipient, "delivered")).encode()
        auth = basic("kaleyra", KAL_SECRET)
        wrong = basic("kaleyra", "nope")
        assert (await post(bridge, "kal", body, {"X-Webhook-Secret": KAL_SECRET}))[0] == 401
        assert (await post(bridge, "kal", body, {"Authorization": wrong}))[0] == 401
        assert await statuses(bridge, request_id) == [RecipientStatus.SENT]
        assert (await post(bridge, "kal", body, {"Authorization": auth}))[1]["applied"] == 1
        assert await statuses(bridge, request_id) == [RecipientStatus.DELIVERED]
    finally:
        await bridge.world.close()


async def test_kaleyra_failed_callback_reports_whatsapps_reason(bridge_rx: Bridge) -> None:
    request_id, (recipient,) = await sent_request(bridge_rx, "india-wa +919812345678 Hello")
    callback = kal_callback(recipient, "failed")
    callback["meta_object"]["value"]["statuses"][0]["errors"] = [
        {"code": 131026, "title": "Message undeliverable"}
    ]
    headers = {"X-Webhook-Secret": KAL_SECRET}
    assert (await post(bridge_rx, "kal", json.dumps(callback).encode(), headers))[0] == 200
    (failed,) = await bridge_rx.runtime.store.recipients(request_id)
    assert failed.status is RecipientStatus.FAILED
    assert failed.reason == "WhatsApp could not deliver the message (Message undeliverable)"
    assert failed.code == "131026"
