"""The ``/send`` text parser: Slack's command text in, a Command out (or a ParseError a person can
act on). Pure; policy decides afterwards whether the channel, the numbers and the text are
acceptable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.slack.parse_alerts import (
    ALERT_KEYWORDS,
    AlertCommand,
    AlertParseError,
    parse_alert_command,
)


@dataclass(frozen=True)
class OpenModal:
    """``/send`` alone: open the send modal."""


@dataclass(frozen=True)
class Help:
    """``/send help``."""


@dataclass(frozen=True)
class List:
    """``/send list``."""


@dataclass(frozen=True)
class History:
    """``/send history``: this person's recent sends."""


@dataclass(frozen=True)
class Status:
    """``/send status R…`` (a send) or ``/send status P…`` (a page)."""

    request_id: str


@dataclass(frozen=True)
class Send:
    """``/send <channel> [<numbers>] <text…>``; ``to`` is empty for the channel's own recipients."""

    channel: str
    to: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Page:
    """``/send page <escalation> <text…>``."""

    escalation: str
    text: str


@dataclass(frozen=True)
class Ack:
    """``/send ack <page-id>``."""

    page_id: str


@dataclass(frozen=True)
class OnCall:
    """``/send oncall [schedule]``."""

    schedule: str | None


@dataclass(frozen=True)
class PhoneCheck:
    """``/send test-me`` (``person`` None) or ``/send test <person>``."""

    person: str | None


Command = (
    OpenModal
    | Help
    | List
    | Status
    | History
    | Send
    | Page
    | Ack
    | OnCall
    | PhoneCheck
    | AlertCommand
)


class ParseError(ValueError):
    """The text cannot be read as a command; ``message`` says how to write it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Keywords win over a channel of the same name (channel names are lower-case slugs, so a channel
# called "help" could exist); such a channel is still reachable from the send modal.
KEYWORDS = (
    frozenset({"help", "list", "status", "history", "page", "ack", "oncall", "test", "test-me"})
    | ALERT_KEYWORDS
)
PAGE_USAGE = "usage: /send page <escalation> <what is happening>"
ACK_USAGE = "usage: /send ack <page-id>, e.g. /send ack P7K3QX9A2"
STATUS_USAGE = "usage: /send status <request-id>"
TEST_USAGE = "usage: /send test <person> (a name from people), or /send test-me"
EMPTY_TEXT = "Write the message after the channel name: /send oncall-sms Disk full on db-1"
EMPTY_TEXT_AFTER_NUMBERS = (
    "Write the message after the numbers: /send customers +254712345678 Disk full on db-1"
)

# Slack's markup in command text: <url|label>, <url>, <tel:…|…>, <mailto:…|…>, <@U…|name>,
# <#C…|name>, <!here>. The label is what the person typed, so it wins over the target.
_SLACK_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_PHONE_PART = re.compile(r"^\+?[0-9().\-]+$")
_TOKEN = re.compile(r"\s*(\S+)")
_QUOTES = (('"', '"'), ("“", "”"), ("'", "'"), ("‘", "’"), ("„", "“"))


def _link_text(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("@"):  # a user mention
        return "@" + (label or target[1:])
    if target.startswith("#"):  # a channel mention
        return "#" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!channel>, <!subteam^S…|@group>
        return label or "@" + target[1:].split("^", 1)[0]
    if label:
        return label
    for scheme in ("tel:", "mailto:"):
        if target.startswith(scheme):
            return target[len(scheme) :]
    return target


def unescape_slack(text: str) -> str:
    """Slack's encoded command or message text as the person typed it.

    Links (``<https://x|x>``, ``<https://x>``) and auto-linked phone numbers (``<tel:+254…|+254…>``)
    become their text; ``&lt;`` ``&gt;`` ``&amp;`` become ``<`` ``>`` ``&`` (``&amp;`` last, so
    ``&amp;lt;`` stays the literal ``&lt;`` the person typed).
    """
    text = _SLACK_LINK.sub(_link_text, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _is_recipient(part: str) -> bool:
    lowered = part.lower()
    if lowered.startswith("tag:") and len(part) > 4:
        return True
    if lowered.endswith("@g.us"):
        return True
    if not _PHONE_PART.match(part):
        return False
    # A leading + is always meant as a number, so a mistyped one ("+2547") is refused with a
    # reason instead of being sent as text to the channel's whole list.
    return part.startswith("+") or sum(c.isdigit() for c in part) >= 7


def _recipients_in(token: str) -> list[str] | None:
    """The addresses in a comma-separated token, or None if it is not (all) addresses."""
    parts = [p for p in token.split(",") if p]
    if not parts or not all(_is_recipient(p) for p in parts):
        return None
    return [p.lower() if p.lower().startswith("tag:") else p for p in parts]


def strip_quotes(text: str) -> str:
    """Remove one pair of matching surrounding quotes, when the quote is not also used inside."""
    text = text.strip()
    for opening, closing in _QUOTES:
        if len(text) >= 2 and text.startswith(opening) and text.endswith(closing):
            inner = text[len(opening) : -len(closing)]
            if opening not in inner and closing not in inner:
                return inner.strip()
    return text


def parse_command(text: str) -> Command:
    """Read ``/send`` text.

    * empty -> OpenModal; ``help`` / ``list`` / ``history`` / ``status <id>`` (any case);
    * ``<channel> <text…>`` -> Send to the channel's own recipients;
    * ``<channel> <numbers> <text…>`` -> Send to those addresses instead. The numbers are one
      token of comma-separated numbers (digits with ``+ - ( ) .``, at least 7 digits each),
      contact tags (``tag:42``) or WhatsApp group ids (``…@g.us``); ``a, b`` with a space after
      the comma is read too. Quote the text if it starts with such a number.
    * the text keeps its own spacing and line breaks; one pair of surrounding quotes is removed.
    """
    text = unescape_slack(text)
    first = _TOKEN.match(text)
    if first is None:
        return OpenModal()
    word = first.group(1)
    keyword = word.lower()
    if keyword in ALERT_KEYWORDS:
        try:
            return parse_alert_command(keyword, text, first.end())
        except AlertParseError as exc:
            raise ParseError(exc.message) from None
    if keyword in KEYWORDS:
        rest = _TOKEN.match(text, first.end())
        if keyword == "help":
            return Help()
        if keyword == "list":
            return List()
        if keyword == "history":
            return History()
        if keyword == "oncall":
            return OnCall(rest.group(1).lower() if rest is not None else None)
        if keyword == "page":
            body = strip_quotes(text[rest.end() :]) if rest is not None else ""
            if rest is None or not body:
                raise ParseError(PAGE_USAGE)
            return Page(rest.group(1).lower(), body)
        if keyword == "test-me":
            return PhoneCheck(None)
        if keyword == "test":
            if rest is None:
                raise ParseError(TEST_USAGE)
            return PhoneCheck(rest.group(1).strip("`'\"").lower())
        if keyword == "ack":
            if rest is None:
                raise ParseError(ACK_USAGE)
            return Ack(rest.group(1).strip("`'\"").upper())
        if rest is None:
            raise ParseError(STATUS_USAGE)
        return Status(rest.group(1).strip("`'\"").upper())
    channel = word.lstrip("#").lower()
    pos = first.end()
    to: list[str] = []
    open_list = True  # the first token after the channel may start a list of numbers
    while True:
        token = _TOKEN.match(text, pos)
        if token is None:
            break
        raw = token.group(1)
        found = _recipients_in(raw) if open_list or raw.startswith(",") else None
        if found is None:
            break
        to.extend(found)
        pos = token.end()
        open_list = raw.endswith(",")
    body = strip_quotes(text[pos:])
    if not body:
        raise ParseError(EMPTY_TEXT_AFTER_NUMBERS if to else EMPTY_TEXT)
    return Send(channel=channel, to=tuple(to), text=body)
