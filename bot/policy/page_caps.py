"""How many pages one sender, and one escalation, may have running at once (the active-page caps).

Why caps: one allowed sender started 300 pages (300 SMS) in 3 s. The store decides at start,
counting and inserting in one atomic step (``PageStore.create_page``, with ``caps_of``); this
module names the caps, says which one a new page would break (``cap_reached``: the look a modal
takes before it closes) and what the refusal says.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.policy.refusals import Reason, Refusal
from bot.store.pages_base import PageCapReached, PageCaps, PageRecord
from config.schema import DefaultsConfig

OLDEST_SHOWN = 5  # page ids a refusal names, oldest first


def caps_of(defaults: DefaultsConfig) -> PageCaps:
    return PageCaps(defaults.max_active_pages_per_sender, defaults.max_active_pages_per_escalation)


def cap_reached(
    active: Sequence[PageRecord], escalation: str, sender: str | None, caps: PageCaps
) -> PageCapReached | None:
    """The cap a new page would break, counted over ``active`` pages; None if there is room."""
    ordered = sorted(active, key=lambda p: (p.created_at, p.page_id))
    for which, pages, limit in (
        ("sender", [p for p in ordered if sender and p.sender == sender], caps.per_sender),
        ("escalation", [p for p in ordered if p.escalation == escalation], caps.per_escalation),
    ):
        if len(pages) >= limit:
            oldest = [p.page_id for p in pages[:OLDEST_SHOWN]]
            return PageCapReached(which, len(pages), limit, oldest)
    return None


def cap_refusal(cap: PageCapReached, escalation: str, command: str) -> Refusal:
    """What a refused page tells its sender: how many are active, the limit, what to do."""
    whose = "you have" if cap.which == "sender" else f"escalation `{escalation}` has"
    oldest = f" (oldest: {', '.join(cap.oldest)})" if cap.oldest else ""
    return Refusal(
        Reason.PAGE_CAP,
        f"Page not started: {whose} {cap.active} active pages{oldest}; the limit is "
        f"{cap.limit}. Acknowledge the ones that are handled ({command} ack <page id>) "
        "and page again, or ask a bridge admin to raise "
        f"defaults.max_active_pages_per_{cap.which}.",
        subject=cap.which,
    )
