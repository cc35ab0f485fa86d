"""TalkNTalk's SMS delivery webhooks: the body's HMAC signature and the ``sms.*`` events.

The doc (docs/providers/talkntalk-sms-send.txt) only says "Use Webhooks"; README, "Delivery
receipts", says what the bridge reads.

Readings chosen where the doc is silent or vague: TalkNTalk signs the *body* only, so the event
name is taken only from the signed body's ``event`` (a body without one is refused; the unsigned
``X-TalkNTalk-Event`` header never decides); ``data.id`` may be a JSON integer while the send
answered a string.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Protocol

from pydantic import SecretStr

from providers.receipts import (
    _FAILED_WORDS,
    Malformed,
    ReceiptBatch,
    ReceiptStatus,
    StatusEvent,
    Unauthenticated,
    _code,
    _dig,
    _json_body,
    _secret,
    _text_id,
    as_bytes,
    header,
    parse_time,
    plain,
    same_secret,
    signed_event_key,
    status_word,
)

TNT_SIGNATURE = "X-TalkNTalk-Signature"
TNT_EVENT = "X-TalkNTalk-Event"


class SignedWebhooks(Protocol):
    """What signature checking reads of a TalkNTalk account (its config, without importing it)."""

    @property
    def webhook_secret(self) -> SecretStr | None: ...


# "The message transitions from queued → sent → delivered": queued is already past our "sent".
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
    config: SignedWebhooks, account: str, headers: Mapping[str, str], body: bytes
) -> None:
    """Raise unless the body carries a valid signature made with the account's secret."""
    secret = _secret(config.webhook_secret, account)
    signature = header(headers, TNT_SIGNATURE)
    if not signature:
        raise Unauthenticated(f"{TNT_SIGNATURE} is missing")
    if not talkntalk_signature_ok(secret, body, signature):
        raise Unauthenticated(f"{TNT_SIGNATURE} does not match the body")


def talkntalk_events(headers: Mapping[str, str], body: bytes) -> ReceiptBatch:
    """The status event in an (authenticated) TalkNTalk webhook; only ``sms.*`` are statuses."""
    payload = _json_body(body)
    if not isinstance(payload, dict):
        raise Malformed("the body is not a JSON object")
    event = payload.get("event")
    if not isinstance(event, str) or not event.strip():
        # TalkNTalk signs the body only, and its doc names no event header ("Use Webhooks to get
        # notified"), so an unsigned header never decides what a receipt means.
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
        said = raw if isinstance(raw, str) and raw.strip() else event
        return ReceiptBatch(
            ignored=f"{event!r} is not a status this bridge tracks", unknown=(status_word(said),)
        )
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
