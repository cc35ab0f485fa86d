"""What a call to Slack raises when it fails, and the one word to log for it.

Why one place: the report, the root-message lookup and the paging messages each log a refused or
failed Slack call in one line; they name the failure the same way.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError

# Slack refused the call, or the way to Slack failed: each is logged in one line, not raised on.
SLACK_FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError)


def slack_error(exc: BaseException) -> str:
    """Slack's error code (``channel_not_found``), or what went wrong on the way to Slack."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") if exc.response is not None else "error")
    return type(exc).__name__
