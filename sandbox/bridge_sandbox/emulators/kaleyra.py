"""Kaleyra's Send Text Messages endpoint (docs/providers/kaleyra-whatsapp-text.txt), strictly.

``POST /v2/{sid}/whatsapp/{phone_number}/messages`` with the ``api-key`` header and a JSON body.
Where the doc contradicts itself the emulator accepts both forms, so the adapter's choice is
tested against either: ``preview_url`` as a boolean or the sample's ``"true"``/``"false"``
string; ``to`` (and the URL number) with or without ``+``. It always answers valid JSON, unlike
the doc's sample success body, unless ``literal_sample_body`` asks for the doc's text verbatim.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bridge_sandbox.emulators import common
from bridge_sandbox.emulators.common import Delivery, EmulatorState, json_response

TEXT_LIMIT = 4096
REF_LIMIT = 255
_NUMBER = re.compile(r"\+?[1-9]\d{6,14}")
_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass
class KaleyraState(EmulatorState):
    """One Kaleyra account: its SID, its business numbers and the account-level conditions."""

    sid: str = "HXAP16XXXXXX97IN"
    numbers: set[str] = field(default_factory=lambda: {"+919000000001"})
    low_balance: bool = False  # 400 E110
    account_disabled: bool = False  # 401 WA-401 "API is not available for given customer"
    v1_numbers: set[str] = field(default_factory=set)  # 401 WA-401 "different Version"
    literal_sample_body: bool = False  # answer the doc's (invalid JSON) success body verbatim


# The doc's "Sample Failure Response" bodies, verbatim.
def _failure(code: str, message: str, key: str, detail: str, data: Any = None) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "data": {} if data is None else data,
        "error": {key: detail},
    }


_AUTH = "Incorrect SID or API key."
RBC001 = _failure("RBC001", _AUTH, "error", _AUTH, data=[])
_NOT_OURS = "Phone number is not present or does not belong to the account."
WA401 = _failure("WA401", _NOT_OURS, "phone_number", _NOT_OURS)
WA400 = _failure("WA400", "Refer to correct payload format", "payload", "Incorrect payload format")
WA500 = _failure("WA500", "Please try again later", "error", "Internal server error")
_LOW = "Please check your balance, You have a low balance!"
E110 = _failure("E110", _LOW, "balance", _LOW)
_NO_API = "API is not available for given customer.Please contact support for more info"
WA_401_ACCOUNT = _failure("WA-401", _NO_API, "account", _NO_API)
_VERSION = (
    "The phone number you're using is associated with different Version of our WA API. "
    "Please use the appropriate endpoint."
)
WA_401_VERSION = _failure("WA-401", _VERSION, "phone_number", _VERSION)
# Undocumented; only the status and Retry-After matter to a client.
TOO_MANY = {"message": "Too Many Requests", "data": {}, "error": {"error": "Too Many Requests"}}

# "Sample Success Response" exactly as the doc prints it (missing commas and all).
LITERAL_SAMPLE_SUCCESS = """{
"code":"WA202"
"message":"Request Accepted",
"data":{
"message_id":"%s"
}
"error":{}
}"""


def e164(number: str) -> str:
    return number if number.startswith("+") else "+" + number


def new_message_id() -> str:
    """Shaped like the doc's ``AXXXXXXXXXXXXXXXXXXX``: "A" and 19 upper-case letters/digits."""
    return "A" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(19))


def _preview_ok(value: Any) -> bool:
    # Table: Boolean; sample: the string "false". Both are accepted.
    return isinstance(value, bool) or value in ("true", "false")


def payload_recipients(body: Any) -> list[str] | None:
    """The E.164 recipients of a valid text payload, or None when Kaleyra would answer WA400."""
    if not isinstance(body, dict):
        return None
    obj = body.get("messaging_object")
    if not isinstance(obj, dict) or obj.get("messaging_product") != "whatsapp":
        return None
    if obj.get("recipient_type", "individual") != "individual":
        return None
    if obj.get("type", "text") != "text":
        return None
    text = obj.get("text")
    if not isinstance(text, dict):
        return None
    text_body = text.get("body")
    if not isinstance(text_body, str) or not text_body or len(text_body) > TEXT_LIMIT:
        return None
    if "preview_url" in text and not _preview_ok(text["preview_url"]):
        return None
    extra = body.get("extra_info", {})
    if not isinstance(extra, dict):
        return None
    for name in ("ref", "ref1", "ref2"):  # "can be 255 characters long only"
        value = extra.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > REF_LIMIT):
            return None
    to = obj.get("to")
    if not isinstance(to, str):
        return None
    # "+91..." in the sample, "91..." in the table, and "separate each number using the
    # comma (,) delimiter". Every form is accepted.
    numbers = [part.strip() for part in to.split(",")]
    if not numbers or not all(_NUMBER.fullmatch(n) for n in numbers):
        return None
    return [e164(n) for n in numbers]


async def send_messages(request: web.Request) -> web.StreamResponse:
    state = request.app[common.STATE_KEY]
    assert isinstance(state, KaleyraState)
    _, body = await common.record(request)
    fault = state.next_fault()
    early = await common.apply_fault_before(request, fault)
    if early is not None:
        return early
    limited = common.rate_limited(request, TOO_MANY)
    if limited is not None:
        return limited
    key = request.headers.get("api-key")
    if request.match_info["sid"] != state.sid or key is None or key != state.api_key:
        return json_response(401, RBC001)
    if request.content_type != "application/json" or body is None:
        return json_response(400, WA400)
    if state.account_disabled:
        return json_response(401, WA_401_ACCOUNT)
    business = e164(request.match_info["phone_number"])
    if business in {e164(n) for n in state.v1_numbers}:
        return json_response(401, WA_401_VERSION)
    if business not in {e164(n) for n in state.numbers}:
        return json_response(401, WA401)
    recipients = payload_recipients(body)
    if recipients is None:
        return json_response(400, WA400)
    if state.low_balance:
        return json_response(400, E110)
    message_id = new_message_id()
    now = time.monotonic()
    state.deliveries.extend(Delivery(to, message_id, body, now) for to in recipients)
    late = await common.apply_fault_after(request, fault)
    if late is not None:
        return late
    if state.literal_sample_body:
        return web.Response(
            status=202, text=LITERAL_SAMPLE_SUCCESS % message_id, content_type="application/json"
        )
    return json_response(
        202,
        {
            "code": "WA202",
            "message": "Request Accepted",
            "data": {"message_id": message_id},
            "error": {},
        },
    )


def create_app(state: KaleyraState | None = None) -> web.Application:
    """The emulator app; ``state`` defaults to one account with SID ``HXAP16XXXXXX97IN``."""
    app = common.new_app(state or KaleyraState())
    app.router.add_post("/v2/{sid}/whatsapp/{phone_number}/messages", send_messages)
    return app
