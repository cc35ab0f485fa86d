"""Receipts from an attacker, through the real HTTP server: odd credential headers and replays.

A header that is not ASCII must be a plain 401 (it used to raise inside the comparison and give a
500 with a traceback), and a captured signed receipt replayed with new unsigned headers must add
nothing: deduplication is keyed on the signed body, never on a header anyone can change.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.store.base import RecipientStatus
from providers.talkntalk_receipts import talkntalk_signature
from tests.bot.bridge_kit import Bridge, start_bridge
from tests.bot.receipts.test_receipts import (
    KAL_SECRET,
    RECEIPTS_CONFIG,
    TNT_SECRET,
    bridge_rx,
    post,
    sent_request,
    statuses,
    tnt_body,
)
from tests.bot.receipts.test_receipts_kaleyra import kal_callback

__all__ = ["bridge_rx"]  # the fixture, re-exported for pytest

# Header values as raw bytes: UTF-8 letters, and bytes that are not UTF-8 at all (aiohttp turns
# those into lone surrogates, which ``str.encode()`` refuses).
HOSTILE = [
    b"sha256=\xc3\xa9" + b"0" * 63,
    b"\xff\xfe\xfd",
    "ünïcödé-SECRET".encode(),
    b"Basic \xff\xfe",
    b"Basic " + base64.b64encode("kaleyra:pässwörd\xff".encode("utf-8", "surrogateescape")),
]


async def raw_post(bridge: Bridge, path: str, headers: dict[str, bytes], body: bytes) -> bytes:
    """One HTTP/1.1 request written byte for byte (clients refuse to send such headers)."""
    url = urlsplit(bridge.world.bridge.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        lines = [f"POST {path} HTTP/1.1".encode(), f"Host: {url.netloc}".encode()]
        lines += [name.encode() + b": " + value for name, value in headers.items()]
        lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close", b"", b""]
        writer.write(b"\r\n".join(lines) + body)
        await writer.drain()
        return await asyncio.wait_for(reader.read(1 << 16), timeout=10)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


async def assert_all_refused(bridge: Bridge, path: str, name: str, body: bytes) -> None:
    for value in HOSTILE:
        response = await raw_post(bridge, path, {name: value}, body)
        assert status_of(response) == 401, response
        assert b'"ok": false' in response


@pytest.mark.parametrize("name", ["X-TalkNTalk-Signature", "X-Webhook-Secret"])
async def test_non_ascii_credential_headers_get_401_without_a_traceback(
    bridge_rx: Bridge, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    path, body = ("/webhooks/tnt", tnt_body(recipients[0].provider_message_id, "delivered"))
    if name == "X-Webhook-Secret":
        path, body = ("/webhooks/kal", json.dumps(kal_callback(recipients[0], "read")).encode())
    await assert_all_refused(bridge_rx, path, name, body)
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.SENT] * 2


async def test_non_ascii_basic_auth_gets_401_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TNT_WEBHOOK_SECRET", TNT_SECRET)
    monkeypatch.setenv("KAL_WEBHOOK_SECRET", KAL_SECRET)
    text = RECEIPTS_CONFIG.replace(
        "    webhook_secret: ${KAL_WEBHOOK_SECRET}\n",
        "    webhook_secret: ${KAL_WEBHOOK_SECRET}\n    webhook_username: kaleyra\n",
    )
    bridge = await start_bridge(tmp_path, config_text=text)
    try:
        body = json.dumps({"status": "read", "message_id": "x"}).encode()
        await assert_all_refused(bridge, "/webhooks/kal", "Authorization", body)
    finally:
        await bridge.world.close()
    assert "Traceback" not in caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def receipt_rows(tmp_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(tmp_path / "bridge.db")) as db, db:
        return int(db.execute("SELECT COUNT(*) FROM receipts").fetchone()[0])


async def test_a_replayed_receipt_with_new_unsigned_headers_adds_one_row(
    bridge_rx: Bridge, tmp_path: Path
) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    body = tnt_body(recipients[0].provider_message_id, "delivered")
    signature = {"X-TalkNTalk-Signature": talkntalk_signature(TNT_SECRET, body)}
    before = receipt_rows(tmp_path)
    assert (await post(bridge_rx, "tnt", body, signature))[1]["applied"] == 1
    await bridge_rx.idle()
    updates = len(bridge_rx.slack.calls_to("chat.update"))
    for i in range(200):
        unsigned = {
            "X-TalkNTalk-Delivery": f"dlv-{i}",
            "X-TalkNTalk-Delivery-Id": f"id-{i}",
            "X-TalkNTalk-Event-Id": f"evt-{i}",
            "X-TalkNTalk-Event": f"sms.replay{i}",
        }
        answer = await post(bridge_rx, "tnt", body, {**signature, **unsigned})
        assert answer == (200, {"ok": True, "applied": 0, "events": 1})
    await bridge_rx.idle()
    assert receipt_rows(tmp_path) == before + 1
    assert await statuses(bridge_rx, request_id) == [
        RecipientStatus.DELIVERED,
        RecipientStatus.SENT,
    ]
    assert len(bridge_rx.slack.calls_to("chat.update")) == updates
