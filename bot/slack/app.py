"""The Slack app factory: an AsyncApp with an injected client and every listener registered."""

from __future__ import annotations

import logging

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger import get_bolt_logger
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import listeners
from bot.slack.deps import Deps
from bot.slack.listeners import errors
from bot.slack.listeners.context import ProvideDeps
from bot.slack.respond import shared_session_middleware
from config import Settings


class _InjectedClientNotice(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN is unused when a client is given: that is our design (the
    client carries the token and SLACK_API_URL), so the warning would only alarm operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_BOLT_LOG = get_bolt_logger(AsyncApp)
_BOLT_LOG.addFilter(_InjectedClientNotice())


def create_app(
    settings: Settings,
    deps: Deps,
    *,
    client: AsyncWebClient | None = None,
    http_session: aiohttp.ClientSession | None = None,
) -> AsyncApp:
    """Build the app. ``client`` carries the bot token and the Web API base URL (SLACK_API_URL).

    Bolt's own signature check is off: /slack/events verifies every request first, on the raw
    bytes (``bot.slack.ingress.verify``: the same v0 HMAC and 5-minute window, stricter on the
    headers), and Socket Mode has no signature. A second check cost each ack its time
    (bench/ack.py) and guarded nothing more.

    ``process_before_response=True``: bolt awaits the listener and answers with its ack the
    moment it returns. In bolt's default mode the listener runs in a task and the answer waits
    for the runner's next 10 ms poll of ``ack.response``, later still while after-ack work holds
    the event loop. So every listener returns right after it acks, its work running in a task
    of its own (``listeners.context.acked``).
    """
    app = AsyncApp(
        client=client,
        request_verification_enabled=False,
        process_before_response=True,
        # A request no listener takes goes to our error handler: one log line and a 200.
        raise_error_for_unhandled_request=True,
    )
    app.middleware(ProvideDeps(deps))  # first: every listener and the error handler read it
    app.middleware(errors.remember_request)
    if http_session is not None:
        app.middleware(shared_session_middleware(http_session))
    listeners.register(app, deps)
    return app
