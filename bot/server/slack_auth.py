"""Does Slack accept SLACK_BOT_TOKEN as a bot token? Asked once at start-up (``auth.test``), then
again in the background while Slack cannot be reached, so readiness tells a load balancer the truth.

Why at start-up: a wrong token otherwise starts fine and every user gets Slack's "reinstall this
app" instead of an answer. A refused token stops the start with one line; an unreachable Slack
does not (the bridge still records receipts and pages), but the replica is not ready until Slack
answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.server.env import EnvError
from bot.tasks import stop_task

log = logging.getLogger(__name__)

# auth.test errors no retry can cure: the token itself is wrong, revoked or its owner gone.
REFUSED = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)

State = Literal["checking", "ok", "unreachable", "refused"]


@dataclass(frozen=True)
class SlackCheck:
    """How the token is checked: the first answer is awaited ``first_wait`` seconds at most; while
    Slack cannot be reached it is asked again after ``retry_first`` seconds, doubling up to
    ``retry_cap``. ``sleep`` is what waits (tests pass a clock they control)."""

    first_wait: float = 5.0
    retry_first: float = 1.0
    retry_cap: float = 60.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep)


class SlackTokenRefused(EnvError):
    """Slack answered that SLACK_BOT_TOKEN is not a working bot token."""


def refusal(error: str) -> SlackTokenRefused:
    """One line naming the variable and where to get a right one; never the token."""
    if error in ("not_allowed_token_type", "user_token"):
        return SlackTokenRefused(
            "Slack says SLACK_BOT_TOKEN is not a bot token: use the Bot User OAuth Token "
            "(xoxb-…) from the Slack app's OAuth & Permissions page (an app-level xapp- token "
            "belongs in SLACK_APP_TOKEN)."
        )
    return SlackTokenRefused(
        f"Slack refused SLACK_BOT_TOKEN ({error}): copy the Bot User OAuth Token (xoxb-…) again "
        "from the Slack app's OAuth & Permissions page (reinstall the app if it was revoked)."
    )


def why_unanswered(exc: BaseException) -> str:
    """One line on why Slack did not answer; never a token (aiohttp names host and port only)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


class SlackAuth:
    """The token's standing with Slack, for readiness and for Socket Mode's first connect."""

    def __init__(self, client: AsyncWebClient, check: SlackCheck | None = None) -> None:
        self._client = client
        self._check = check or SlackCheck()
        self.state: State = "checking"
        self.ok = asyncio.Event()  # set once Slack has accepted the token
        self._retrying: asyncio.Task[None] | None = None
        self._refusal: SlackTokenRefused | None = None
        self._why_unreachable: str | None = None

    async def start(self) -> None:
        """The start-up check: raises ``SlackTokenRefused``; if Slack cannot be reached, logs one
        warning and keeps asking in the background."""
        try:
            await asyncio.wait_for(self._ask(), self._check.first_wait)
        except TimeoutError:
            self._unreachable("no answer in time")
        if self.state == "refused":
            assert self._refusal is not None
            raise self._refusal
        if self.state != "ok":
            self._retrying = asyncio.create_task(self._retry(), name="slack auth.test retry")

    async def close(self) -> None:
        await stop_task(self._retrying)

    async def _ask(self) -> None:
        """One auth.test; sets ``state``. A token that answers as a user is refused too."""
        try:
            answer = await self._client.auth_test()
        except SlackApiError as exc:
            error = str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
            if error in REFUSED:
                self._refuse(error)
            else:
                self._unreachable(f"Slack answered {error}")
            return
        except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
            self._unreachable(why_unanswered(exc))
            return
        if not answer.get("bot_id"):
            self._refuse("user_token")
            return
        if self.state == "unreachable":
            log.info("Slack answers again and accepts SLACK_BOT_TOKEN: ready")
        self.state = "ok"
        self.ok.set()

    def _refuse(self, error: str) -> None:
        self.state = "refused"
        self._refusal = refusal(error)

    def _unreachable(self, why: str) -> None:
        if self.state != "unreachable" or why != self._why_unreachable:
            log.warning(
                "Slack cannot be reached at SLACK_API_URL (%s): not ready until it answers; "
                "asking again in the background",
                why,
            )
        self.state = "unreachable"
        self._why_unreachable = why

    async def _retry(self) -> None:
        """Ask again with a doubling wait until Slack answers; a refusal now is logged (the
        process is serving), and readiness stays 503 with the reason."""
        wait = self._check.retry_first
        while self.state == "unreachable":
            await self._check.sleep(wait)
            wait = min(wait * 2, self._check.retry_cap)
            try:
                await asyncio.wait_for(self._ask(), self._check.first_wait)
            except TimeoutError:
                self._unreachable("no answer in time")
        if self.state == "refused":
            assert self._refusal is not None
            log.error("%s Not ready until restarted with a working token.", self._refusal)
