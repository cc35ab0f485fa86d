"""AutoKonnect's documented errors (docs/providers/autokonnect-waba-messages.txt, "Errors").

Why apart from the adapter: the table is the single place a reason a person reads is written,
and its undocumented error body is read defensively, which deserves its own tests.
"""

from __future__ import annotations

import re
from typing import Any

from providers.base import (
    AuthFailed,
    NotFound,
    ProviderServerError,
    RequestRejected,
    Service,
    SessionUnavailable,
)
from providers.http import ErrorBook, ErrorRule, ErrorTable

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")  # a machine code, not a sentence

# The 400s that mean "fix the request": all RequestRejected.
_REJECTED = {
    "missing_type": "the message type was missing — report this bridge bug",
    "missing_recipient": "no phone number or contact tag was given — add recipients",
    "no_valid_recipients": (
        "the contact tag(s) hold no contacts with a valid phone number — add contacts to the "
        "tag in AutoKonnect or check the tag id"
    ),
    "invalid_type": "message type not supported — use text, media, template or interactive",
    "missing_message": "the text is empty — write a message",
    "missing_link": "the media link is missing — give a public URL of the file",
    "missing_template_id": "the template id is missing — give an approved template's numeric id",
    "invalid_template_id_format": "template_id must be a number — use its numeric id, not its name",
    "missing_components": "the template components are missing — give its variable values",
    "template_not_approved": "the template is not approved — wait, or choose an approved one",
}
_WABA_MISMATCH = "this WABA does not belong to the API key's company — check waba_id"
_BAD_KEY = "the API key was refused — check the AutoKonnect API key (from its /companies page)"
ERRORS = ErrorTable(
    provider="AutoKonnect",
    by_code={code: ErrorRule(RequestRejected, why) for code, why in _REJECTED.items()}
    | {
        "reconnect_waba": ErrorRule(
            SessionUnavailable, "WABA channel is disconnected — reconnect it in AutoKonnect"
        ),
        "invalid_auth_header": ErrorRule(AuthFailed, _BAD_KEY),
        "invalid_api_key": ErrorRule(AuthFailed, _BAD_KEY),
        "credential_resource_mismatch": ErrorRule(AuthFailed, _WABA_MISMATCH),
        "template_not_found": ErrorRule(
            NotFound, "template id not found for this company — check the template id"
        ),
    },
    by_status={
        401: ErrorRule(AuthFailed, _BAD_KEY),
        403: ErrorRule(AuthFailed, _WABA_MISMATCH),
        # "404 | (no code) | WABA channel ID not found"
        404: ErrorRule(NotFound, "WABA channel ID not found — check waba_id in the channel"),
        500: ErrorRule(
            ProviderServerError,
            "AutoKonnect had an internal server error — the message may or may not be queued",
        ),
    },
)


def error_code(body: Any) -> str | None:
    """The error code from an undocumented body: ``error``, ``code`` or ``error.code``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    candidates = [error, body.get("code")]
    if isinstance(error, dict):
        candidates = [error.get("code"), body.get("code")]
    for value in candidates:
        if isinstance(value, str) and _CODE.match(value):
            return value
    return None


ERROR_BOOK = ErrorBook({Service.WABA: ERRORS}, error_code)
