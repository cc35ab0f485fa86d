"""Text for Slack: user text escaped once, markup built only from escaped parts, cut safely.

Why a type: ``Mrkdwn`` is text already safe to put into mrkdwn. The block helpers
(``bot.blocks.mrkdwn``/``section``/``context``) take only ``Mrkdwn`` (``mypy --strict`` refuses a
plain ``str``) and escape a stray ``str`` at run time anyway, so user text (a slash command, a
modal, a provider's reason, a name from config) can never become a live ``@channel``, a mention
or a link labelled as something else. Slack's rules: only ``&``, ``<`` and ``>`` are escaped
(https://api.slack.com/reference/surfaces/formatting#escaping).

Why one ``fit``: escaping makes text longer, so text is cut after escaping, at the limit of the
field it goes into (``Limit``), never inside an entity (``&amp;``) or a control sequence the
bridge wrote itself (``<@U…>``, ``<!date^…>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any, LiteralString, overload

ELLIPSIS = "…"


class Limit(IntEnum):
    """Slack's length limits, per field (https://api.slack.com/reference/block-kit)."""

    TEXT = 3000  # a section's or context element's text object
    FIELD = 2000  # a section field; an input's label and hint
    HEADER = 150
    BUTTON_TEXT = 75
    BUTTON_VALUE = 2000
    OPTION_TEXT = 75
    OPTION_DESCRIPTION = 75
    PLACEHOLDER = 150
    CONFIRM_TITLE = 100
    CONFIRM_TEXT = 300
    CONFIRM_BUTTON = 30
    VIEW_TITLE = 24
    ACTION_ID = 255
    BLOCK_ID = 255
    MESSAGE_TEXT = 4000  # a message's top-level text: Slack cuts a longer one on display
    MESSAGE_BLOCKS = 50
    VIEW_BLOCKS = 100


class Mrkdwn(str):
    """Text that is safe as Slack mrkdwn: user parts escaped, markup written by the bridge."""

    __slots__ = ()


def escape(text: object) -> Mrkdwn:
    """``&``, ``<``, ``>`` as entities; ``Mrkdwn`` is already safe and comes back unchanged."""
    if isinstance(text, Mrkdwn):
        return text
    raw = str(text)
    return Mrkdwn(raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def unescape(text: str) -> str:
    """Safe text back to the words it shows, for plain-text surfaces (a modal's error, a
    terminal); ``&amp;`` last, so an escaped ``&lt;`` stays the ``&lt;`` someone typed."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _arg(value: object) -> object:
    # Numbers cannot carry markup and keep their format specs ({:d}, {:,}).
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return escape(value)


def md(template: LiteralString, /, *args: object, **kwargs: object) -> Mrkdwn:
    """``template.format(...)`` with every argument escaped (unless already ``Mrkdwn``).

    The template is the bridge's own markup (a literal); only the arguments are user text.
    """
    return Mrkdwn(
        template.format(*(_arg(a) for a in args), **{k: _arg(v) for k, v in kwargs.items()})
    )


def join(separator: LiteralString, parts: Iterable[object]) -> Mrkdwn:
    """``separator.join(parts)``, each part escaped unless already ``Mrkdwn``."""
    return Mrkdwn(separator.join(escape(p) for p in parts))


def split_lines(text: Mrkdwn) -> list[Mrkdwn]:
    """The lines of safe text, still safe (a line break never splits an entity)."""
    return [Mrkdwn(line) for line in text.splitlines()]


@overload
def fit(text: Mrkdwn, limit: int) -> Mrkdwn: ...
@overload
def fit(text: str, limit: int) -> str: ...
def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with a visible ellipsis; ``Mrkdwn`` stays whole.

    Slack rejects over-long text; a visible "…" is better than a lost message. In ``Mrkdwn``
    every ``&`` starts an entity and every ``<`` a sequence the bridge wrote, so the cut moves
    back before any that it would split.
    """
    if len(text) <= limit:
        return text
    head = text[: max(limit - len(ELLIPSIS), 0)]
    if not isinstance(text, Mrkdwn):
        return head + ELLIPSIS
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    lt = head.rfind("<")
    if lt != -1 and ">" not in head[lt:]:
        head = head[:lt]
    return Mrkdwn(head + ELLIPSIS)


# --- the Block Kit objects text goes into -----------------------------------------------------

Block = dict[str, Any]


def plain(text: str, limit: int = Limit.TEXT) -> dict[str, Any]:
    """A plain_text object (Slack never parses mentions or links in it), cut to ``limit``."""
    return {"type": "plain_text", "text": fit(text, limit), "emoji": True}


def mrkdwn(text: Mrkdwn, limit: int = Limit.TEXT) -> dict[str, Any]:
    """A mrkdwn object: a stray plain ``str`` is escaped, then cut; ``verbatim`` so Slack does
    not turn bare ``@here`` words, channel names or URLs into live mentions or links."""
    return {"type": "mrkdwn", "text": fit(escape(text), limit), "verbatim": True}


def section(text: Mrkdwn) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def context(text: Mrkdwn) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    opt: dict[str, Any] = {"text": plain(text, Limit.OPTION_TEXT), "value": value}
    if description:
        opt["description"] = plain(description, Limit.OPTION_DESCRIPTION)
    return opt


def button(
    action_id: str,
    text: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button whose label and value fit Slack's limits (the value is an id: never cut)."""
    if len(value) > Limit.BUTTON_VALUE:
        raise ValueError("a button value over 2000 characters; pass an id, not the data")
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": plain(text, Limit.BUTTON_TEXT),
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: Mrkdwn, yes: str, no: str) -> dict[str, Any]:
    """A button's "are you sure?" dialog, each part at its own limit."""
    return {
        "title": plain(title, Limit.CONFIRM_TITLE),
        "text": mrkdwn(text, Limit.CONFIRM_TEXT),
        "confirm": plain(yes, Limit.CONFIRM_BUTTON),
        "deny": plain(no, Limit.CONFIRM_BUTTON),
    }
