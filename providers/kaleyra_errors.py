"""Kaleyra's documented errors ("Sample Failure Response" in docs/providers/kaleyra-*.txt).

Why apart from the adapter: the table is the single place a reason a person reads is written,
and ``WA-401``'s two meanings are told apart by the reply's words, which deserves its own tests.
"""

from __future__ import annotations

import re
from typing import Any

from providers.base import (
    AuthFailed,
    InsufficientBalance,
    NotFound,
    ProviderError,
    ProviderServerError,
    RequestRejected,
    Service,
)
from providers.http import ErrorBook, ErrorRule, ErrorTable, Reply

_CODE_WORD = re.compile(r"[A-Za-z0-9_-]{2,32}")

_SERVER_ERROR = ErrorRule(
    ProviderServerError,
    "Kaleyra had an internal error — the message may or may not have gone out; "
    "check with the recipient before sending again",
)
_KEYS = ErrorRule(AuthFailed, "Kaleyra refused the request — check the Kaleyra sid and api key")

# "Sample Failure Response": every documented (status, code), looked up by the top-level code.
ERRORS = ErrorTable(
    provider="Kaleyra",
    by_code={
        "RBC001": ErrorRule(
            AuthFailed,
            "the SID or API key was refused — check the Kaleyra sid in the config "
            "and the Kaleyra api key in the environment",
        ),
        "WA401": ErrorRule(
            AuthFailed,
            "the business number in `from` is not on this Kaleyra account — check the "
            "channel's from number (E.164, with country code) against the account's numbers",
        ),
        "WA400": ErrorRule(
            RequestRejected,
            "Kaleyra rejected the payload format — check the recipient number and the text; "
            "if it persists, report it as a bridge bug",
        ),
        "WA500": _SERVER_ERROR,
        "E110": ErrorRule(InsufficientBalance, "balance too low — top up the Kaleyra account"),
    },
    by_status={
        400: ErrorRule(RequestRejected, "Kaleyra rejected the request — check number and text"),
        401: _KEYS,
        403: _KEYS,
        404: ErrorRule(
            NotFound, "Kaleyra has no such endpoint — check the pod or base_url, sid and from"
        ),
        500: _SERVER_ERROR,
    },
)

# "WA-401" has two documented meanings; only the message (or the error key) tells them apart.
_WA_401_ACCOUNT = ErrorRule(
    AuthFailed,
    "the WhatsApp API is not enabled for this Kaleyra account — ask Kaleyra support to enable it",
)
_WA_401_VERSION = ErrorRule(
    AuthFailed,
    "the business number in `from` is set up on a different version of Kaleyra's WhatsApp API "
    "— ask Kaleyra support to move it to the v2 API, or use a number that is on v2",
)
_WA_401_OTHER = ErrorRule(
    AuthFailed,
    "Kaleyra refused this account or business number for the WhatsApp API — "
    "ask Kaleyra support what the account is missing",
)


def _error_code(body: Any) -> str | None:
    """The code of an error body: top-level ``code``, else ``error.code``, else ``error``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    nested = error.get("code") if isinstance(error, dict) else None
    for code in (body.get("code"), nested, error):
        # A code is a short word ("RBC001", "WA-401"): anything else is not kept or logged.
        if isinstance(code, str) and _CODE_WORD.fullmatch(code.strip()):
            return code.strip()
    return None


def _wa_dash_401_rule(reply: Reply) -> ErrorRule:
    message = reply.field("message")
    words = message.lower() if isinstance(message, str) else ""
    if "version" in words:
        return _WA_401_VERSION
    if "not available" in words:
        return _WA_401_ACCOUNT
    error = reply.field("error")
    if isinstance(error, dict):
        if "account" in error:
            return _WA_401_ACCOUNT
        if "phone_number" in error:
            return _WA_401_VERSION
    return _WA_401_OTHER


def wa_dash_401(error: ProviderError, reply: Reply) -> ProviderError:
    """``WA-401`` read by its words: the table alone cannot tell its two meanings apart."""
    if error.code != "WA-401":
        return error
    rule = _wa_dash_401_rule(reply)
    return rule.error(rule.reason, provider=ERRORS.provider, code=error.code, status=reply.status)


ERROR_BOOK = ErrorBook({Service.WHATSAPP: ERRORS}, _error_code, wa_dash_401)
