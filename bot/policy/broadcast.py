"""Who may use an on-call broadcast preset, and what a broadcast must have before it is planned.

Why here and not in the planner: the preset's ``allowed_senders`` is a rule like a channel's; the
planner (``bot.plan``) only asks and then plans each channel the preset sends through.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.policy.refusals import Reason, Refusal, Rejection, refuse
from bot.policy.senders import Sender
from config import ResolvedBroadcast, Settings


def may_broadcast(preset: ResolvedBroadcast, sender: Sender) -> Refusal | None:
    """None if the sender is among the preset's allowed_senders. A paging preset asks the
    escalation's senders too (``bot.policy.paging.may_page``): a preset never widens them."""
    if preset.allows_sender(sender.user_id, sender.usergroups):
        return None
    return Refusal(
        Reason.NOT_BROADCAST_SENDER,
        f"You are not allowed to use the {preset.title} broadcast. Ask a bridge admin to add you "
        f"to its allowed_senders.{sender.told}",
        field="preset",
        subject=preset.name,
    )


def usable_presets(settings: Settings, sender: Sender) -> list[ResolvedBroadcast]:
    """The presets this sender may use (what the broadcast modal offers)."""
    return [p for p in settings.broadcasts.values() if may_broadcast(p, sender) is None]


def check_broadcast(
    settings: Settings,
    preset_name: str,
    severity: str,
    text: str,
    channels: Sequence[str],
    sender: Sender,
) -> tuple[ResolvedBroadcast, list[str]]:
    """The preset and the channels picked among its own; Rejection (naming the field) for an
    unknown preset, a sender not allowed, a severity it lacks, no text or no channel."""
    broadcast = settings.broadcasts.get(preset_name)
    if broadcast is None:
        raise Rejection(f"There is no broadcast preset `{preset_name}`.", field="preset")
    refuse(may_broadcast(broadcast, sender))
    if severity not in broadcast.severities:
        raise Rejection(f"Pick a severity: {', '.join(broadcast.severities)}.", field="severity")
    if not text.strip():
        raise Rejection("The message is empty. Write what is happening.", field="text")
    chosen = [c for c in broadcast.channels if c in channels]
    if not chosen:
        raise Rejection("Pick at least one channel to send to.", field="channels")
    return broadcast, chosen
