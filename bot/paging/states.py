"""A page's states and what an acknowledgement came to, as enums rather than string literals.

Why ``StrEnum``: the store keeps the same strings it always did (no migration), and a member
compares equal to its string, so a record read back from either store is compared as it is.
"""

from __future__ import annotations

from enum import StrEnum

from bot.store.pages_base import PageRecord


class PageState(StrEnum):
    ACTIVE = "active"  # paging: steps run until someone acknowledges or the steps run out
    ACKNOWLEDGED = "acknowledged"
    ENDED = "ended"  # ran out of steps unanswered, its escalation was removed, or its alert
    # was resolved at the source (``acknowledged_by`` is then ``source:<integration>``)


class AckOutcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"  # this acknowledgement won
    ALREADY = "already"  # someone acknowledged first
    ENDED = "ended"  # the page ended unanswered before it
    REFUSED = "refused"  # not theirs to acknowledge (told as an unknown page, off its root)
    UNKNOWN = "unknown"  # no such page


def state_of(page: PageRecord) -> PageState:
    """The record's state as the enum (the store hands back its stored string)."""
    return PageState(page.state)
