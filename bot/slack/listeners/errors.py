"""The one place an unexpected error in a listener ends: logged with context, the person told.

Why here and not in each listener: listeners let errors rise (no catch-and-log); this handler logs
what the request was (type, user, channel, callback or action id — never the message text, numbers
or tokens) with a short reference, and tells the person only that something went wrong, with
that reference, never a stack trace or an exception message. It cannot raise itself: Slack gets
a 200 and one log line whatever the error, and nothing is left as an unretrieved task exception.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncBoltContext
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import messages as blocks
from bot.slack.deps import Deps

log = logging.getLogger("bot.listeners")

T = TypeVar("T")


@dataclass(frozen=True)
class _Current:
    body: dict[str, Any]
    context: AsyncBoltContext


# The request a listener is serving: set by a middleware before the listener runs, copied into
# the task of its after-ack work (``context.start_work``), read there by after_ack to report a
# failure without bolt's error path.
_CURRENT: contextvars.ContextVar[_Current | None] = contextvars.ContextVar(
    "slack_request", default=None
)


async def remember_request(
    body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
) -> None:
    """Bolt middleware: make the request known to ``after_ack`` in the listener's task."""
    _CURRENT.set(_Current(body, context))
    await next()


async def after_ack(deps: Deps, work: Awaitable[T]) -> T | None:
    """Run the work that follows an ``ack()``; a failure is reported here (logged, the person
    told): the ack has gone, so nothing may rise out of the work's task (``context.start_work``,
    which also keeps the task for a shutdown to wait for).
    """
    try:
        return await work
    except Exception as error:
        current = _CURRENT.get()
        body = current.body if current is not None else {}
        await report(deps, error, body, current.context if current is not None else None)
        return None


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else None


def _text(value: Any) -> str | None:
    return value[:100] if isinstance(value, str) and value else None


def request_context(body: Any) -> dict[str, Any]:
    """What kind of request failed, for the log line; no free text from the person. Any shape."""
    actions = _get(body, "actions")
    first = actions[0] if isinstance(actions, list) and actions else None
    view = _get(body, "view")
    user = _get(body, "user")
    channel = _get(body, "channel")
    fields = {
        "slack_type": _text(_get(body, "type"))
        or ("slash_command" if _get(body, "command") is not None else None),
        "command": _text(_get(body, "command")),
        "callback_id": _text(_get(body, "callback_id")) or _text(_get(view, "callback_id")),
        "action_id": _text(_get(first, "action_id")),
        "user": _text(_get(user, "id")) if isinstance(user, dict) else _text(_get(body, "user_id")),
        "channel": _text(_get(channel, "id"))
        if isinstance(channel, dict)
        else _text(_get(body, "channel_id")),
        "view_id": _text(_get(view, "id")),
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


async def report(
    deps: Deps | None, error: BaseException, body: Any, context: AsyncBoltContext | None
) -> None:
    """Log the failure (one record, with its traceback) and tell the person; never raises."""
    ref = secrets.token_hex(3).upper()
    try:
        where = request_context(body)
        if isinstance(error, SlackApiError):  # Slack refused a call: its error code says why
            slack_error = error.response.get("error") if error.response is not None else None
            log.error(
                "Slack request failed: Slack answered %s",
                slack_error,
                extra={"ref": ref, **where},
            )
        else:  # a bug: the traceback is what fixes it
            log.error(
                "Slack request failed: %s",
                type(error).__name__,
                extra={"ref": ref, **where},
                exc_info=error,
            )
        if context is None or context.client is None:
            return
        command = deps.command if deps is not None else Deps.command
        text = blocks.ERROR_TEXT.format(ref=ref, command=command)
        await tell_user(context, context.client, text, where)
    except Exception as exc:  # the handler of last resort must not raise
        log.warning(
            "could not tell the user about an error: %s",
            type(exc).__name__,
            extra={"ref": ref},
        )


async def on_error(
    error: Exception,
    body: dict[str, Any],
    context: AsyncBoltContext,
    response: BoltResponse | None,
) -> BoltResponse | None:
    """Bolt's error handler: every error a listener lets rise, and requests nobody takes."""
    if isinstance(error, BoltUnhandledRequestError):
        # Nothing here listens for it (an old button, another app's id): nothing to do.
        log.info("ignored a Slack request no listener takes", extra=request_context(body))
    else:
        deps = context.get("deps")
        await report(deps if isinstance(deps, Deps) else None, error, body, context)
    # Slack gets an empty 200 (a modal closes; the person was told). A listener raises only
    # before its ack (its work after the ack runs in a task of its own), so no ack is lost.
    return BoltResponse(status=200, body="") if response is not None else None
