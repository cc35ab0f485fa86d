"""The acknowledge link's token: it names a page and one of its targets, is signed, and is short.

Why the target is an opaque id: a link travels in SMS, proxy logs and link previews, so it must
not carry a phone number or a name. The id is a keyed hash of (page, person): only the bridge can
make it, and it finds the person again among those the page sent to (``PagingService``).

Why short: it goes into an SMS whose parts are counted and billed: the page id (9 bytes), the
target id (6 bytes) and 12 bytes of HMAC-SHA256 (96 bits: unforgeable online), 27 bytes that are
exactly 36 base64url characters, no padding, no separator, the same length for every target.

Why one spelling: a token is accepted only byte for byte as the bridge wrote it (decoded, encoded
again and compared); another alphabet, padding, junk or a percent-escape is refused as a forgery
is. The key is derived from ``BRIDGE_ACK_SECRET`` when set, else ``SLACK_SIGNING_SECRET``, so a
token is worth nothing outside this purpose; ``BridgeEnv.ack_key`` refuses one under 32 bytes (a
short one was recovered offline from a single link). Whether it still *works* is the page's state: a
token of a page that ended is refused by ``PagingService``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import dataclass

_PURPOSE = b"chatops-bridge acknowledge link v2"
_PAGE_ID = re.compile(r"P[0-9A-Z]{8}")
_PAGE_BYTES = 9
_TARGET_BYTES = 6
_MAC_BYTES = 12
TOKEN_LENGTH = (_PAGE_BYTES + _TARGET_BYTES + _MAC_BYTES) * 4 // 3  # 36: no padding
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")


@dataclass(frozen=True)
class AckClaim:
    """A verified token: the page, and the opaque id of the target it was sent to."""

    page_id: str
    target: str


class AckLinks:
    """Signs and reads tokens; ``url`` builds the link under ``BRIDGE_PUBLIC_URL``."""

    def __init__(self, public_url: str, secret: str) -> None:
        self.public_url = public_url.rstrip("/")
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()

    def _digest(self, domain: bytes, data: bytes, size: int) -> bytes:
        return hmac.new(self._key, domain + b"\0" + data, hashlib.sha256).digest()[:size]

    def target(self, page_id: str, person: str) -> str:
        """The opaque id of ``person`` (a name in people, or an address) on this page."""
        tag = self._digest(b"target", f"{page_id}\0{person}".encode(), _TARGET_BYTES)
        return base64.urlsafe_b64encode(tag).decode()

    def token(self, page_id: str, person: str) -> str:
        if not _PAGE_ID.fullmatch(page_id):
            raise ValueError(f"not a page id: {page_id!r}")
        target = base64.urlsafe_b64decode(self.target(page_id, person))
        payload = page_id.encode() + target
        raw = payload + self._digest(b"ack", payload, _MAC_BYTES)
        return base64.urlsafe_b64encode(raw).decode()

    def url(self, page_id: str, person: str) -> str:
        return f"{self.public_url}/ack/{self.token(page_id, person)}"

    def read(self, token: str) -> AckClaim | None:
        """The claim of a correctly signed token in its one canonical spelling; None otherwise."""
        if not _TOKEN.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii"))
        except (ValueError, binascii.Error):
            return None
        if base64.urlsafe_b64encode(raw).decode() != token:
            return None  # not the bytes we wrote, whatever they decode to
        payload, given = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(given, self._digest(b"ack", payload, _MAC_BYTES)):
            return None
        page_id = payload[:_PAGE_BYTES].decode("ascii", "replace")
        if not _PAGE_ID.fullmatch(page_id):
            return None
        target = base64.urlsafe_b64encode(payload[_PAGE_BYTES:]).decode()
        return AckClaim(page_id, target)
