"""The acknowledge link's token: it names a page and a person, is signed, and is short.

Why short: it goes into an SMS whose parts are counted and billed, so it is 12 bytes of
HMAC-SHA256 (96 bits: unforgeable online) after the page id and the person, base64url without
padding. The key is derived from ``BRIDGE_ACK_SECRET`` when set, else ``SLACK_SIGNING_SECRET``,
so a token is worth nothing outside this purpose; ``BridgeEnv.ack_key`` refuses one under 32
bytes (a short one was recovered offline from a single link). Whether it still *works* is the
page's state: a token of a page that ended is refused by ``PagingService``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

_PURPOSE = b"chatops-bridge acknowledge link v1"
_MAC_BYTES = 12
_MAX_TOKEN = 200
_PAGE_ID = re.compile(r"^P[0-9A-Z]{8}$")


@dataclass(frozen=True)
class AckClaim:
    page_id: str
    person: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AckLinks:
    """Signs and reads tokens; ``url`` builds the link under ``BRIDGE_PUBLIC_URL``."""

    def __init__(self, public_url: str, secret: str) -> None:
        self.public_url = public_url.rstrip("/")
        self._key = hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def token(self, page_id: str, person: str) -> str:
        payload = f"{page_id}:{person}".encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}"

    def url(self, page_id: str, person: str) -> str:
        return f"{self.public_url}/ack/{self.token(page_id, person)}"

    def read(self, token: str) -> AckClaim | None:
        """The claim of a well-formed, correctly signed token; None for anything else."""
        if len(token) > _MAX_TOKEN or token.count(".") != 1:
            return None
        body, mac = token.split(".")
        try:
            payload, given = _unb64(body), _unb64(mac)
        except (ValueError, TypeError):
            return None
        if not hmac.compare_digest(given, self._mac(payload)):
            return None
        page_id, _, person = payload.decode("utf-8", "replace").partition(":")
        if not _PAGE_ID.match(page_id) or not person:
            return None
        return AckClaim(page_id, person)
