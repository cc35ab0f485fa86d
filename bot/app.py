"""The Slack app factory: an AsyncApp with an injected client and every listener registered."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import listeners
from bot.deps import Deps
from config import Settings


def create_app(
    settings: Settings,
    deps: Deps,
    *,
    client: AsyncWebClient | None = None,
    signing_secret: str | None = None,
) -> AsyncApp:
    """Build the app. ``client`` carries the bot token and the Web API base URL (SLACK_API_URL)."""
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=signing_secret is not None,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
    )
    listeners.register(app, deps)
    return app
