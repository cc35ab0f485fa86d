"""What policy answers when the answer is no: a reason code, the words, and the facts to word it.

Why plain values: policy decides, the surfaces word. A ``Refusal`` carries its plain sentence
(what the terminal prints and a modal's error shows) and, for the few refusals that name a Slack
channel or user, the ids themselves, so ``bot.slack.refusals`` can turn them into mentions. No
markup is made here: policy does not know Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Why a request was refused: one code per rule, the rest are the message's own checks."""

    INVALID = "invalid"  # what was asked is malformed or impossible (the words say what)
    NO_SUCH_CHANNEL = "no_such_channel"
    NOT_CHANNEL_SENDER = "not_channel_sender"  # not among the channel's allowed_senders
    ONLY_FROM = "only_from"  # the channel is limited to some Slack channels
    NOT_BROADCAST_SENDER = "not_broadcast_sender"
    NOT_PAGE_SENDER = "not_page_sender"  # not among the escalation's allowed_senders
    NOT_REQUESTER = "not_requester"  # confirm / cancel a held send: its requester only
    PAGE_CAP = "page_cap"  # the sender or the escalation has its most active pages
    NOT_SILENCER = "not_silencer"  # not among the integration's allowed_senders


@dataclass(frozen=True)
class Refusal:
    """``words``: the plain sentence; ``field``: the modal input at fault; ``preface``: words put
    before it by whoever passes it on ("Nothing was sent. "). ``subject``, ``slack_channels`` and
    ``user``: the facts a surface needs to word it with mentions (``ONLY_FROM``: the channel and
    where it may be used; ``NOT_REQUESTER``: the action and the requester)."""

    reason: Reason
    words: str
    field: str | None = None
    preface: str = ""
    subject: str | None = None
    slack_channels: tuple[str, ...] = ()
    user: str | None = None

    @property
    def plain(self) -> str:
        return self.preface + self.words


class Rejection(Exception):
    """A refusal raised through the layers that plan a send; ``refusal`` is the plain value.
    A ``str`` is taken as the words of an ``INVALID`` refusal."""

    def __init__(self, refusal: Refusal | str, *, field: str | None = None) -> None:
        if isinstance(refusal, str):
            refusal = Refusal(Reason.INVALID, refusal, field=field)
        super().__init__(refusal.plain)
        self.refusal = refusal

    @property
    def field(self) -> str | None:
        return self.refusal.field

    @property
    def plain(self) -> str:
        """The words, for plain-text places (a modal's error, a terminal)."""
        return self.refusal.plain


def refuse(refusal: Refusal | None) -> None:
    """Raise the refusal, if there is one (for callers that stop at the first no)."""
    if refusal is not None:
        raise Rejection(refusal)
