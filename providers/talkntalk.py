"""TalkNTalk: SMS, WhatsApp to one number, and WhatsApp groups (docs/providers/talkntalk-*.txt).

The provider's one entry point: its config, limits, route rules, error book and receipt source
are declared on ``TalkNTalk``; the error tables and the webhook reading sit in
``talkntalk_errors`` and ``talkntalk_receipts`` because each deserves its own tests.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import Field, SecretStr

from providers.adapter import HttpAdapter
from providers.base import (
    MEDIA_TYPES,
    Message,
    MessageType,
    Outcome,
    OutcomeStatus,
    ProviderAccountConfig,
    Recipient,
    RecipientKind,
    RequestRejected,
    Route,
    SendResult,
    Service,
)
from providers.http import ErrorBook
from providers.receipts import Receipts, ReceiptSource
from providers.rules import RouteRules
from providers.talkntalk_errors import ERROR_BOOK, error_code
from providers.talkntalk_receipts import authenticate_talkntalk, talkntalk_events

DEFAULT_BASE_URL = "https://api.talkntalk.africa"

log = logging.getLogger(__name__)

# TalkNTalk's words for our message types: "text, image, video, voice, or file".
WIRE_TYPES: Mapping[MessageType, str] = {
    MessageType.TEXT: "text",
    MessageType.IMAGE: "image",
    MessageType.VIDEO: "video",
    MessageType.AUDIO: "voice",
    MessageType.DOCUMENT: "file",
}

# "international format (254XXXXXXXXX)": E.164 digits without the plus, at most 15 of them.
_E164 = re.compile(r"\+?([1-9][0-9]{6,14})")


class TalkNTalkConfig(ProviderAccountConfig):
    """A TalkNTalk organisation's account. The doc limits SMS to 300 requests/minute."""

    type: Literal["talkntalk"]
    webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "The secret TalkNTalk signs its webhooks with: SMS delivery receipts at "
            "/webhooks/<account> must carry X-TalkNTalk-Signature, the HMAC-SHA256 of the body "
            "with this key. Unset: receipts are refused. Environment only: write ${VAR}."
        ),
    )


class TalkNTalk(HttpAdapter[TalkNTalkConfig]):
    """Adapter for one TalkNTalk account; one recipient per request, as every endpoint takes."""

    type_name: ClassVar[str] = "talkntalk"
    display_name: ClassVar[str] = "TalkNTalk"
    config_model: ClassVar[type[TalkNTalkConfig]] = TalkNTalkConfig
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    services: ClassVar[frozenset[Service]] = frozenset(
        {Service.SMS, Service.WHATSAPP, Service.WHATSAPP_GROUP}
    )
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]] = {
        Service.SMS: frozenset({MessageType.TEXT}),
        # "text, image, video, voice, or file"
        Service.WHATSAPP: frozenset(
            {
                MessageType.TEXT,
                MessageType.IMAGE,
                MessageType.VIDEO,
                MessageType.AUDIO,
                MessageType.DOCUMENT,
            }
        ),
        # "text, image, video, or voice"
        Service.WHATSAPP_GROUP: frozenset(
            {MessageType.TEXT, MessageType.IMAGE, MessageType.VIDEO, MessageType.AUDIO}
        ),
    }
    max_recipients_per_call: ClassVar[int] = 1
    text_limit: ClassVar[Mapping[Service, int]] = {}
    default_rate_per_minute: ClassVar[int | None] = 300
    route_rules: ClassVar[RouteRules] = RouteRules(
        unsupported="TalkNTalk has no {service!r} service — use sms, whatsapp or whatsapp_group",
        reads=frozenset({"sender_id", "session_id"}),
        needs_for={
            service: {
                "session_id": f"a {service.value} channel needs session_id (the chat_id from "
                "List Phones)"
            }
            for service in (Service.WHATSAPP, Service.WHATSAPP_GROUP)
        },
        refuses_for={
            Service.SMS: {
                "session_id": "session_id is for WhatsApp; an sms channel takes sender_id"
            }
        },
    )
    errors: ClassVar[ErrorBook] = ERROR_BOOK
    receipts: ClassVar[ReceiptSource] = Receipts(
        TalkNTalkConfig, authenticate_talkntalk, talkntalk_events
    )

    def _check_batch(self, recipients: Sequence[Recipient]) -> None:
        if len(recipients) != 1:
            # The dispatcher batches by max_recipients_per_call; anything else is our bug.
            raise ValueError(
                f"TalkNTalk sends to exactly one recipient a call, not {len(recipients)}"
            )

    def _recipient_problem(self, service: Service, recipient: Recipient) -> str | None:
        address = recipient.address
        kind = recipient.kind
        if service is Service.WHATSAPP_GROUP:
            if kind is not RecipientKind.GROUP:
                return (
                    f"{address!r} is not a WhatsApp group id (…@g.us) — a whatsapp_group "
                    "channel sends to groups only; use a whatsapp channel for numbers"
                )
            return None
        if kind is RecipientKind.GROUP:
            return (
                f"{address!r} is a WhatsApp group id — a {service.value} channel sends to "
                "numbers only; use a whatsapp_group channel for groups"
            )
        if kind is RecipientKind.TAG:
            return (
                f"{address!r} is a contact tag — TalkNTalk sends to phone numbers; "
                "tags are AutoKonnect's"
            )
        if not _E164.fullmatch(address):
            return (
                f"{address!r} is not an international phone number — write it as "
                "+<country code><number>, e.g. +254712345678"
            )
        return None

    def _type_problem(self, service: Service, kind: MessageType) -> str:
        if service is Service.SMS:
            return (
                f"{kind.value} messages cannot be sent: SMS takes text only — send media "
                "through a whatsapp channel"
            )
        return super()._type_problem(service, kind)

    def _request(
        self, route: Route, message: Message, recipient: Recipient
    ) -> tuple[str, dict[str, Any], str]:
        """The path, JSON body and id field for one recipient (validated already)."""
        digits = recipient.address.removeprefix("+")
        if route.service is Service.SMS:
            body: dict[str, Any] = {"mobile": digits, "message": message.text}
            if route.sender_id is not None:
                body["sender_id"] = route.sender_id
            return "/v1/sms/send/", body, "id"
        session = quote(route.session_id or "", safe="")
        group = route.service is Service.WHATSAPP_GROUP
        body = {"to": recipient.address if group else digits, "type": WIRE_TYPES[message.type]}
        if message.text:
            body["message"] = message.text  # the body, or the caption for media
        if message.type in MEDIA_TYPES:
            body["url"] = message.media_url
            # "filename ... (for type: file)"; the group endpoint has no such field.
            if message.type is MessageType.DOCUMENT and message.filename:
                body["filename"] = message.filename
            if message.mime_type:
                body["mime_type"] = message.mime_type
        path = f"/v1/whatsapp/{session}/groups/send/" if group else f"/v1/whatsapp/{session}/send/"
        return path, body, "message_id"

    async def send(
        self, route: Route, message: Message, recipients: Sequence[Recipient]
    ) -> SendResult:
        """One POST for one recipient; a typed error on anything but a 2xx."""
        self.validate(route, message, recipients)
        recipient = recipients[0]
        path, body, id_field = self._request(route, message, recipient)
        key = self._config.api_key.get_secret_value()
        reply = await self._post(path, body, {"Authorization": f"Bearer {key}"})
        log.debug(
            "TalkNTalk %s answered HTTP %s in %.3fs", route.service, reply.status, reply.elapsed
        )
        if not reply.ok:
            raise self._error(route.service, reply)
        if reply.field("success") is False:
            raise RequestRejected(
                "TalkNTalk answered success=false — the message was not sent",
                provider=self.display_name,
                status=reply.status,
                code=error_code(reply.body),
            )
        message_id = reply.field(id_field)
        if isinstance(message_id, int) and not isinstance(message_id, bool):
            message_id = str(message_id)
        if not isinstance(message_id, str) or not message_id:
            # Accepted (2xx) all the same; only delivery receipts cannot be matched to it.
            log.warning(
                "TalkNTalk %s accepted a message (HTTP %s) without %r in the answer",
                route.service,
                reply.status,
                id_field,
            )
            message_id = None
        outcome = Outcome(
            recipient=recipient, status=OutcomeStatus.SENT, provider_message_id=message_id
        )
        return SendResult(outcomes=[outcome])
