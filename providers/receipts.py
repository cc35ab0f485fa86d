"""Delivery receipts as providers post them: who may post (authentication) and what they say.

Pure functions over headers and the raw body: no I/O, no Slack, no store. ``bot.receipts`` wires
them to the HTTP route. Readings chosen where the docs are silent or vague:

* TalkNTalk signs the *body* only, so the event name is taken only from the signed body's
  ``event``; a body without one is refused (400), whatever an ``X-TalkNTalk-Event`` header says.
  (TalkNTalk's SMS send doc only says "Use Webhooks to get notified"; it names no event
  header, so nothing contradicts reading the body alone.)
* Receipts are deduplicated on a hash of the signed body: an unsigned header (a delivery id)
  could be changed on every replay.
* TalkNTalk's ``data.id`` may be a JSON integer while the send answered a string: ids are
  compared as text.
* Kaleyra's callbacks are read in ``providers.receipts_kaleyra`` with the shared parts here.
* AutoKonnect's send returns no message id and its doc defines no callback: nothing to match.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import SecretStr

from providers.talkntalk import TalkNTalkConfig

TNT_SIGNATURE = "X-TalkNTalk-Signature"
TNT_EVENT = "X-TalkNTalk-Event"

AUTOKONNECT_CANNOT = (
    "AutoKonnect cannot report delivery: its send API returns no message id and its docs define "
    "no delivery callback, so there is nothing a receipt could be matched to"
)


class ReceiptStatus(enum.StrEnum):
    """What a receipt can say; the values are the send record's recipient statuses."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class ReceiptRejected(Exception):
    """A callback we refuse; ``status`` is the HTTP answer. Messages never hold a secret."""

    status = 400


class Malformed(ReceiptRejected):
    status = 400


class Unauthenticated(ReceiptRejected):
    status = 401


class NoReceipts(ReceiptRejected):
    status = 404  # AutoKonnect, or no webhook_secret configured


@dataclass(frozen=True)
class StatusEvent:
    """One status change for one message, ready for ``Store.apply_status``."""

    status: ReceiptStatus
    event_key: str  # dedupe key, unique per event within the account
    provider_message_id: str | None = None
    ref: str | None = None
    at: datetime | None = None
    reason: str | None = None
    code: str | None = None
    recipient: str | None = None  # the phone as the provider wrote it: mask before logging


@dataclass(frozen=True)
class ReceiptBatch:
    """What one callback said: its status events, or why it was ignored (still a 200)."""

    events: tuple[StatusEvent, ...] = ()
    ignored: str | None = None


# --- helpers ----------------------------------------------------------------------------------


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively (plain dicts in tests, CIMultiDict on the server)."""
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value.strip() if isinstance(value, str) else None


def as_bytes(value: str) -> bytes:
    """Text as the bytes it came from, never raising: headers and the environment carry
    undecodable bytes as lone surrogates (``surrogateescape``), which plain ``encode()`` refuses.
    """
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no byte produced: keep it comparable, unequal
        return value.encode("utf-8", "backslashreplace")


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time equality of two credentials, whatever characters an attacker sends."""
    left = given if isinstance(given, bytes) else as_bytes(given)
    right = expected if isinstance(expected, bytes) else as_bytes(expected)
    return hmac.compare_digest(left, right)


def _secret(secret: SecretStr | None, account: str) -> bytes:
    value = secret.get_secret_value() if secret is not None else ""
    if not value.strip():
        raise NoReceipts(f"receipts not configured for {account}: set webhook_secret")
    return as_bytes(value)


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Malformed("the body is not valid JSON") from None
    except RecursionError:  # json.loads recurses once per level: an attacker picks the depth
        raise Malformed("the body's JSON is nested too deeply to be a receipt") from None


def _text_id(value: Any) -> str | None:
    """Ids as text: TalkNTalk may send ``12345`` where the send answered ``"12345"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 or Unix seconds (milliseconds too); None when it is neither."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e12 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


_LONG_DIGITS = re.compile(r"\+?\d[\d ]{6,}\d")


def plain(detail: Any, limit: int = 200) -> str | None:
    """A provider's error words, short, without phone numbers (they end up in Slack)."""
    if isinstance(detail, dict):
        parts = [detail.get(k) for k in ("title", "message", "description", "reason", "detail")]
        words = [p for p in parts if isinstance(p, str) and p.strip()]
        data = detail.get("error_data")
        if isinstance(data, dict) and isinstance(data.get("details"), str):
            words.append(data["details"])
        detail = ": ".join(dict.fromkeys(w.strip() for w in words)) if words else None
    if not isinstance(detail, str) or not detail.strip():
        return None
    text = _LONG_DIGITS.sub("•••", " ".join(detail.split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dig(node: Any, *path: str) -> Any:
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _code(*candidates: Any) -> str | None:
    """The first usable error code (text or number); never free text from elsewhere."""
    for value in candidates:
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:64]
    return None


# --- TalkNTalk (SMS) --------------------------------------------------------------------------

# "The message transitions from queued → sent → delivered": queued is already past our "sent".
_FAILED_WORDS = ("failed", "undelivered", "rejected", "expired")
TNT_STATUSES: Mapping[str, ReceiptStatus] = {
    "queued": ReceiptStatus.SENT,
    "sent": ReceiptStatus.SENT,
    "delivered": ReceiptStatus.DELIVERED,
    **dict.fromkeys(_FAILED_WORDS, ReceiptStatus.FAILED),
}
_TNT_FAILED_WORDS = {"failed": "could not be delivered", "expired": "expired undelivered"}


def talkntalk_signature(secret: str | bytes, body: bytes) -> str:
    """The hex HMAC-SHA256 of the raw body: what TalkNTalk puts in X-TalkNTalk-Signature."""
    key = as_bytes(secret) if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def talkntalk_signature_ok(secret: str | bytes, body: bytes, signature: str | None) -> bool:
    """Bare hex or ``sha256=<hex>``, compared in constant time."""
    if not signature:
        return False
    given = signature.strip()
    if given[:7].lower() == "sha256=":
        given = given[7:]
    return same_secret(given.lower(), talkntalk_signature(secret, body))


def authenticate_talkntalk(
    config: TalkNTalkConfig, account: str, headers: Mapping[str, str], body: bytes
) -> None:
    """Raise unless the body carries a valid signature made with the account's secret."""
    secret = _secret(config.webhook_secret, account)
    signature = header(headers, TNT_SIGNATURE)
    if not signature:
        raise Unauthenticated(f"{TNT_SIGNATURE} is missing")
    if not talkntalk_signature_ok(secret, body, signature):
        raise Unauthenticated(f"{TNT_SIGNATURE} does not match the body")


def signed_event_key(body: bytes) -> str:
    """The dedupe key of a signed receipt: a hash of exactly the bytes the signature covers.

    Headers are not signed, so a key taken from one (a delivery id, the event name) lets a
    captured receipt be replayed as "new" as often as the header is changed.
    """
    return "sha256:" + hashlib.sha256(body).hexdigest()


def talkntalk_events(headers: Mapping[str, str], body: bytes) -> ReceiptBatch:
    """The status event in an (authenticated) TalkNTalk webhook; only ``sms.*`` are statuses."""
    payload = _json_body(body)
    if not isinstance(payload, dict):
        raise Malformed("the body is not a JSON object")
    event = payload.get("event")
    if not isinstance(event, str) or not event.strip():
        raise Malformed(
            'the body has no "event" (such as "sms.delivered"): the event must be in the signed '
            f"body; an unsigned {TNT_EVENT} header cannot say what a receipt means"
        )
    event = event.strip().lower()
    if not event.startswith("sms."):
        return ReceiptBatch(ignored=f"event {event or '(none)'!r} is not an SMS status")
    data = payload.get("data")
    if not isinstance(data, dict):
        return ReceiptBatch(ignored="the event has no data object")
    message_id = _text_id(data.get("id")) or _text_id(data.get("message_id"))
    if message_id is None:
        return ReceiptBatch(ignored="the event names no message id")
    raw = data.get("status")
    word = raw.strip().lower() if isinstance(raw, str) else ""
    if word not in TNT_STATUSES:
        word = event.removeprefix("sms.")
    status = TNT_STATUSES.get(word)
    if status is None:
        return ReceiptBatch(ignored=f"{event!r} is not a status this bridge tracks")
    reason = code = None
    if status is ReceiptStatus.FAILED:
        phrase = _TNT_FAILED_WORDS.get(word, word)
        detail = plain(data.get("reason")) or plain(data.get("error"))
        reason = f"the network reported the message {phrase}" + (f" ({detail})" if detail else "")
        code = _code(data.get("error_code"), _dig(data, "error", "code"))
    at = parse_time(payload.get("timestamp")) or parse_time(data.get("updated_at"))
    mobile = data.get("mobile")
    return ReceiptBatch(
        events=(
            StatusEvent(
                status=status,
                event_key=signed_event_key(body),
                provider_message_id=message_id,
                at=at,
                reason=reason,
                code=code,
                recipient=mobile if isinstance(mobile, str) else None,
            ),
        )
    )
