"""TalkNTalk's documented errors and how to read its (unshown) error bodies.

Why apart from the adapter: the docs (docs/providers/talkntalk-*.txt) list statuses and a few
codes but never show an error body, so reading the code and the provider's own words is
defensive guesswork that deserves its own tests; the tables are the single place a reason a
person reads is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from providers.base import (
    AuthFailed,
    InsufficientBalance,
    NotFound,
    ProviderError,
    RateLimited,
    RequestRejected,
    Service,
    SessionUnavailable,
)
from providers.http import ErrorBook, ErrorRule, ErrorTable, Reply

# A provider error code is a short identifier ("insufficient_balance"), never a sentence.
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}")

_AUTH = ErrorRule(
    AuthFailed,
    "API key missing or invalid — check this account's api_key (e.g. TALKNTALK_API_KEY)",
)
_BALANCE = ErrorRule(InsufficientBalance, "wallet balance too low — top up the TalkNTalk wallet")
_RATE = ErrorRule(
    RateLimited, "rate limit exceeded (300 requests a minute) — will retry after the pause it asks"
)
_WA_COMMON: Mapping[int, ErrorRule] = {
    401: _AUTH,
    404: ErrorRule(
        NotFound,
        "session not found in your organisation — check session_id (the chat_id from List Phones)",
    ),
    409: ErrorRule(
        SessionUnavailable, "the WhatsApp phone is not connected — reconnect it in TalkNTalk"
    ),
    # The doc gives this 502 one definite meaning: "WhatsApp provider rejected the message". It is
    # an answer, not a gateway that lost the request, so it is permanent (sending again is
    # rejected the same way) rather than the generic ambiguous 5xx.
    502: ErrorRule(
        RequestRejected,
        "WhatsApp rejected the message — check the number is on WhatsApp and any media URL "
        "is public",
    ),
    429: _RATE,
}
_CODES: Mapping[str, ErrorRule] = {
    "authentication_failed": _AUTH,
    "insufficient_balance": _BALANCE,
}

ERRORS: Mapping[Service, ErrorTable] = {
    Service.SMS: ErrorTable(
        "TalkNTalk",
        by_code=_CODES,
        by_status={
            400: ErrorRule(
                RequestRejected,
                "SMS rejected: mobile or message missing, or sender_id not accepted — check "
                "the channel's sender_id is one approved for your organisation",
            ),
            401: _AUTH,
            402: _BALANCE,
            429: _RATE,
        },
    ),
    Service.WHATSAPP: ErrorTable(
        "TalkNTalk",
        by_code=_CODES,
        by_status={
            400: ErrorRule(
                RequestRejected,
                "WhatsApp message rejected: a required field missing, a type it does not take, "
                "or a group id sent as a number — check the message",
            ),
            **_WA_COMMON,
        },
    ),
    Service.WHATSAPP_GROUP: ErrorTable(
        "TalkNTalk",
        by_code=_CODES,
        by_status={
            400: ErrorRule(
                RequestRejected,
                "WhatsApp group message rejected: a required field missing, a type it does not "
                "take, or `to` not a group id (…@g.us) — check the message and the group",
            ),
            **_WA_COMMON,
        },
    ),
}


def error_code(body: Any) -> str | None:
    """The provider's error code, wherever the (undocumented) error body puts it."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    candidates = [body.get("code"), body.get("error_code"), error]
    if isinstance(error, dict):
        candidates.insert(0, error.get("code"))
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and _CODE.fullmatch(value):
            return value
    return None


def error_detail(body: Any) -> str | None:
    """A short human description from an error body, if it holds one."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    for value in (
        body.get("detail"),
        body.get("message"),
        error.get("message") if isinstance(error, dict) else error,
    ):
        if isinstance(value, str) and value.strip() and not _CODE.fullmatch(value):
            text = " ".join(value.split())
            return text if len(text) <= 160 else text[:157] + "..."
    return None


def with_detail(error: ProviderError, reply: Reply) -> ProviderError:
    """The typed error, with the provider's own words when it gave some (the reply came
    redacted from the adapter's POST, so they are cut short only after the key was masked)."""
    detail = error_detail(reply.body)
    if not detail:
        return error
    return type(error)(
        f"{error.reason} (TalkNTalk said: {detail})",
        provider=error.provider,
        code=error.code,
        status=error.status,
        retry_after=error.retry_after,
    )


ERROR_BOOK = ErrorBook(ERRORS, error_code, with_detail)
