"""The environment the bridge runs in (README, "Environment"), read once, with clear errors."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.server.limits import HttpLimits, read_limits
from bot.store.target import TargetError, check_target, redact_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DB = "var/bridge.db"
# An acknowledge link's MAC key: fewer bytes than this can be guessed offline from one link.
MIN_ACK_SECRET_BYTES = 32
MAKE_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


class EnvError(Exception):
    """A missing or malformed variable; the message says which and how to set it."""


@dataclass(frozen=True)
class BridgeEnv:
    slack_bot_token: str | None
    slack_signing_secret: str | None
    slack_app_token: str | None
    slack_api_url: str
    port: int
    db: str  # BRIDGE_DB: a SQLite path or a postgresql:// URL (may hold a password)
    command: str
    public_url: str | None = None  # BRIDGE_PUBLIC_URL: pages carry an acknowledge link under it
    ack_secret: str | None = None  # BRIDGE_ACK_SECRET: signs those links (else the signing secret)
    host: str | None = None  # HOST: the address to listen on (None: every interface)
    metrics_port: int | None = None  # METRICS_PORT: /metrics only there (None: on PORT)
    metrics_host: str | None = None  # METRICS_HOST: its address (None: as HOST)
    limits: HttpLimits = field(default_factory=HttpLimits)  # BRIDGE_*_TIMEOUT, MAX_CONNECTIONS

    def __repr__(self) -> str:  # tokens never reach a log line through a repr
        return (
            f"BridgeEnv(slack_api_url={self.slack_api_url!r}, host={self.host!r}, "
            f"port={self.port}, metrics_port={self.metrics_port}, "
            f"db={redact_url(self.db)!r}, command={self.command!r})"
        )

    def require_http(self) -> None:
        """HTTP mode cannot check Slack's signatures without the signing secret."""
        if not self.slack_signing_secret:
            raise EnvError(
                "SLACK_SIGNING_SECRET is not set. HTTP mode checks every request's signature "
                "with it: copy the Signing Secret from the Slack app's Basic Information page."
            )
        self.require_bot_token()
        self.ack_key()

    def ack_key(self) -> str | None:
        """The key that signs acknowledge links, or None when there are none (no
        ``BRIDGE_PUBLIC_URL``). Refuses a weak key or a link that would travel in clear."""
        if self.ack_secret is not None:
            _require_strong(self.ack_secret)
        if self.public_url is None:
            return None
        _require_safe_public_url(self.public_url)
        if self.ack_secret is not None:
            return self.ack_secret
        signing = self.slack_signing_secret
        if signing is None or len(signing.encode()) < MIN_ACK_SECRET_BYTES:
            why = "is not set" if signing is None else "is too short to sign them too"
            raise EnvError(
                f"BRIDGE_PUBLIC_URL is set, so pages carry acknowledge links, but "
                f"BRIDGE_ACK_SECRET is not set and SLACK_SIGNING_SECRET {why} (at least "
                f"{MIN_ACK_SECRET_BYTES} bytes): set BRIDGE_ACK_SECRET to one made with: "
                f"{MAKE_SECRET}"
            )
        return signing

    def require_bot_token(self) -> None:
        """Set, and shaped like a bot token: a token of another kind is refused before any call
        (only its kind is named, never the token)."""
        if not self.slack_bot_token:
            raise EnvError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from the "
                "Slack app's OAuth & Permissions page."
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            kind = _TOKEN_KINDS.get(self.slack_bot_token[:5], "not a bot token")
            raise EnvError(
                f"SLACK_BOT_TOKEN is {kind}, not a bot token (xoxb-…): copy the Bot User OAuth "
                "Token from the Slack app's OAuth & Permissions page (an app-level xapp- token "
                "belongs in SLACK_APP_TOKEN)."
            )

    def require_socket(self) -> None:
        if not self.slack_app_token:
            raise EnvError(
                "SLACK_APP_TOKEN is not set. Socket Mode needs an app-level token (xapp-…) with "
                "the connections:write scope, from the app's Basic Information page."
            )
        self.require_bot_token()
        self.ack_key()


def _require_strong(secret: str) -> None:
    size = len(secret.encode())
    if size < MIN_ACK_SECRET_BYTES:
        raise EnvError(
            f"BRIDGE_ACK_SECRET is {size} bytes: it signs acknowledge links and must be at least "
            f"{MIN_ACK_SECRET_BYTES} random bytes; make one with: {MAKE_SECRET}"
        )


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: a link that never leaves the machine."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _require_safe_public_url(url: str) -> None:
    """An https base address (plain http only for a loopback host), with no query or fragment:
    the link goes out by SMS, so in clear anyone on the way could read or rewrite it."""
    how = "write the bridge's public address, e.g. https://bridge.example.com"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise EnvError(f"BRIDGE_PUBLIC_URL {url!r} is not an http(s) address: {how}") from None
    if not host or parts.scheme.lower() not in ("https", "http"):
        raise EnvError(f"BRIDGE_PUBLIC_URL {url!r} is not an http(s) address: {how}")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise EnvError(f"BRIDGE_PUBLIC_URL {url!r} has a ?query or #fragment: {how}")
    if parts.scheme.lower() == "http" and not is_loopback(host):
        raise EnvError(
            f"BRIDGE_PUBLIC_URL {url!r} is plain http: acknowledge links sent by SMS could be read "
            "or changed on the way. Use https:// (plain http is allowed only for a loopback "
            "host: localhost, 127.0.0.0/8, ::1)"
        )


# What a token's first five characters say it is (Slack's documented prefixes).
_TOKEN_KINDS = {
    "xapp-": "an app-level token (xapp-…)",
    "xoxp-": "a user token (xoxp-…)",
    "xoxe-": "a refresh token (xoxe-…)",
    "xoxa-": "a workspace token (xoxa-…)",
}


def _port(environ: Mapping[str, str], name: str, default: str | None) -> int | None:
    raw = environ.get(name) or default
    if raw is None:
        return None
    try:
        port = int(raw)
    except ValueError:
        raise EnvError(f"{name} must be a port number (1-65535), not {raw!r}") from None
    if not 0 <= port <= 65535:
        raise EnvError(f"{name} must be a port number (1-65535), not {raw!r}")
    return port


def read_env(environ: Mapping[str, str]) -> BridgeEnv:
    port = _port(environ, "PORT", "3000")
    assert port is not None
    metrics_port = _port(environ, "METRICS_PORT", None)
    host = environ.get("HOST", "").strip() or None
    if metrics_port is not None and metrics_port == port and port != 0:
        raise EnvError(
            f"METRICS_PORT is {metrics_port}, the same as PORT: give /metrics a port of its own, "
            "or unset METRICS_PORT to serve it on PORT"
        )
    api_url = environ.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not api_url.endswith("/"):
        api_url += "/"
    command = environ.get("SLACK_COMMAND", "/send")
    try:
        limits = read_limits(environ)
    except ValueError as exc:
        raise EnvError(str(exc)) from None
    db = environ.get("BRIDGE_DB") or DEFAULT_DB
    try:
        check_target(db)
    except TargetError as exc:
        raise EnvError(str(exc)) from None
    return BridgeEnv(
        slack_bot_token=environ.get("SLACK_BOT_TOKEN") or None,
        slack_signing_secret=environ.get("SLACK_SIGNING_SECRET") or None,
        slack_app_token=environ.get("SLACK_APP_TOKEN") or None,
        slack_api_url=api_url,
        port=port,
        db=db,
        command=command if command.startswith("/") else "/" + command,
        public_url=(environ.get("BRIDGE_PUBLIC_URL") or "").strip().rstrip("/") or None,
        ack_secret=environ.get("BRIDGE_ACK_SECRET") or None,
        host=host,
        metrics_port=metrics_port,
        metrics_host=environ.get("METRICS_HOST", "").strip() or host,
        limits=limits,
    )
