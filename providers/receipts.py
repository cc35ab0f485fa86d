"""Delivery receipts, shared by every provider: what a callback can say, why one is refused, the
helpers every parser uses, and the ``ReceiptSource`` a provider declares beside its limits.

Pure functions over headers and the raw body: no I/O, no Slack, no store. ``bot.receipts`` wires
an account's source (found through ``providers.registry``) to the HTTP route. Each provider's own
reading lives in its ``<provider>_receipts`` module. Readings shared by all of them:

* Receipts are deduplicated on a hash of the signed body where there is one: an unsigned header
  (a delivery id) could be changed on every replay; and an unsigned header never says what a
  receipt means (TalkNTalk's event is read from the signed body alone).
* Ids are compared as text: a provider may send ``12345`` where the send answered ``"12345"``.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from pydantic import SecretStr

from providers.base import ProviderAccountConfig

C = TypeVar("C", bound=ProviderAccountConfig)


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
    """What one callback said: its status events, or why it was ignored (still a 200).
    ``unknown`` holds status words the bridge does not read (cut short): each one is a receipt
    an operator must be told about, since its provider may spell a status we never expected."""

    events: tuple[StatusEvent, ...] = ()
    ignored: str | None = None
    unknown: tuple[str, ...] = ()


Authenticate = Callable[[Mapping[str, str], bytes], None]
Parse = Callable[[Mapping[str, str], bytes], ReceiptBatch]


@dataclass(frozen=True)
class AccountReceipts:
    """One account's callbacks: raise unless a callback is the provider's, then read it."""

    authenticate: Authenticate
    parse: Parse


class ReceiptSource(Protocol):
    """What a provider declares about its receipts: how an account of it reads them."""

    def for_account(self, account: str, config: ProviderAccountConfig) -> AccountReceipts:
        """This account's authenticate and parse; ``NoReceipts`` if it can have none."""
        ...


@dataclass(frozen=True)
class Receipts(Generic[C]):
    """A provider that posts receipts: its config type, how a callback proves itself, and how it
    is read. ``authenticate`` raises ``NoReceipts`` while the account has no webhook secret."""

    config: type[C]
    authenticate: Callable[[C, str, Mapping[str, str], bytes], None]
    parse: Parse

    def for_account(self, account: str, config: ProviderAccountConfig) -> AccountReceipts:
        if not isinstance(config, self.config):
            raise TypeError(f"{account}: receipts expect a {self.config.__name__}")
        typed = config

        def authenticate(headers: Mapping[str, str], body: bytes) -> None:
            self.authenticate(typed, account, headers, body)

        return AccountReceipts(authenticate, self.parse)


@dataclass(frozen=True)
class CannotReport:
    """A provider that can never report delivery, and why (the answer its webhook gives)."""

    reason: str

    def for_account(self, account: str, config: ProviderAccountConfig) -> AccountReceipts:
        raise NoReceipts(self.reason)


# Words every provider uses for a message that did not arrive.
_FAILED_WORDS = ("failed", "undelivered", "rejected", "expired")


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


def status_word(value: Any, limit: int = 40) -> str:
    """A status as the provider wrote it, short and printable, for a warning about it."""
    text = value if isinstance(value, str) else json.dumps(value)[:limit]
    text = "".join(c if c.isprintable() else "?" for c in " ".join(text.split()))
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


def signed_event_key(body: bytes) -> str:
    """The dedupe key of a signed receipt: a hash of exactly the bytes the signature covers.

    Headers are not signed, so a key taken from one (a delivery id, the event name) lets a
    captured receipt be replayed as "new" as often as the header is changed.
    """
    return "sha256:" + hashlib.sha256(body).hexdigest()
