"""When Slack is slow to say who is in a user group: ack or open a modal now, decide after.

Why: a modal submission must be acked, and a modal opened, within 3 s of the click; an uncached
``usergroups.users.list`` can take longer. So the lookup gets ``LOOKUP_WITHIN``; past it, the
modal opens as "checking…" and is filled in when the answer comes, and a submission is acked
(its modal closes) and decided afterwards — nothing is sent unless the sender is allowed, and
the person is told the outcome by direct message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.models.blocks import PlainTextObject, SectionBlock
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.directory import LOOKUP_WITHIN, MembershipPending
from bot.policy import Sender
from bot.slack import ids
from bot.slack.deps import Deps

CHECKING_TEXT = "Checking which channels you may use… this takes a moment."


def checking_view() -> dict[str, Any]:
    return View(
        type="modal",
        callback_id=ids.NOTICE_MODAL,
        title=PlainTextObject(text="Send a message"),
        close=PlainTextObject(text="Close"),
        blocks=[SectionBlock(text=PlainTextObject(text=CHECKING_TEXT))],
    ).to_dict()


async def open_modal(
    deps: Deps,
    client: AsyncWebClient,
    trigger_id: str,
    user: str,
    slack_channel: str | None,
    build: Callable[[Sender], dict[str, Any]],
) -> None:
    """``views.open`` before the trigger expires: the modal itself, or "checking…" replaced by it
    once the user's groups are known."""
    try:
        sender = await deps.service.sender(user, slack_channel, within=LOOKUP_WITHIN)
    except MembershipPending:
        opened = await client.views_open(trigger_id=trigger_id, view=checking_view())
        sender = await deps.service.sender(user, slack_channel)
        view = opened.get("view") or {}
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=build(sender))
        return
    await client.views_open(trigger_id=trigger_id, view=build(sender))


async def tell(client: AsyncWebClient, user: str, text: str) -> None:
    """The outcome of a submission decided after its ack (its modal is closed): a DM."""
    await client.chat_postMessage(channel=user, text=text)
