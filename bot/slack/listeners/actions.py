"""Buttons on messages: Retry failed / Retry unknown on a result, Send / Cancel on a held send.

Why every one is safe to click twice: the service makes retry, confirm and cancel idempotent, so
a double click or a click on a stale prompt never sends twice; here we only say what happened.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from slack_bolt.async_app import AsyncAck, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy import Rejection
from bot.slack import ids, summary
from bot.slack import messages as blocks
from bot.slack.deps import Deps
from bot.slack.listeners.context import acked, deps_of
from bot.slack.mrkdwn import Mrkdwn, md
from bot.slack.refusals import rejection_text
from bot.values import RequestState


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _clicked_in(body: dict[str, Any]) -> str | None:
    """The Slack channel the click came from: a button is checked as a send from there."""
    for part, key in (("channel", "id"), ("container", "channel_id")):
        section = body.get(part)
        found = section.get(key) if isinstance(section, dict) else None
        if isinstance(found, str) and found:
            return found
    return None


async def _tell(respond: AsyncRespond, text: Mrkdwn) -> None:
    """An ephemeral note beside the message clicked (the message itself is left alone)."""
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def _replace(respond: AsyncRespond, text: Mrkdwn) -> None:
    """Replace the ephemeral prompt that held the button (its buttons disappear)."""
    await respond(text=text, replace_original=True)


async def retry(
    deps: Deps,
    body: dict[str, Any],
    respond: AsyncRespond,
    which: Literal["failed", "unknown"],
    client: AsyncWebClient,
) -> None:
    request_id = _value(body)
    user = body["user"]["id"]
    try:
        submission = await deps.service.retry(request_id, which, user, _clicked_in(body))
    except Rejection as exc:
        await _tell(respond, rejection_text(exc))
        return
    if submission.created:
        await _mark_retried(body, client, which, submission.group_id, user)
    else:
        await _tell(
            respond,
            md(
                "The {} recipients of {} were already sent again as {}; nothing new was sent.",
                which,
                request_id,
                submission.group_id,
            ),
        )


async def _mark_retried(
    body: dict[str, Any],
    client: AsyncWebClient,
    which: Literal["failed", "unknown"],
    new_request_id: str,
    user: str,
) -> None:
    """The failure list now says who sent them again, and that button is gone: the thread tells
    the truth and nobody clicks a retry that already happened."""
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if not (channel and ts and message.get("blocks")):
        return
    action_id = ids.RETRY_FAILED if which == "failed" else ids.RETRY_UNKNOWN
    updated = summary.mark_retried(message["blocks"], action_id, which, new_request_id, user)
    with contextlib.suppress(SlackApiError):  # the retry itself went ahead regardless
        await client.chat_update(
            channel=channel, ts=ts, text=message.get("text") or "", blocks=updated
        )


async def _state(deps: Deps, group_id: str, user: str) -> RequestState | None:
    status = await deps.service.status(group_id, user)
    return status.record.state if status is not None else None


async def confirm(deps: Deps, body: dict[str, Any], respond: AsyncRespond) -> None:
    group_id = _value(body)
    user = body["user"]["id"]
    try:
        submission = await deps.service.confirm(group_id, user, _clicked_in(body))
    except Rejection as exc:
        await _tell(respond, rejection_text(exc))
        return
    if not submission.created and await _state(deps, group_id, user) is RequestState.CANCELLED:
        await _replace(respond, blocks.CANCELLED_TEXT)
        return
    await _replace(respond, blocks.SENDING_TEXT)


async def cancel(deps: Deps, body: dict[str, Any], respond: AsyncRespond) -> None:
    group_id = _value(body)
    user = body["user"]["id"]
    try:
        cancelled = await deps.service.cancel(group_id, user)
    except Rejection as exc:
        await _tell(respond, rejection_text(exc))
        return
    if cancelled or await _state(deps, group_id, user) is RequestState.CANCELLED:
        await _replace(respond, blocks.CANCELLED_TEXT)
    else:
        await _replace(respond, md("Too late to cancel: {} is already being sent.", group_id))


async def on_retry_failed(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await acked(ack, deps_of(context), retry, body, respond, "failed", client)


async def on_retry_unknown(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await acked(ack, deps_of(context), retry, body, respond, "unknown", client)


async def on_confirm(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await acked(ack, deps_of(context), confirm, body, respond)


async def on_cancel(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    await acked(ack, deps_of(context), cancel, body, respond)
