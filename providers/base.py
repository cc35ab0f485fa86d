"""Messages, recipients, results and errors shared by every provider adapter.

Nothing here knows about Slack. An adapter turns one ``Message`` for a batch of ``Recipient``s into
exactly one HTTP attempt and either returns a ``SendResult`` or raises a ``ProviderError``.

The error tree (every error carries ``reason`` for a person, the provider's ``code``, the HTTP
``status`` and its ``kind``)::

    ProviderError
    ├── RetryableError            kind=retryable: the message certainly did not go out
    │   ├── RateLimited           429; ``retry_after`` seconds from Retry-After
    │   └── ConnectFailed         refused / DNS / connect timeout: the request never left
    ├── AmbiguousError            kind=ambiguous: the message may have gone; never retried alone
    │   ├── ProviderTimeout       no answer after the request was sent
    │   ├── ConnectionDropped     connection closed mid-exchange
    │   ├── ProviderServerError   5xx (except where a doc gives a 5xx a definite meaning)
    │   └── UnreadableReply       a 2xx whose body is not text or too long to read
    └── PermanentError            kind=permanent: sending again will fail the same way
        ├── InvalidMessage        caught locally before any request (``status`` is None)
        ├── AuthFailed            401/403: key, SID or account wrong
        ├── InsufficientBalance   wallet / balance too low
        ├── RequestRejected       400-class validation errors from the provider
        ├── NotFound              session, channel or template not found
        └── SessionUnavailable    phone disconnected, WABA to reconnect
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr


class Service(enum.StrEnum):
    """What a channel sends through; each provider supports some of these."""

    SMS = "sms"
    WHATSAPP = "whatsapp"
    WHATSAPP_GROUP = "whatsapp_group"
    WABA = "waba"


class MessageType(enum.StrEnum):
    """The bridge's own vocabulary; adapters map it onto each provider's names.

    TalkNTalk calls audio ``voice`` and documents ``file``; the bridge accepts those words too
    (see ``MessageType.parse``).
    """

    TEXT = "text"
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    TEMPLATE = "template"
    INTERACTIVE = "interactive"

    @classmethod
    def parse(cls, word: str) -> MessageType:
        """Accept the bridge's names and TalkNTalk's aliases (voice, file)."""
        word = word.strip().lower()
        aliases = {"voice": cls.AUDIO, "file": cls.DOCUMENT}
        if word in aliases:
            return aliases[word]
        try:
            return cls(word)
        except ValueError:
            names = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown message type {word!r}: use one of {names}") from None


MEDIA_TYPES = frozenset(
    {MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO, MessageType.DOCUMENT}
)


class RecipientKind(enum.StrEnum):
    PHONE = "phone"  # E.164, "+254712345678"
    GROUP = "group"  # WhatsApp group chat id, "120363410923125768@g.us"
    TAG = "tag"  # AutoKonnect contact tag, "tag:42"


def recipient_kind(address: str) -> RecipientKind:
    """Classify an already-normalised address (config and policy normalise numbers to E.164)."""
    if address.startswith("tag:"):
        return RecipientKind.TAG
    if address.endswith("@g.us"):
        return RecipientKind.GROUP
    return RecipientKind.PHONE


class Recipient(BaseModel):
    """One destination and our own id for it (echoed back by providers that support a ref)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str
    ref: str = ""

    @property
    def kind(self) -> RecipientKind:
        return recipient_kind(self.address)


class Message(BaseModel):
    """What to send, independent of provider. ``text`` is the body, or the caption for media."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: MessageType = MessageType.TEXT
    text: str | None = None
    media_url: str | None = None
    filename: str | None = None
    mime_type: str | None = None
    template_id: str | None = None
    language: str | None = None
    components: list[dict[str, Any]] | None = None
    interactive: dict[str, Any] | None = None
    preview_url: bool = False


class Route(BaseModel):
    """Where within an account a channel sends: the service and its per-service identifiers."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: Service
    sender_id: str | None = None  # TalkNTalk sms
    session_id: str | None = None  # TalkNTalk whatsapp / whatsapp_group
    waba_id: str | None = None  # AutoKonnect waba
    from_number: str | None = None  # Kaleyra: the business number in the URL


class OutcomeStatus(enum.StrEnum):
    SENT = "sent"  # accepted by the provider
    FAILED = "failed"  # definitely not sent
    UNKNOWN = "unknown"  # the request may have gone out; never retried on its own
    # Later states arrive with delivery receipts.
    DELIVERED = "delivered"
    READ = "read"


class Outcome(BaseModel):
    """What happened for one recipient."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recipient: Recipient
    status: OutcomeStatus
    provider_message_id: str | None = None
    reason: str | None = None  # plain words for a person, when not sent
    code: str | None = None  # the provider's error code
    http_status: int | None = None
    attempts: int = 1


class SendResult(BaseModel):
    """The result of one HTTP attempt: one outcome per recipient sent in it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    outcomes: list[Outcome]
    recipients_count: int | None = None  # AutoKonnect: unique numbers queued after tag expansion


class ErrorKind(enum.StrEnum):
    RETRYABLE = "retryable"
    AMBIGUOUS = "ambiguous"
    PERMANENT = "permanent"


class ProviderError(Exception):
    """A failed attempt. ``str()`` is the reason a person reads; it never holds a secret."""

    kind: ClassVar[ErrorKind] = ErrorKind.PERMANENT

    def __init__(
        self,
        reason: str,
        *,
        provider: str = "",
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.reason = reason
        self.provider = provider
        self.code = code
        self.status = status
        self.retry_after = retry_after
        super().__init__(self.describe())

    def describe(self) -> str:
        prefix = f"{self.provider}: " if self.provider else ""
        suffix = []
        if self.status is not None:
            suffix.append(f"HTTP {self.status}")
        if self.code:
            suffix.append(f"code {self.code}")
        tail = f" ({', '.join(suffix)})" if suffix else ""
        return f"{prefix}{self.reason}{tail}"


class RetryableError(ProviderError):
    kind = ErrorKind.RETRYABLE


class RateLimited(RetryableError):
    pass


class ConnectFailed(RetryableError):
    pass


class AmbiguousError(ProviderError):
    kind = ErrorKind.AMBIGUOUS


class ProviderTimeout(AmbiguousError):
    pass


class ConnectionDropped(AmbiguousError):
    pass


class ProviderServerError(AmbiguousError):
    pass


class UnreadableReply(AmbiguousError):
    """The provider answered, but its words cannot be read: whether it took the message is
    unknown, so it is never sent again on its own."""


class PermanentError(ProviderError):
    kind = ErrorKind.PERMANENT


class InvalidMessage(PermanentError):
    pass


class AuthFailed(PermanentError):
    pass


class InsufficientBalance(PermanentError):
    pass


class RequestRejected(PermanentError):
    pass


class NotFound(PermanentError):
    pass


class SessionUnavailable(PermanentError):
    pass


class ProviderAccountConfig(BaseModel):
    """Settings every account has; each adapter's config subclasses this with a ``type`` literal."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr
    base_url: HttpUrl | None = None  # None: the provider's documented default
    timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    connect_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    rate_per_minute: int | None = Field(default=None, ge=1)  # None: the adapter's default_rate
    max_concurrency: int = Field(default=16, ge=1, le=256)


class Provider(Protocol):
    """An async adapter for one provider account.

    ``send`` makes exactly one HTTP attempt; it never retries, sleeps or owns a session.
    Capabilities and limits are class data so the dispatcher, policy and config can read them.
    """

    type_name: ClassVar[str]  # "talkntalk", the config's ``type``
    display_name: ClassVar[str]  # "TalkNTalk", used in reasons
    services: ClassVar[frozenset[Service]]
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]]
    max_recipients_per_call: ClassVar[int]
    text_limit: ClassVar[Mapping[Service, int]]  # hard limits; longer is rejected, not cut
    default_rate_per_minute: ClassVar[int | None]

    @property
    def batch_size(self) -> int:
        """Recipients the dispatcher puts in one call: at most ``max_recipients_per_call``."""
        ...

    @classmethod
    def route_problems(cls, route: Route) -> list[str]:
        """What is missing or wrong in a channel's route, for config validation (empty: fine)."""
        ...

    def validate(self, route: Route, message: Message, recipients: Sequence[Recipient]) -> None:
        """Raise ``InvalidMessage`` for anything the provider would reject; no I/O."""
        ...

    async def send(
        self, route: Route, message: Message, recipients: Sequence[Recipient]
    ) -> SendResult:
        """One HTTP attempt for these recipients (at most ``max_recipients_per_call``)."""
        ...
