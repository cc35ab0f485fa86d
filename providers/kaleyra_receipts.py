"""Kaleyra WhatsApp callbacks: the shared secret (header or Basic auth) and the status shapes.

Kaleyra's callback shapes vary; ``meta_object.value.statuses[]`` (and a few nearby spellings)
wins over the top-level ``status``/``message_id``, which is used when no status entry parses. A
top-level ``ref`` is applied to a status entry only when it can only mean that message.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

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
    header,
    parse_time,
    plain,
    same_secret,
    status_word,
)


class CallbackSecret(Protocol):
    """What callback checking reads of a Kaleyra account (its config, without importing it)."""

    @property
    def webhook_secret(self) -> SecretStr | None: ...
    @property
    def webhook_header(self) -> str: ...
    @property
    def webhook_username(self) -> str | None: ...


KALEYRA_STATUSES: Mapping[str, ReceiptStatus] = {
    "sent": ReceiptStatus.SENT,
    "delivered": ReceiptStatus.DELIVERED,
    "read": ReceiptStatus.READ,
    "seen": ReceiptStatus.READ,
    **dict.fromkeys(_FAILED_WORDS, ReceiptStatus.FAILED),
}


def _basic_credentials(value: str | None) -> tuple[bytes, bytes] | None:
    if not value or value[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user, password) if colon else None


def authenticate_kaleyra(
    config: CallbackSecret, account: str, headers: Mapping[str, str], body: bytes
) -> None:
    """Basic auth when ``webhook_username`` is set, else the shared-secret header."""
    del body  # Kaleyra does not sign the body; the secret itself is the credential
    secret = _secret(config.webhook_secret, account)
    if config.webhook_username is not None:
        given = _basic_credentials(header(headers, "Authorization"))
        if given is None:
            raise Unauthenticated("HTTP Basic credentials are missing")
        user_ok = same_secret(given[0], config.webhook_username)
        password_ok = same_secret(given[1], secret)
        if not (user_ok and password_ok):
            raise Unauthenticated("the HTTP Basic credentials are wrong")
        return
    value = header(headers, config.webhook_header)
    if not value:
        raise Unauthenticated(f"{config.webhook_header} is missing")
    if not same_secret(value, secret):
        raise Unauthenticated(f"{config.webhook_header} is wrong")


def _ref_of(node: Any) -> str | None:
    return _text_id(_dig(node, "extra_info", "ref")) or _text_id(_dig(node, "ref"))


def _status_entries(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Status objects wherever Kaleyra's (or Meta's) shapes put them."""
    lists: Iterable[Any] = [
        _dig(payload, "meta_object", "value", "statuses"),
        _dig(payload, "meta_object", "statuses"),
        _dig(payload, "value", "statuses"),
        _dig(payload, "statuses"),
    ]
    entries = _dig(payload, "meta_object", "entry") or _dig(payload, "entry")  # Meta's own
    for entry in entries if isinstance(entries, list) else []:
        changes = _dig(entry, "changes")
        lists = [*lists, *(_dig(c, "value", "statuses") for c in changes or [])]
    return [s for found in lists if isinstance(found, list) for s in found if isinstance(s, dict)]


def _kaleyra_event(
    node: dict[str, Any], message_id: str | None, ref: str | None, when: Any
) -> StatusEvent | None:
    raw = node.get("status")
    word = raw.strip().lower() if isinstance(raw, str) else ""
    status = KALEYRA_STATUSES.get(word)
    if status is None or not (message_id or ref):
        return None
    reason = code = None
    if status is ReceiptStatus.FAILED:
        errors = node.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else node.get("error")
        detail = plain(first) or plain(node.get("reason"))
        reason = "WhatsApp could not deliver the message" + (f" ({detail})" if detail else "")
        code = _code(_dig(first, "code"))
    recipient = node.get("recipient_id") or node.get("to")
    return StatusEvent(
        status=status,
        event_key=f"wa:{message_id or ''}:{ref or ''}:{word}",
        provider_message_id=message_id,
        ref=ref,
        at=parse_time(when),
        reason=reason,
        code=code,
        recipient=recipient if isinstance(recipient, str) else None,
    )


def parse_kaleyra(headers: Mapping[str, str], body: bytes) -> ReceiptBatch:
    """``kaleyra_events`` in the shape every parser has (Kaleyra's callbacks carry no event
    header worth reading)."""
    del headers
    return kaleyra_events(body)


def kaleyra_events(body: bytes) -> ReceiptBatch:
    """Status events in an (authenticated) Kaleyra callback: one object, or a list of them."""
    payload = _json_body(body)
    items = payload if isinstance(payload, list) else [payload]
    if not all(isinstance(item, dict) for item in items):
        raise Malformed("the body is not a JSON object")
    events: list[StatusEvent] = []
    unknown: list[str] = []
    for item in items:
        events.extend(_kaleyra_item(item, unknown))
    unique = tuple(dict((e.event_key, e) for e in events).values())
    if unique:
        return ReceiptBatch(unique, unknown=tuple(unknown))
    return ReceiptBatch(ignored="no status in the callback", unknown=tuple(unknown))


def _unknown_status(node: dict[str, Any]) -> str | None:
    """The status word of an entry that has one this bridge does not read."""
    raw = node.get("status")
    if raw is None or (isinstance(raw, str) and raw.strip().lower() in KALEYRA_STATUSES):
        return None
    return status_word(raw) if not isinstance(raw, str) or raw.strip() else None


def _kaleyra_item(payload: dict[str, Any], unknown: list[str]) -> list[StatusEvent]:
    """The status events of one callback object; unread status words are added to ``unknown``."""
    top_id = _text_id(payload.get("message_id")) or _text_id(_dig(payload, "data", "message_id"))
    top_ref = _ref_of(payload)
    entries = _status_entries(payload)
    # The top-level ref and id belong to an entry only if they cannot be another message's.
    one_message = len({_text_id(e.get("id")) for e in entries}) == 1
    events = []
    for entry in entries:
        message_id = _text_id(entry.get("id")) or _text_id(entry.get("message_id"))
        ref = _ref_of(entry) or (top_ref if one_message or message_id == top_id else None)
        message_id = message_id or (top_id if one_message else None)
        event = _kaleyra_event(entry, message_id, ref, entry.get("timestamp"))
        if event is not None:
            events.append(event)
        elif (word := _unknown_status(entry)) is not None:
            unknown.append(word)
    if not events:
        top = _kaleyra_event(payload, top_id, top_ref, payload.get("timestamp"))
        events = [top] if top is not None else []
        word = _unknown_status(payload) if top is None else None
        if word is not None and word not in unknown:
            unknown.append(word)
    return events
