"""The TalkNTalk emulator holds clients to the docs: exact paths, auth, fields, errors."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.talkntalk import DEFAULT_SESSION, TalkNTalkState, create_app

from tests.conftest import StartApp

KEY = "tk_live_emulator"
AUTH = {"Authorization": f"Bearer {KEY}"}
SMS = "/v1/sms/send/"
WA = f"/v1/whatsapp/{DEFAULT_SESSION}/send/"
GRP = f"/v1/whatsapp/{DEFAULT_SESSION}/groups/send/"
GROUP = "120363410923125768@g.us"


class Client:
    def __init__(self, url: str, session: aiohttp.ClientSession, state: TalkNTalkState) -> None:
        self.url, self.session, self.state = url, session, state

    async def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, raw: bytes = b""
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"data": raw} if raw else {"json": body}
        async with self.session.post(
            self.url + path, headers=AUTH if headers is None else headers, **kwargs
        ) as resp:
            text = await resp.text()
            try:
                return resp.status, json.loads(text)
            except json.JSONDecodeError:
                return resp.status, text


@pytest.fixture
async def emu(start_app: StartApp) -> AsyncIterator[Client]:
    state = TalkNTalkState(api_key=KEY)
    server = await start_app(create_app(state))
    async with aiohttp.ClientSession() as session:
        yield Client(server.url, session, state)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/sms/send",
        f"/v1/whatsapp/{DEFAULT_SESSION}/send",
        f"/v1/whatsapp/{DEFAULT_SESSION}/groups/send",
        "/v1/sms/send//",
        "/sms/send/",
    ],
)
async def test_paths_without_the_documented_trailing_slash_are_404(emu: Client, path: str) -> None:
    # "POST /v1/sms/send/", "POST /v1/whatsapp/{session_id}/send/", ".../groups/send/"
    status, _ = await emu.post(path, {"mobile": "254712345678", "message": "x"})
    assert status == 404
    assert emu.state.deliveries == []


async def test_get_on_a_send_path_is_405(emu: Client) -> None:
    async with emu.session.get(emu.url + SMS, headers=AUTH) as resp:
        assert resp.status == 405


@pytest.mark.parametrize("path", [SMS, WA, GRP])
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"bearer {KEY}"},
        {"Authorization": KEY},
        {"Authorization": f"Token {KEY}"},
        {"Authorization": "Bearer ключ"},
    ],
    ids=["none", "wrong", "lower-scheme", "bare", "token", "non-ascii"],
)
async def test_anything_but_the_exact_bearer_key_is_401(
    emu: Client, path: str, headers: dict[str, str]
) -> None:
    # "401 Unauthorized — authentication_failed — Missing or invalid API key"
    status, body = await emu.post(path, {}, headers=headers)
    assert status == 401
    assert body["code"] == "authentication_failed"
    assert len(emu.state.requests) == 1  # recorded all the same


async def test_sms_success_body_is_the_documented_shape(emu: Client) -> None:
    status, body = await emu.post(
        SMS,
        {"mobile": "254712345678", "message": "Hello from TalkNTalk!", "sender_id": "TALKNTALK"},
    )
    # "201 Created" {"id": ..., "mobile": ..., "sender_id": ..., "message": ..., "status": "queued",
    #  "created_at": "2026-05-20T11:30:00+03:00"}
    assert status == 201
    assert set(body) == {"id", "mobile", "sender_id", "message", "status", "created_at"}
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert (body["mobile"], body["sender_id"], body["status"]) == (
        "254712345678",
        "TALKNTALK",
        "queued",
    )
    assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None
    [delivery] = emu.state.deliveries
    assert (delivery.recipient, delivery.message_id) == ("254712345678", body["id"])


async def test_sms_without_sender_id_uses_the_default(emu: Client) -> None:
    status, body = await emu.post(SMS, {"mobile": "254712345678", "message": "x"})
    assert (status, body["sender_id"]) == (201, "TALKNTALK")


async def test_sms_charges_one_unit_then_402_when_the_wallet_is_empty(emu: Client) -> None:
    emu.state.balance = 1
    assert (await emu.post(SMS, {"mobile": "254712345678", "message": "x"}))[0] == 201
    status, body = await emu.post(SMS, {"mobile": "254712345678", "message": "x"})
    # "402 Payment Required — insufficient_balance — Wallet balance too low"
    assert (status, body["code"]) == (402, "insufficient_balance")
    assert emu.state.balance == 0
    assert len(emu.state.deliveries) == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"message": "x"}, "mobile is required"),
        ({"mobile": "254712345678"}, "message is required"),
        ({"mobile": "254712345678", "message": ""}, "message is required"),
        ({"mobile": "+254712345678", "message": "x"}, "digits only"),
        ({"mobile": "25471234", "message": "x"}, "digits only"),  # 8 digits
        ({"mobile": "1234567890123456", "message": "x"}, "digits only"),  # 16 digits
        ({"mobile": 254712345678, "message": "x"}, "mobile is required"),
        ({"mobile": "254712345678", "message": "x", "sender_id": "TWELVECHARSX"}, "sender_id"),
        ({"mobile": "254712345678", "message": "x", "sender_id": "ACME-OPS"}, "sender_id"),
        ({"mobile": "254712345678", "message": "x", "sender_id": ""}, "sender_id"),
        ({"mobile": "254712345678", "message": "x", "sender_id": None}, "sender_id"),
        (["254712345678", "x"], "JSON object"),
    ],
)
async def test_sms_bad_fields_are_400(emu: Client, body: Any, why: str) -> None:
    # "400 Bad Request — mobile or message missing, or invalid sender_id"
    status, answer = await emu.post(SMS, body)
    assert status == 400
    assert why in answer["detail"]
    assert emu.state.deliveries == []


async def test_sms_sender_id_of_eleven_letters_digits_and_spaces_is_accepted(emu: Client) -> None:
    body = {"mobile": "254712345678", "message": "x", "sender_id": "ACME Ops 24"}
    assert (await emu.post(SMS, body))[0] == 201


async def test_non_json_body_is_400(emu: Client) -> None:
    status, _ = await emu.post(SMS, raw=b"mobile=254712345678&message=x")
    assert status == 400


@pytest.mark.parametrize(
    ("path", "to", "kind"),
    [(WA, "254712345678", "text"), (WA, "254712345678", "file"), (GRP, GROUP, "voice")],
)
async def test_whatsapp_success_body_is_the_documented_shape(
    emu: Client, path: str, to: str, kind: str
) -> None:
    body: dict[str, Any] = {"to": to, "type": kind, "message": "hi"}
    if kind != "text":
        body["url"] = "https://example.com/f"
    status, answer = await emu.post(path, body)
    # {"success": true, "message_id": "3EB065B353B9493D00C9", "status": "sent",
    #  "to": "254712345678", "type": "text"}
    assert status == 201
    assert answer["success"] is True
    assert re.fullmatch(r"[0-9A-F]{20}", answer["message_id"])
    assert (answer["status"], answer["to"], answer["type"]) == ("sent", to, kind)
    assert emu.state.deliveries[0].message_id == answer["message_id"]


@pytest.mark.parametrize(
    ("path", "body", "why"),
    [
        (WA, {"to": GROUP, "type": "text", "message": "x"}, "group ID passed as to"),
        (GRP, {"to": "254712345678", "type": "text", "message": "x"}, "not a group ID"),
        (GRP, {"to": "@g.us", "type": "text", "message": "x"}, "not a group ID"),
        (WA, {"to": "+254712345678", "type": "text", "message": "x"}, "digits only"),
        (WA, {"type": "text", "message": "x"}, "to is required"),
        (WA, {"to": "254712345678", "message": "x"}, "type is required"),
        (WA, {"to": "254712345678", "type": "audio", "url": "https://e.x/a"}, "unsupported type"),
        (WA, {"to": "254712345678", "type": "document", "url": "https://e.x/a"}, "unsupported"),
        (GRP, {"to": GROUP, "type": "file", "url": "https://e.x/a"}, "unsupported type"),
        (WA, {"to": "254712345678", "type": "text"}, "message is required"),
        (GRP, {"to": GROUP, "type": "text", "message": ""}, "message is required"),
        (WA, {"to": "254712345678", "type": "image", "message": "cap"}, "url is required"),
        (GRP, {"to": GROUP, "type": "video"}, "url is required"),
        (GRP, {"to": GROUP, "type": "image", "url": "https://e.x/a", "filename": "a"}, "unknown"),
        (WA, {"to": "254712345678", "type": "text", "message": 5}, "must be a string"),
    ],
)
async def test_whatsapp_bad_fields_are_400(emu: Client, path: str, body: Any, why: str) -> None:
    # "400 Bad Request — Missing required field, unsupported type, or group ID passed as to"
    # (group: "... or to is not a group ID")
    status, answer = await emu.post(path, body)
    assert status == 400
    assert answer["success"] is False
    assert why in answer["detail"]
    assert emu.state.deliveries == []


@pytest.mark.parametrize("path", [WA, GRP])
async def test_whatsapp_session_knobs_give_404_409_502(emu: Client, path: str) -> None:
    to = GROUP if path == GRP else "254712345678"
    body = {"to": to, "type": "text", "message": "x"}
    # "404 Not Found — Session not found in your organisation"
    status, answer = await emu.post(path.replace(DEFAULT_SESSION, "unknown-session"), body)
    assert (status, answer["detail"]) == (404, "Session not found in your organisation")
    # "409 Conflict — Phone is not connected"
    emu.state.disconnected.add(DEFAULT_SESSION)
    assert (await emu.post(path, body))[0] == 409
    emu.state.disconnected.clear()
    # "502 Bad Gateway — WhatsApp provider rejected the message"
    emu.state.reject_whatsapp = True
    status, answer = await emu.post(path, body)
    assert (status, answer["detail"]) == (502, "WhatsApp provider rejected the message")
    assert emu.state.deliveries == []
