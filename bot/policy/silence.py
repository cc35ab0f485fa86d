"""Who may silence an integration's alerts (and end or list its silences as one who may).

Why the integration's ``allowed_senders``: a silence stops pages for everything it matches, so
it is as strong as paging itself; the people a source's config names as its owners decide.
Ending a silence early is the same right (it starts pages again). Anyone may list silences: an
on-call engineer wondering why nothing paged must be able to see it.
"""

from __future__ import annotations

from bot.policy.refusals import Reason, Refusal
from bot.policy.senders import Sender
from config.settings import Integration


def may_silence(integration: Integration, sender: Sender) -> Refusal | None:
    """None if the sender is among the integration's allowed_senders."""
    if integration.senders.allows(sender.user_id, sender.usergroups):
        return None
    return Refusal(
        Reason.NOT_SILENCER,
        f"You may not silence `{integration.name}`. Ask a bridge admin to add you (or one of "
        f"your user groups) to integrations.{integration.name}.allowed_senders.{sender.told}",
        subject=integration.name,
    )
