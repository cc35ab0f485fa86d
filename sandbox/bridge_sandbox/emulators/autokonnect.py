"""AutoKonnect WABA messages API stand-in (docs/providers/autokonnect-waba-messages.txt).

Strict where the doc is definite: ``POST /api/v1/whatsapp/{id}/messages`` with no trailing slash,
``Authorization: Bearer``, the documented error codes in a sensible order, tag expansion with
merge and dedupe, and ``recipients_count``. Where the doc is silent the choices are:

* Error body: ``{"error": "<code>", "message": "<message>"}``; the two code-less errors
  (404 WABA channel not found, 500) carry only ``message``.
* ``template_id``: a JSON number, or a string of digits (as a lenient server would parse it); any
  other string gets ``invalid_template_id_format`` — the doc's own ``"promo_template"`` example
  included, since the table and the error list say it must be a number.
* ``interactive``: no error code is documented, so a missing or malformed payload gets the
  emulator's own ``missing_interactive`` / ``invalid_interactive``.
* A number is valid with 7 to 15 digits once non-digits are stripped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bridge_sandbox.emulators import common
from bridge_sandbox.emulators.common import Delivery, EmulatorState, json_response

PATH = "/api/v1/whatsapp/{waba_id}/messages"
TYPES = frozenset(
    {"text", "image", "video", "audio", "document", "template", "interactive"},
)
MEDIA = frozenset({"image", "video", "audio", "document"})
INTERACTIVE_TYPES = frozenset({"button", "list", "product_list", "product"})
ERROR_MESSAGES = {
    "missing_type": "type field is required",
    "missing_recipient": "Neither phone_number nor contact_tag_id was provided",
    "no_valid_recipients": "Tag(s) resolved to zero contacts with valid phone numbers",
    "invalid_type": "Message type is not supported",
    "missing_message": "message is required for text type",
    "missing_link": "link is required for media types",
    "missing_template_id": "template_id is required for template type",
    "invalid_template_id_format": "template_id must be a number",
    "missing_components": "components is required for template type",
    "template_not_approved": "The specified template is not approved",
    "reconnect_waba": "WABA channel is disconnected",
    "invalid_auth_header": "Missing or malformed Authorization header",
    "invalid_api_key": "Invalid API key",
    "credential_resource_mismatch": "WABA does not belong to the authenticated company",
    "template_not_found": "Template ID not found for this company",
    # Not in the doc's table: the emulator's own codes for a bad interactive payload.
    "missing_interactive": "interactive is required for interactive type",
    "invalid_interactive": "interactive needs a type, a body and an action",
}
_BEARER = re.compile(r"^Bearer (\S+)$")


def _default_tags() -> dict[str, list[str]]:
    # 42 reaches three numbers; 57 reaches two, one of them also in 42 (dedupe is visible).
    return {
        "42": ["+254700000001", "+254700000002", "+254700000003"],
        "57": ["+254700000003", "+254700000004"],
    }


@dataclass
class AutoKonnectState(EmulatorState):
    """The company behind the API key: its WABA channels, templates and contact tags."""

    wabas: set[str] = field(default_factory=lambda: {"123"})
    foreign_wabas: set[str] = field(default_factory=set)  # exist, but another company's: 403
    disconnected_wabas: set[str] = field(default_factory=set)  # 400 reconnect_waba
    templates: dict[int, bool] = field(default_factory=lambda: {123: True, 124: False})
    tags: dict[str, list[str]] = field(default_factory=_default_tags)


STATE_KEY = web.AppKey("autokonnect_state", AutoKonnectState)


class _Refused(Exception):
    """An error answer, raised from the checks so the handler reads top to bottom."""

    def __init__(self, status: int, code: str | None, message: str = "") -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code or "", "")

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message}
        if self.code:
            body = {"error": self.code, **body}
        return json_response(self.status, body)


def _check_auth(request: web.Request, state: AutoKonnectState) -> None:
    match = _BEARER.match(request.headers.get("Authorization", ""))
    if match is None:
        raise _Refused(401, "invalid_auth_header")
    if match.group(1) != state.api_key:
        raise _Refused(401, "invalid_api_key")


def _check_waba(waba_id: str, state: AutoKonnectState) -> None:
    if waba_id in state.foreign_wabas:
        raise _Refused(403, "credential_resource_mismatch")
    if waba_id not in state.wabas and waba_id not in state.disconnected_wabas:
        raise _Refused(404, None, "WABA channel ID not found")
    if waba_id in state.disconnected_wabas:
        raise _Refused(400, "reconnect_waba")


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _check_body(body: dict[str, Any], state: AutoKonnectState) -> None:
    """The error table's checks, first failure wins: type, recipients, then per type."""
    kind = body.get("type")
    if not _present(kind):
        raise _Refused(400, "missing_type")
    if not _present(body.get("phone_number")) and not _present(body.get("contact_tag_id")):
        raise _Refused(400, "missing_recipient")
    if not isinstance(kind, str) or kind not in TYPES:
        raise _Refused(400, "invalid_type")
    if kind == "text" and not (isinstance(body.get("message"), str) and body["message"].strip()):
        raise _Refused(400, "missing_message")
    if kind in MEDIA and not (isinstance(body.get("link"), str) and body["link"].strip()):
        raise _Refused(400, "missing_link")
    if kind == "template":
        _check_template(body, state)
    if kind == "interactive":
        _check_interactive(body.get("interactive"))


def _check_template(body: dict[str, Any], state: AutoKonnectState) -> None:
    raw = body.get("template_id")
    if not _present(raw):
        raise _Refused(400, "missing_template_id")
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and raw.isascii() and raw.isdigit())
    ):
        raise _Refused(400, "invalid_template_id_format")
    if not isinstance(body.get("components"), list):
        raise _Refused(400, "missing_components")
    approved = state.templates.get(int(raw))
    if approved is None:
        raise _Refused(404, "template_not_found")
    if not approved:
        raise _Refused(400, "template_not_approved")


def _check_interactive(interactive: Any) -> None:
    if not isinstance(interactive, dict):
        raise _Refused(400, "missing_interactive")
    if (
        interactive.get("type") not in INTERACTIVE_TYPES
        or not isinstance(interactive.get("body"), dict)
        or not isinstance(interactive.get("action"), dict)
    ):
        raise _Refused(400, "invalid_interactive")


def _resolve(body: dict[str, Any], state: AutoKonnectState) -> list[str]:
    """Numbers from phone_number and from the tags, digits only, merged and deduplicated."""
    found: list[str] = []
    raw_numbers = body.get("phone_number")
    for value in _as_list(raw_numbers) if _present(raw_numbers) else []:
        if isinstance(value, str | int) and not isinstance(value, bool):
            found.append(str(value))
    raw_tags = body.get("contact_tag_id")
    for tag in _as_list(raw_tags) if _present(raw_tags) else []:
        if isinstance(tag, str | int) and not isinstance(tag, bool):
            found.extend(state.tags.get(str(tag), []))
    digits = (re.sub(r"\D", "", number) for number in found)
    return list(dict.fromkeys(d for d in digits if 7 <= len(d) <= 15))


async def send_message(request: web.Request) -> web.StreamResponse:
    """POST /api/v1/whatsapp/:id/messages."""
    state = request.app[STATE_KEY]
    _, body = await common.record(request)
    fault = state.next_fault()
    early = await common.apply_fault_before(request, fault)
    if early is not None:
        return early
    throttled = common.rate_limited(
        request, {"error": "rate_limited", "message": "Too many requests"}
    )
    if throttled is not None:
        return throttled
    try:
        _check_auth(request, state)
        _check_waba(request.match_info["waba_id"], state)
        if not isinstance(body, dict):
            raise _Refused(400, "missing_type")
        _check_body(body, state)
        numbers = _resolve(body, state)
        if not numbers:
            raise _Refused(400, "no_valid_recipients")
    except _Refused as refused:
        return refused.response()
    for digits in numbers:
        state.deliveries.append(Delivery(f"+{digits}", None, body, time.monotonic()))
    late = await common.apply_fault_after(request, fault)
    if late is not None:
        return late
    return json_response(
        200, {"message": "Message queued for sending", "recipients_count": len(numbers)}
    )


def create_app(state: AutoKonnectState | None = None) -> web.Application:
    """The emulator app; ``state`` defaults to one company with WABA 123 and key ``test-key``."""
    state = state or AutoKonnectState()
    app = common.new_app(state)
    app[STATE_KEY] = state
    app.router.add_post(PATH, send_message)
    return app
