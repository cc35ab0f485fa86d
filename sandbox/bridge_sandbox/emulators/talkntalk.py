"""TalkNTalk stand-in: SMS and WhatsApp one/group sends, strictly as docs/providers/talkntalk-*.txt.

Why strict: an adapter that passes against a lenient fake fails against the real API, so paths
(with their trailing slash), auth, required fields and the documented errors are all enforced
here. Knobs on ``TalkNTalkState`` produce each documented error on demand.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from bridge_sandbox.emulators import common
from bridge_sandbox.emulators.common import STATE_KEY, Delivery, EmulatorState, Fault

DEFAULT_SESSION = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
EAT = timezone(timedelta(hours=3))  # the doc's created_at is in +03:00

SENDER_ID = re.compile(r"[A-Za-z0-9 ]{1,11}")
MOBILE = re.compile(r"[0-9]{9,15}")  # "international format (254XXXXXXXXX)": digits only
GROUP_ID = re.compile(r"[0-9A-Za-z_\-]+@g\.us")
WA_TYPES = frozenset(
    {"text", "image", "video", "voice", "file"}
)  # "text, image, video, voice, or file"
GROUP_TYPES = frozenset({"text", "image", "video", "voice"})  # "text, image, video, or voice"
WA_FIELDS = frozenset({"to", "type", "message", "url", "filename", "mime_type"})
GROUP_FIELDS = frozenset({"to", "type", "message", "url", "mime_type"})


@dataclass
class TalkNTalkState(EmulatorState):
    """Knobs for TalkNTalk's documented errors (reset() keeps them; it clears what was recorded)."""

    sessions: set[str] = field(default_factory=lambda: {DEFAULT_SESSION})
    disconnected: set[str] = field(default_factory=set)  # known sessions whose phone is offline
    balance: int = 1_000_000  # wallet units; each SMS costs 1; at 0 -> 402 insufficient_balance
    reject_whatsapp: bool = False  # 502 "WhatsApp provider rejected the message"
    default_sender_id: str = "TALKNTALK"  # "Defaults to your organisation's default sender ID"


def _state(request: web.Request) -> TalkNTalkState:
    state = request.app[STATE_KEY]
    assert isinstance(state, TalkNTalkState)
    return state


def _error(
    status: int, detail: str, code: str | None = None, extra: dict[str, Any] | None = None
) -> web.Response:
    body: dict[str, Any] = {**(extra or {}), "detail": detail}
    if code:
        body["code"] = code
    return common.json_response(status, body)


def _authorized(request: web.Request) -> bool:
    expected = f"Bearer {_state(request).api_key}"
    given = request.headers.get("Authorization", "")
    return secrets.compare_digest(given.encode(), expected.encode())


async def _prelude(
    request: web.Request, failure: dict[str, Any]
) -> tuple[web.StreamResponse | None, Any, Fault | None]:
    """Record, then shared misbehaviour, auth and rate limit: (early answer, body, fault)."""
    _, body = await common.record(request)
    state = _state(request)
    fault = state.next_fault()
    early = await common.apply_fault_before(request, fault)
    if early is not None:
        return early, body, fault
    if not _authorized(request):
        denied = _error(401, "Missing or invalid API key", "authentication_failed", failure)
        return denied, body, fault
    limited = common.rate_limited(
        request, {**failure, "detail": "Rate limit exceeded — retry after the Retry-After header"}
    )
    if limited is not None:
        return limited, body, fault
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object", extra=failure), body, fault
    return None, body, fault


async def send_sms(request: web.Request) -> web.StreamResponse:
    """POST /v1/sms/send/ — 201 with a uuid id and status queued; one unit off the wallet."""
    early, body, fault = await _prelude(request, {})
    if early is not None:
        return early
    state = _state(request)
    mobile, text = body.get("mobile"), body.get("message")
    if not isinstance(mobile, str) or not mobile:
        return _error(400, "mobile is required")
    if not MOBILE.fullmatch(mobile):
        return _error(400, "mobile must be in international format, digits only (254XXXXXXXXX)")
    if not isinstance(text, str) or not text:
        return _error(400, "message is required")
    sender_id = body.get("sender_id", ...)
    if sender_id is not ... and not (isinstance(sender_id, str) and SENDER_ID.fullmatch(sender_id)):
        return _error(400, "invalid sender_id")
    if state.balance < 1:
        return _error(402, "Wallet balance too low", "insufficient_balance")
    state.balance -= 1
    message_id = str(uuid.uuid4())
    state.deliveries.append(Delivery(mobile, message_id, body, time.monotonic()))
    after = await common.apply_fault_after(request, fault)
    if after is not None:
        return after
    return common.json_response(
        201,
        {
            "id": message_id,
            "mobile": mobile,
            "sender_id": sender_id if isinstance(sender_id, str) else state.default_sender_id,
            "message": text,
            "status": "queued",
            "created_at": datetime.now(EAT).isoformat(timespec="seconds"),
        },
    )


def _whatsapp_problem(body: dict[str, Any], group: bool) -> str | None:
    """Why the WhatsApp body is a 400, or None when it is fine."""
    fields = GROUP_FIELDS if group else WA_FIELDS
    unknown = sorted(set(body) - fields)
    if unknown:
        return f"unknown field(s): {', '.join(unknown)}"
    to, kind = body.get("to"), body.get("type")
    if not isinstance(to, str) or not to:
        return "to is required"
    if group and not GROUP_ID.fullmatch(to):
        return "to is not a group ID (a group chat_id ends in @g.us)"
    if not group and to.endswith("@g.us"):
        return "group ID passed as to — use the groups endpoint"
    if not group and not MOBILE.fullmatch(to):
        return "to must be in international format, digits only (254XXXXXXXXX)"
    if not isinstance(kind, str) or not kind:
        return "type is required"
    if kind not in (GROUP_TYPES if group else WA_TYPES):
        return f"unsupported type {kind!r}"
    for name in ("message", "url", "filename", "mime_type"):
        if name in body and not isinstance(body[name], str):
            return f"{name} must be a string"
    if kind == "text" and not body.get("message"):
        return "message is required for type text"
    if kind != "text" and not body.get("url"):
        return f"url is required for type {kind}"
    return None


async def _send_whatsapp(request: web.Request, group: bool) -> web.StreamResponse:
    failure: dict[str, Any] = {"success": False}
    early, body, fault = await _prelude(request, failure)
    if early is not None:
        return early
    state = _state(request)
    session_id = request.match_info["session_id"]
    if session_id not in state.sessions:
        return _error(404, "Session not found in your organisation", extra=failure)
    problem = _whatsapp_problem(body, group)
    if problem is not None:
        return _error(400, problem, extra=failure)
    if session_id in state.disconnected:
        return _error(409, "Phone is not connected", extra=failure)
    if state.reject_whatsapp:
        return _error(502, "WhatsApp provider rejected the message", extra=failure)
    message_id = secrets.token_hex(10).upper()  # like "3EB065B353B9493D00C9"
    state.deliveries.append(Delivery(body["to"], message_id, body, time.monotonic()))
    after = await common.apply_fault_after(request, fault)
    if after is not None:
        return after
    return common.json_response(
        201,
        {
            "success": True,
            "message_id": message_id,
            "status": "sent",
            "to": body["to"],
            "type": body["type"],
        },
    )


async def send_whatsapp(request: web.Request) -> web.StreamResponse:
    """POST /v1/whatsapp/{session_id}/send/ — one number; a group id here is a 400."""
    return await _send_whatsapp(request, group=False)


async def send_group(request: web.Request) -> web.StreamResponse:
    """POST /v1/whatsapp/{session_id}/groups/send/ — one group; a number here is a 400."""
    return await _send_whatsapp(request, group=True)


def create_app(state: TalkNTalkState | None = None) -> web.Application:
    """The TalkNTalk emulator; only the documented paths exist (no-slash forms are 404)."""
    app = common.new_app(state or TalkNTalkState())
    app.router.add_post("/v1/sms/send/", send_sms)
    app.router.add_post("/v1/whatsapp/{session_id}/send/", send_whatsapp)
    app.router.add_post("/v1/whatsapp/{session_id}/groups/send/", send_group)
    return app
