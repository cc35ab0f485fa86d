"""The environment the bridge runs in (SPEC "Environment"), read once, with clear errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.store.target import TargetError, check_target, redact_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DB = "var/bridge.db"


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

    def __repr__(self) -> str:  # tokens never reach a log line through a repr
        return (
            f"BridgeEnv(slack_api_url={self.slack_api_url!r}, port={self.port}, "
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

    def require_bot_token(self) -> None:
        if not self.slack_bot_token:
            raise EnvError(
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from the "
                "Slack app's OAuth & Permissions page."
            )

    def require_socket(self) -> None:
        if not self.slack_app_token:
            raise EnvError(
                "SLACK_APP_TOKEN is not set. Socket Mode needs an app-level token (xapp-…) with "
                "the connections:write scope, from the app's Basic Information page."
            )
        self.require_bot_token()


def read_env(environ: Mapping[str, str]) -> BridgeEnv:
    raw_port = environ.get("PORT", "3000")
    try:
        port = int(raw_port)
    except ValueError:
        raise EnvError(f"PORT must be a number, not {raw_port!r}") from None
    api_url = environ.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
    if not api_url.endswith("/"):
        api_url += "/"
    command = environ.get("SLACK_COMMAND", "/send")
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
    )
