"""What a person asked for, before any check, whatever the surface: the SendRequest model and the
request and recipient ids (the ``/send`` text parser is Slack's: ``bot.slack.parse``)."""

from __future__ import annotations

import secrets

from pydantic import BaseModel, ConfigDict

from providers.base import Message

# Crockford's base32 without I, L, O, U: ids are read aloud and typed into `/send status`.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_request_id() -> str:
    """A short id a person can type: ``R`` and eight base32 characters (40 random bits)."""
    return "R" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def recipient_ref(request_id: str, index: int) -> str:
    """Our id for one recipient of a request; providers that echo a ref let receipts match it."""
    return f"{request_id}-{index}"


class SendRequest(BaseModel):
    """A send as typed: channel name, optional ad-hoc addresses (raw), and the message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    to: tuple[str, ...] = ()
    message: Message
