"""The one place an unexpected error in a listener ends: logged with context, the person told.

Why here and not in each listener: listeners let errors rise (no catch-and-log); this handler logs
what the request was (type, user, channel, callback or action id — never the message text, numbers
or tokens) with a short reference, and tells the person only that something went wrong, with
that reference, never a stack trace or an exception message.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot import blocks
from bot.deps import Deps

log = logging.getLogger("bot.listeners")

# Bolt's runner polls every 10 ms for the ack; if the listener fails before that poll saw it, the
# error path overwrites the ack with None and Bolt answers Slack 404 ("didn't call ack()")
# although the person's request was acknowledged (slack_bolt 1.30, asyncio_runner.py).
ACK_SEEN_DELAY = 0.05


T = TypeVar("T")


async def after_ack(deps: Deps, work: Awaitable[T]) -> T:
    """Run the work that follows an ``ack()``; on failure, let Bolt see the ack, then re-raise
    so the one error handler below logs it and tells the person.

    The task is tracked so a shutdown waits for it: Slack has its ack and will not retry, so
    work dropped here would be a request the person was told about and that never happened.
    """
    task = asyncio.current_task()
    if task is not None:
        deps.service.track_listener(task)
    try:
        return await work
    except Exception:
        await asyncio.sleep(ACK_SEEN_DELAY)
        raise


def request_context(body: dict[str, Any]) -> dict[str, Any]:
    """What kind of request failed, for the log line; no free text from the person."""
    actions = body.get("actions") or []
    view = body.get("view") or {}
    user = body.get("user")
    channel = body.get("channel")
    fields = {
        "slack_type": body.get("type") or ("slash_command" if "command" in body else None),
        "command": body.get("command"),
        "callback_id": body.get("callback_id") or view.get("callback_id"),
        "action_id": actions[0].get("action_id") if actions else None,
        "user": user.get("id") if isinstance(user, dict) else body.get("user_id"),
        "channel": channel.get("id") if isinstance(channel, dict) else body.get("channel_id"),
        "view_id": view.get("id"),
    }
    return {k: v for k, v in fields.items() if v}


async def tell_user(
    context: AsyncBoltContext, client: AsyncWebClient, text: str, where: dict[str, Any]
) -> None:
    """Ephemeral through the response_url when there is one, else beside them, else a DM."""
    if context.response_url and context.respond is not None:
        await context.respond(text=text, response_type="ephemeral", replace_original=False)
        return
    user = where.get("user")
    if not user:
        return
    channel = where.get("channel")
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    else:
        await client.chat_postMessage(channel=user, text=text)


def register(app: AsyncApp, deps: Deps) -> None:
    @app.error
    async def on_error(
        error: Exception,
        body: dict[str, Any],
        context: AsyncBoltContext,
        client: AsyncWebClient,
    ) -> None:
        ref = secrets.token_hex(3).upper()
        where = request_context(body)
        log.error(
            "Slack request failed: %s",
            type(error).__name__,
            extra={"ref": ref, **where},
            exc_info=error,
        )
        text = blocks.ERROR_TEXT.format(ref=ref, command=deps.command)
        try:
            await tell_user(context, client, text, where)
        except Exception as exc:  # the handler of last resort must not raise
            log.warning(
                "could not tell the user about an error: %s",
                type(exc).__name__,
                extra={"ref": ref},
            )
