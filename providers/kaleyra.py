"""Kaleyra WhatsApp text messages (docs/providers/kaleyra-whatsapp-text.txt).

The provider's one entry point: config, limits, route rules, error book (``kaleyra_errors``) and
receipt source (``kaleyra_receipts``) are declared on ``Kaleyra``.

One recipient per request, so every recipient gets its own ``message_id`` and our own id rides in
``extra_info.ref`` for the callbacks. Doc contradictions and the reading chosen:

* ``preview_url`` is "Boolean" in the table but the string ``"false"`` in the sample: we send a
  JSON boolean (the emulator accepts both).
* ``to`` is ``+91XXXXXXXXXX`` in the sample but ``91XXXXXXXXXX`` in the table: we send E.164 with
  ``+``, as the table itself says "(E164 format)" (the emulator accepts both).
* The sample success body is not valid JSON (missing commas): we read ``data.message_id``, else
  find ``"message_id"`` in the raw text; a 2xx is SENT either way.
* ``ref`` "can be 255 characters long only" yet "will be truncated": a truncated ref would never
  match its callback, so a longer ref is rejected locally.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, Self
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator

from providers.adapter import HttpAdapter
from providers.base import (
    Message,
    MessageType,
    Outcome,
    OutcomeStatus,
    ProviderAccountConfig,
    Recipient,
    RecipientKind,
    Route,
    SendResult,
    Service,
)
from providers.http import ErrorBook, Reply
from providers.kaleyra_errors import ERROR_BOOK
from providers.kaleyra_receipts import authenticate_kaleyra, parse_kaleyra
from providers.receipts import Receipts, ReceiptSource
from providers.rules import RouteRules

log = logging.getLogger(__name__)

# "API Domain and Value": IN pod, SG Pod, EU Pod.
POD_DOMAINS: Mapping[str, str] = {
    "in": "api.in.kaleyra.io",
    "sg": "api.ap.kaleyra.io",
    "eu": "api.eu.kaleyra.io",
}

TEXT_LIMIT = 4096  # "Message body text. Supports URLs. Maximum 4096 characters."
REF_LIMIT = 255  # "The variable can be 255 characters long only."


class KaleyraConfig(ProviderAccountConfig):
    """A Kaleyra account: the SID goes in the path, the key in the ``api-key`` header."""

    type: Literal["kaleyra"]
    sid: str
    pod: Literal["in", "sg", "eu"] | None = None
    webhook_secret: SecretStr | None = Field(
        default=None,
        description=(
            "The shared secret Kaleyra's callback must present at /webhooks/<account>: the value "
            "of webhook_header, or the Basic auth password when webhook_username is set. Unset: "
            "callbacks are refused. Environment only: write ${VAR}."
        ),
    )
    webhook_header: str = Field(
        default="X-Webhook-Secret",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$",
        description="The header that carries webhook_secret (default X-Webhook-Secret).",
    )
    webhook_username: str | None = Field(
        default=None,
        min_length=1,
        pattern=r"^[^:\s]+$",
        description="Use HTTP Basic auth instead of the header: this user, webhook_secret as the "
        "password.",
    )

    @model_validator(mode="after")
    def _pod_or_base_url(self) -> Self:
        if self.pod is None and self.base_url is None:
            raise ValueError("set pod (in, sg or eu) or base_url")
        if self.pod is not None and self.base_url is not None:
            raise ValueError("set pod or base_url, not both")
        return self

    def api_base(self) -> str:
        """``https://<api_domain>`` for the pod, or the configured base_url."""
        if self.base_url is not None:
            return str(self.base_url).rstrip("/")
        assert self.pod is not None
        return f"https://{POD_DOMAINS[self.pod]}"


_E164 = re.compile(r"\+[1-9]\d{6,14}")
# The doc's sample success body is not JSON; this still finds its message id.
_MESSAGE_ID_IN_TEXT = re.compile(r'"message_id"\s*:\s*"([^"]+)"')


def _message_id(reply: Reply) -> str | None:
    data = reply.field("data")
    if isinstance(data, dict):
        message_id = data.get("message_id")
        if isinstance(message_id, str) and message_id:
            return message_id
    match = _MESSAGE_ID_IN_TEXT.search(reply.text)
    return match.group(1) if match else None


class Kaleyra(HttpAdapter[KaleyraConfig]):
    """Adapter for one Kaleyra account; one recipient per request so each gets its message id."""

    type_name: ClassVar[str] = "kaleyra"
    display_name: ClassVar[str] = "Kaleyra"
    config_model: ClassVar[type[KaleyraConfig]] = KaleyraConfig
    services: ClassVar[frozenset[Service]] = frozenset({Service.WHATSAPP})
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]] = {
        Service.WHATSAPP: frozenset({MessageType.TEXT}),
    }
    # The doc lets "to" hold several comma-separated numbers, but then one message_id would
    # cover many people; the safe reading is one recipient per request.
    max_recipients_per_call: ClassVar[int] = 1
    text_limit: ClassVar[Mapping[Service, int]] = {Service.WHATSAPP: TEXT_LIMIT}
    default_rate_per_minute: ClassVar[int | None] = None
    route_rules: ClassVar[RouteRules] = RouteRules(
        unsupported="Kaleyra has no service {service!r}; use whatsapp",
        reads=frozenset({"from_number"}),
        needs={"from_number": "a Kaleyra whatsapp channel needs from (the business number)"},
    )
    errors: ClassVar[ErrorBook] = ERROR_BOOK
    receipts: ClassVar[ReceiptSource] = Receipts(KaleyraConfig, authenticate_kaleyra, parse_kaleyra)

    def base_url_for(self, config: KaleyraConfig) -> str:
        """The pod's documented domain, or the configured base_url."""
        return config.api_base()

    def __repr__(self) -> str:
        return f"Kaleyra(sid={self._config.sid!r}, base={self._base_url!r})"

    def _route_problem(self, route: Route) -> str | None:
        if route.from_number and not _E164.fullmatch(route.from_number):
            return (
                "the channel's from (the Kaleyra business number) must be E.164 with its "
                "country code, e.g. +919000000001"
            )
        return None

    def _recipient_problem(self, service: Service, recipient: Recipient) -> str | None:
        if recipient.kind is not RecipientKind.PHONE:
            return (
                f"Kaleyra sends to phone numbers only, not a {recipient.kind.value} — "
                "use a number with its country code"
            )
        if not _E164.fullmatch(recipient.address):
            return (
                "the recipient is not a phone number in E.164 form — use + and the "
                "country code, e.g. +919000000001"
            )
        if len(recipient.ref) > REF_LIMIT:
            # "can be 255 characters long only" yet "will be truncated": a cut ref never matches.
            return (
                f"the recipient's ref is {len(recipient.ref)} characters; Kaleyra keeps "
                f"at most {REF_LIMIT} — use a shorter id"
            )
        return None

    def _type_problem(self, service: Service, kind: MessageType) -> str:
        return f"Kaleyra takes text messages only, not {kind.value} — send text"

    @staticmethod
    def request_body(message: Message, recipient: Recipient) -> dict[str, Any]:
        """The documented body for one recipient (validated already)."""
        extra_info: dict[str, str] = {"wa_source": "api"}
        if recipient.ref:
            extra_info = {"ref": recipient.ref, **extra_info}
        return {
            "messaging_object": {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": recipient.address,  # E.164 with "+", as in the sample
                "type": "text",
                # A JSON boolean, as the table says; the sample's "false" is a string.
                "text": {"preview_url": message.preview_url, "body": message.text},
            },
            "extra_info": extra_info,
        }

    async def send(
        self, route: Route, message: Message, recipients: Sequence[Recipient]
    ) -> SendResult:
        """One POST for the one recipient; a 2xx is SENT, anything else raises."""
        self.validate(route, message, recipients)
        assert route.from_number is not None
        recipient = recipients[0]
        path = (
            f"/v2/{quote(self._config.sid, safe='')}/whatsapp/"
            f"{quote(route.from_number, safe='+')}/messages"
        )
        reply = await self._post(
            path,
            self.request_body(message, recipient),
            {"api-key": self._config.api_key.get_secret_value()},  # + JSON content type
        )
        if not reply.ok:
            raise self._error(route.service, reply)
        message_id = _message_id(reply)
        if message_id is None:  # still SENT: calling it failed would invite a second send
            log.warning("Kaleyra accepted a message (HTTP %s) without a message_id", reply.status)
        sent = Outcome(
            recipient=recipient, status=OutcomeStatus.SENT, provider_message_id=message_id
        )
        return SendResult(outcomes=[sent])
