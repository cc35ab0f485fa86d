"""What Slack posts to /slack/events: verified, then read by its form keys, then given to bolt.

Why here and not in bolt: bolt's body parser takes any form body containing the substring
"payload" for an interactivity form (so ``/send db payload too big`` was never dispatched), and a
non-numeric timestamp raised inside its signature check, handing the unverified body to the error
handler (which replied to the body's response_url). Here nothing unverified gets past a 401.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.request.async_request import AsyncBoltRequest

log = logging.getLogger(__name__)

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"
MAX_SKEW = 300  # seconds; Slack: "reject when abs(now - timestamp) > 5 minutes"
MAX_FIELDS = 100  # a slash command has about 12 form fields; interactivity has one


class Unverified(Exception):
    """The request is not provably from Slack; the message says what was wrong (for the 401)."""


class Unreadable(Exception):
    """A verified body that is neither Slack's form fields nor ``payload=<JSON object>``."""


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise Unverified unless the headers carry a fresh, valid ``v0`` signature of ``body``."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp:
        raise Unverified(f"missing {TIMESTAMP_HEADER}: Slack signs every request it sends")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise Unverified(f"{TIMESTAMP_HEADER} must be whole seconds since the epoch")
    if abs(now() - int(timestamp)) > MAX_SKEW:
        raise Unverified(f"{TIMESTAMP_HEADER} is more than 5 minutes off: check the clock")
    if not signature:
        raise Unverified(f"missing {SIGNATURE_HEADER}: Slack signs every request it sends")
    if not (signature.isascii() and signature.startswith("v0=")):
        raise Unverified(f"{SIGNATURE_HEADER} must be v0=<hex>")
    # Computed here on the raw bytes: slack_sdk's SignatureVerifier decodes the body as UTF-8
    # first, so a body that is not UTF-8 raised instead of failing the check.
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Unverified(f"{SIGNATURE_HEADER} does not match the body: check the signing secret")


def _object(text: str, what: str) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise Unreadable(f"{what} is not JSON") from None
    if not isinstance(obj, dict):
        raise Unreadable(f"{what} is not a JSON object")
    return obj


def read_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Slack's body as a dict, decided by the form's keys, never by a substring.

    Interactivity is a form with a ``payload`` key holding a JSON object; a slash command is plain
    form fields (its ``text`` may say "payload" or start with "{"); Events API bodies are JSON.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Unreadable("the body is not UTF-8") from None
    if content_type == "application/json":
        return _object(text, "the body")
    try:
        fields = parse_qsl(text, keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS)
    except (ValueError, UnicodeDecodeError):
        raise Unreadable("the body is not a form Slack would send") from None
    form = dict(fields)
    if "payload" in form:
        return _object(form["payload"], "the payload field")
    return form


def bolt_request(
    raw: bytes, body: dict[str, Any], headers: Mapping[str, str], query: str
) -> AsyncBoltRequest:
    """An HTTP-mode request for bolt with our parsed ``body`` (bolt's parser never runs); the
    signature was checked by ``verify`` (bolt's own check is off, see ``create_app``)."""
    request = AsyncBoltRequest(
        body=body,
        query=query,
        headers={k: v for k, v in headers.items()},
        mode="socket_mode",  # the only mode in which bolt takes a parsed body ...
    )
    request.mode = "http"  # ... it is HTTP (bolt's ssl_check and url_verification apply)
    request.raw_body = raw.decode("utf-8")  # what bolt would copy the request from
    return request
