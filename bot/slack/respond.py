"""``respond()`` over the runtime's shared HTTP session.

Why: bolt's own ``respond`` opens a new aiohttp session — a new TCP (and TLS) connection — for
every reply to a response_url. Under a burst of commands that work competes with the acks on the
event loop (measured in bench/ack.py); one shared session keeps connections alive instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.models import JsonObject
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient


def _dicts(items: Sequence[Any]) -> list[Any]:
    return [item.to_dict() if isinstance(item, JsonObject) else item for item in items]


def build_message(
    text: str = "",
    blocks: Sequence[Any] | None = None,
    attachments: Sequence[Any] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """The response_url body ``respond`` posts: the text, non-empty block and attachment lists,
    and every option given (built here, not by bolt's private helper, so a bolt upgrade cannot
    change it)."""
    message: dict[str, Any] = {"text": text}
    if blocks:
        message["blocks"] = _dicts(blocks)
    if attachments:
        message["attachments"] = _dicts(attachments)
    message.update({key: value for key, value in options.items() if value is not None})
    return message


class SessionRespond(AsyncRespond):
    """Bolt's ``respond`` with the same arguments, posting through a shared session."""

    def __init__(self, *, response_url: str | None, session: aiohttp.ClientSession) -> None:
        super().__init__(response_url=response_url)
        self._session = session

    async def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if isinstance(text, dict):
            message = build_message(**text)
        else:
            message = build_message(
                text=text,
                blocks=blocks,
                attachments=attachments,
                response_type=response_type,
                replace_original=replace_original,
                delete_original=delete_original,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        client = AsyncWebhookClient(url=self.response_url, session=self._session)
        return await client.send_dict(message)


def shared_session_middleware(
    session: aiohttp.ClientSession,
) -> Callable[[AsyncBoltContext, Callable[[], Awaitable[BoltResponse]]], Awaitable[BoltResponse]]:
    """A bolt middleware that gives every listener a ``respond`` on the shared session."""

    async def middleware(
        context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        if context.response_url:
            context["respond"] = SessionRespond(response_url=context.response_url, session=session)
        return await next()

    return middleware
