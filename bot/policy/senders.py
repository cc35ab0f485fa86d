"""Who asks: the sender a rule is decided for, and the user groups that matter to the rules.

Why the groups are looked up elsewhere: membership is a Slack call (``bot.directory``, through
``bot.plan.Planner.sender``); the rules stay pure functions of settings and a ``Sender``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from config import Settings
from config.settings import Senders


@dataclass(frozen=True)
class Sender:
    """Who asks, from where. ``usergroups``: the groups they belong to, among those that matter."""

    user_id: str
    usergroups: frozenset[str] = frozenset()
    slack_channel: str | None = None
    note: str | None = None  # why group membership could not be checked, told on a denial

    @property
    def told(self) -> str:
        """The note, as the tail of a refusal (" " and the note, or nothing)."""
        return f" {self.note}" if self.note else ""


def among(
    users: frozenset[str], usergroups: frozenset[str], user_id: str, theirs: Iterable[str]
) -> bool:
    """Is ``user_id`` one of ``users``, or in one of ``usergroups`` (``theirs``: their groups)?
    The rule is ``config.Senders``'s, for lists (an escalation's) that have no ``Senders``."""
    return Senders(users, usergroups).allows(user_id, theirs)


def usergroups_that_matter(settings: Settings) -> frozenset[str]:
    """Every usergroup any channel, broadcast, escalation or integration (who may silence it)
    refers to (what to look up)."""
    groups: set[str] = set()
    for channel in settings.channels.values():
        groups |= channel.allowed_usergroups
    for broadcast in settings.broadcasts.values():
        groups |= broadcast.allowed_usergroups
    for escalation in settings.escalations.values():
        groups |= escalation.allowed_usergroups
    for integration in settings.integrations.values():
        groups |= integration.senders.usergroups
    return frozenset(groups)
