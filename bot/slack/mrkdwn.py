"""Text for Slack: user text escaped once, markup built only from escaped parts, cut safely.

Why a type: ``Mrkdwn`` is text already safe to put into mrkdwn. The block helpers
(``mrkdwn``/``section``/``context`` below) take only ``Mrkdwn`` (``mypy --strict`` refuses a
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

from slack_sdk.models.blocks import (
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
)

ELLIPSIS = "…"


class Limit(IntEnum):
    """Slack's length limits, per field (https://api.slack.com/reference/block-kit): where ``fit``
    cuts. ``slack_sdk``'s models check the same limits when a block is built."""

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
#
# Built with Slack's own models (``slack_sdk.models.blocks``), whose ``to_dict()`` validates each
# object against Slack's limits (``SlackObjectFormationError``): the models are the guard, ``fit``
# keeps our text inside it. The builders pass plain dicts between them (the shape Slack and the
# tests read); a composite built from them parses them back into models and validates again.

Block = dict[str, Any]


def plain(text: str, limit: int = Limit.TEXT) -> dict[str, Any]:
    """A plain_text object (Slack never parses mentions or links in it), cut to ``limit``."""
    return PlainTextObject(text=fit(text, limit), emoji=True).to_dict()


def mrkdwn(text: Mrkdwn, limit: int = Limit.TEXT) -> dict[str, Any]:
    """A mrkdwn object: a stray plain ``str`` is escaped, then cut; ``verbatim`` so Slack does
    not turn bare ``@here`` words, channel names or URLs into live mentions or links."""
    return MarkdownTextObject(text=fit(escape(text), limit), verbatim=True).to_dict()


def section(text: Mrkdwn) -> Block:
    return SectionBlock(text=mrkdwn(text)).to_dict()


def context(text: Mrkdwn, block_id: str | None = None) -> Block:
    return ContextBlock(elements=[mrkdwn(text)], block_id=block_id).to_dict()


def option(text: str, value: str, description: str | None = None) -> dict[str, Any]:
    described = plain(description, Limit.OPTION_DESCRIPTION) if description else None
    return Option(text=plain(text, Limit.OPTION_TEXT), value=value, description=described).to_dict()


def button(
    action_id: str,
    text: str,
    value: str,
    *,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A button whose label fits Slack's limit; the value is an id, never cut (the model refuses
    one over 2000 characters)."""
    element = ButtonElement(
        action_id=action_id,
        text=plain(text, Limit.BUTTON_TEXT),
        value=value,
        style=style,
        confirm=confirm,
    )
    return element.to_dict()


def confirm_dialog(title: str, text: Mrkdwn, yes: str, no: str) -> dict[str, Any]:
    """A button's "are you sure?" dialog, each part at its own limit."""
    dialog = ConfirmObject(
        title=plain(title, Limit.CONFIRM_TITLE),
        text=mrkdwn(text, Limit.CONFIRM_TEXT),
        confirm=plain(yes, Limit.CONFIRM_BUTTON),
        deny=plain(no, Limit.CONFIRM_BUTTON),
    )
    return dialog.to_dict()
