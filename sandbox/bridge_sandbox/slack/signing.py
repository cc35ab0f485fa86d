"""Sign a request body exactly as Slack signs what it posts to an app.

Why: tests and the demo must reach the app's real signature check, not bypass it. Slack's recipe:
``X-Slack-Signature = "v0=" + hex(HMAC_SHA256(signing_secret, "v0:" + ts + ":" + raw_body))``
with ``X-Slack-Request-Timestamp = ts`` (seconds since the epoch).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The ``v0=`` signature of ``body`` sent at ``timestamp``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds; ``timestamp`` defaults to now (pass an old one to test 401s)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: signature(secret, body, ts)}
