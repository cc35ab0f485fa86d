"""``/send status P…``: one page's state in words, for someone who may see it.

Why rendered from the record (as the root message is): the person asking may be in another
channel, or the root message may never have been posted (a page started from the terminal);
the store has everything: state, step, who was paged by what, and how each send went.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from bot.paging.service import PageView
from bot.paging.slack import took, urgency_note, who
from bot.paging.snapshot import escalation_of
from bot.paging.states import PageState, state_of
from bot.paging.watch import OPERATOR, plain_name
from bot.slack.mrkdwn import Limit, Mrkdwn, escape, fit, md
from bot.store.pages_base import PageSend
from bot.store.timers_base import VIA, PageTimer
from bot.values import RecipientStatus
from config import Settings

PAGE_ID = re.compile(r"P[0-9A-Z]{8}")
SHOWN_PER_STEP = 20  # a contact list of hundreds is counted, not listed
_TIME = "%Y-%m-%d %H:%M:%S UTC"


def is_page_id(text: str) -> bool:
    return PAGE_ID.fullmatch(text.strip().upper()) is not None


def unknown_page_text(page_id: str) -> Mrkdwn:
    """The answer for an unknown page and for one this person may not see, word for word."""
    return md(
        "There is no page `{}` that you can see. Page ids look like P7K3QX9A2; only the people "
        "it paged, the senders of its escalation and whoever started it can see a page.",
        page_id,
    )


def person(settings: Settings, key: str) -> Mrkdwn:
    """A person by mention or name (``who``: a number standing for itself masked), or the
    login that acknowledged at the terminal."""
    if key.startswith(OPERATOR):
        return escape(plain_name(settings, key))
    return who(settings, key)


def _at(moment: datetime) -> str:
    return moment.strftime(_TIME)


def _state(settings: Settings, view: PageView, steps: int) -> Mrkdwn:
    page = view.page
    if state_of(page) is PageState.ACKNOWLEDGED and page.acknowledged_at is not None:
        return md(
            ":white_check_mark: *Acknowledged* by {} at {} ({} after it started)",
            person(settings, page.acknowledged_by or "?"),
            _at(page.acknowledged_at),
            took(page.created_at, page.acknowledged_at),
        )
    if state_of(page) is PageState.ENDED:
        ended = _at(page.ended_at) if page.ended_at is not None else "?"
        return md(":x: *Ended unanswered* at {}: nobody acknowledged.", ended)
    repeat = f" (repeat {page.round})" if page.round else ""
    step = max(page.step, 0) + 1
    nxt = f"; next step due {_at(page.next_at)}" if page.next_at is not None else ""
    return md("Step {} of {}{} · waiting for an acknowledgement{}", step, steps, repeat, nxt)


def _step_lines(
    settings: Settings, sends: list[tuple[PageSend, RecipientStatus | None]]
) -> list[Mrkdwn]:
    by_step: dict[tuple[int, int], list[Mrkdwn]] = defaultdict(list)
    for send, status in sends:
        word = status.value if status is not None else "recorded"
        rule = f", rule {send.rule + 1}" if send.rule is not None else ""
        by_step[(send.round, send.step)].append(
            md("{} by `{}`{} ({})", person(settings, send.person), send.channel, rule, word)
        )
    lines: list[Mrkdwn] = []
    for (round_, step), shown in sorted(by_step.items()):
        repeat = f" (repeat {round_})" if round_ else ""
        more = len(shown) - SHOWN_PER_STEP
        tail = f" and {more} more" if more > 0 else ""
        lines.append(
            md(
                "• Step {}{}: {}{}",
                step + 1,
                repeat,
                Mrkdwn("; ".join(shown[:SHOWN_PER_STEP])),
                tail,
            )
        )
    return lines


def _pending_lines(settings: Settings, pending: tuple[PageTimer, ...]) -> list[Mrkdwn]:
    """Contact rules and sends held for quiet hours, still to go, in the order they fall due."""
    lines: list[Mrkdwn] = []
    for timer in pending[:SHOWN_PER_STEP]:
        how = "the step's channels" if timer.rule == VIA else f"`{timer.channel}`"
        rule = f", rule {timer.rule + 1}" if timer.rule != VIA else ""
        lines.append(
            md("• {} by {}{} at {}", person(settings, timer.person), how, rule, _at(timer.due_at))
        )
    more = len(pending) - SHOWN_PER_STEP
    return lines + ([md("• and {} more", more)] if more > 0 else [])


def page_status_text(settings: Settings, view: PageView) -> Mrkdwn:
    page = view.page
    policy = escalation_of(settings, page)
    steps = len(policy.steps) if policy is not None else 0
    starter = md("<@{}>", page.sender) if page.sender else Mrkdwn("the bridge's terminal")
    lines = [
        md(
            ":rotating_light: *Page {}* · escalation `{}`{}",
            page.page_id,
            page.escalation,
            urgency_note(settings, page),
        ),
        md("> {}", page.text.replace("\n", " ")),
        md("Started by {} at {}", starter, _at(page.created_at)),
        _state(settings, view, steps),
    ]
    paged = _step_lines(settings, view.sends)
    lines += [md("Paged:"), *paged] if paged else [md("Nobody has been paged yet.")]
    waiting = _pending_lines(settings, view.pending)
    lines += [md("Still to go (until someone acknowledges):"), *waiting] if waiting else []
    return fit(Mrkdwn("\n".join(lines)), Limit.TEXT)
