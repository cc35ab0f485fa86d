"""Finding a root message an earlier owner posted but never recorded (it died in between).

Why: a send's root message is posted, then its ts recorded; a replica (or a process) that dies
between the two leaves a message in Slack the send record does not know. Every root message is
posted with Slack message ``metadata`` naming its group, so whoever resumes the send looks it up
(``conversations.history``, or ``conversations.replies`` for a root posted in a thread) and
adopts it instead of posting a second one: one root message, never two. A page's root message
(``bot.paging.slack``) is found the same way, under its own ``RootKind``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.failures import slack_error

log = logging.getLogger(__name__)

PAGES = 10  # of 200 messages each, newest first: a takeover comes minutes after the post


@dataclass(frozen=True)
class RootKind:
    """Whose root message it is: the metadata's ``event_type`` and the payload field naming it."""

    event_type: str
    field: str


REPORT = RootKind("bridge_report", "group_id")  # a send's report (its request group)


def root_metadata(group_id: str, kind: RootKind = REPORT) -> dict[str, Any]:
    """The metadata every root message carries (Slack shows it to apps, not people)."""
    return {"event_type": kind.event_type, "event_payload": {kind.field: group_id}}


async def find_root(
    client: AsyncWebClient,
    channel: str,
    thread_ts: str | None,
    group_id: str,
    kind: RootKind = REPORT,
) -> str | None:
    """The ts of the root message already posted for ``group_id`` (of ``kind``), or None if
    there is none among the latest ``PAGES`` pages. Raises SlackApiError if Slack cannot say
    (e.g. ``missing_scope``: the app lacks ``channels:history``)."""
    cursor: str | None = None
    for _ in range(PAGES):
        args: dict[str, Any] = {
            "channel": channel,
            "include_all_metadata": True,
            "limit": 200,
            "cursor": cursor,
        }
        if thread_ts is not None:
            response = await client.conversations_replies(ts=thread_ts, **args)
        else:
            response = await client.conversations_history(**args)
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            named = (metadata.get("event_payload") or {}).get(kind.field)
            if metadata.get("event_type") == kind.event_type and named == group_id:
                return str(message["ts"])
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if cursor is None:
            return None
    log.warning("gave up looking for an earlier root message", extra={"group": group_id})
    return None


async def earlier_root(
    client: AsyncWebClient, channel: str, thread_ts: str | None, group_id: str
) -> str | None:
    """``find_root``, with a failure logged and taken as "none found": the report must still
    reach someone, so a new root is posted (the one case where there could be two)."""
    try:
        return await find_root(client, channel, thread_ts, group_id)
    except SlackApiError as exc:
        log.warning(
            "could not look for an earlier root message; posting a new one",
            extra={"group": group_id, "error": slack_error(exc)},
        )
        return None
