"""Who may act on a send after it was asked: see its status, confirm or cancel it, retry it.

Why these rules sit with the send rule: a confirm or a retry sends, so it is decided as a fresh
send would be (``may_send``, for the person clicking, from where they click, under the config
now); cancelling and confirming a held send are its requester's alone.
"""

from __future__ import annotations

from typing import Literal

from bot.policy.refusals import Reason, Refusal
from bot.policy.senders import Sender
from config import ResolvedChannel

NOTHING_SENT = "Nothing was sent. "


def may_see_request(
    requester: str | None,
    channel: ResolvedChannel | None,
    user_id: str | None,
    sender: Sender | None,
) -> bool:
    """``/send status R…``: the terminal (``user_id`` None), the requester, or anyone allowed
    to send to its channel (not tied to slack_channels: the answer is private)."""
    if user_id is None or requester == user_id:
        return True
    return (
        channel is not None
        and sender is not None
        and channel.allows_sender(sender.user_id, sender.usergroups)
    )


def may_decide_held(
    requester: str | None, user_id: str, action: Literal["confirm", "cancel"]
) -> Refusal | None:
    """A send held for confirmation is confirmed or cancelled by its requester only."""
    if requester == user_id:
        return None
    return Refusal(
        Reason.NOT_REQUESTER,
        f"Only <@{requester}> can {action} this send.",
        subject=action,
        user=requester,
    )
