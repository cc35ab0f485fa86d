"""Kaleyra WhatsApp text messages (provider-docs/kaleyra-whatsapp-text.txt).

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
    AuthFailed,
    InsufficientBalance,
    Message,
    MessageType,
    NotFound,
    Outcome,
    OutcomeStatus,
    ProviderAccountConfig,
    ProviderError,
    ProviderServerError,
    Recipient,
    RecipientKind,
    RequestRejected,
    Route,
    SendResult,
    Service,
)
from providers.http import ErrorRule, ErrorTable, Reply

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
_CODE_WORD = re.compile(r"[A-Za-z0-9_-]{2,32}")
# The doc's sample success body is not JSON; this still finds its message id.
_MESSAGE_ID_IN_TEXT = re.compile(r'"message_id"\s*:\s*"([^"]+)"')

_SERVER_ERROR = ErrorRule(
    ProviderServerError,
    "Kaleyra had an internal error — the message may or may not have gone out; "
    "check with the recipient before sending again",
)
_KEYS = ErrorRule(AuthFailed, "Kaleyra refused the request — check the Kaleyra sid and api key")

# "Sample Failure Response": every documented (status, code), looked up by the top-level code.
ERRORS = ErrorTable(
    provider="Kaleyra",
    by_code={
        "RBC001": ErrorRule(
            AuthFailed,
            "the SID or API key was refused — check the Kaleyra sid in the config "
            "and the Kaleyra api key in the environment",
        ),
        "WA401": ErrorRule(
            AuthFailed,
            "the business number in `from` is not on this Kaleyra account — check the "
            "channel's from number (E.164, with country code) against the account's numbers",
        ),
        "WA400": ErrorRule(
            RequestRejected,
            "Kaleyra rejected the payload format — check the recipient number and the text; "
            "if it persists, report it as a bridge bug",
        ),
        "WA500": _SERVER_ERROR,
        "E110": ErrorRule(InsufficientBalance, "balance too low — top up the Kaleyra account"),
    },
    by_status={
        400: ErrorRule(RequestRejected, "Kaleyra rejected the request — check number and text"),
        401: _KEYS,
        403: _KEYS,
        404: ErrorRule(
            NotFound, "Kaleyra has no such endpoint — check the pod or base_url, sid and from"
        ),
        500: _SERVER_ERROR,
    },
)

# "WA-401" has two documented meanings; only the message (or the error key) tells them apart.
_WA_401_ACCOUNT = ErrorRule(
    AuthFailed,
    "the WhatsApp API is not enabled for this Kaleyra account — ask Kaleyra support to enable it",
)
_WA_401_VERSION = ErrorRule(
    AuthFailed,
    "the business number in `from` is set up on a different version of Kaleyra's WhatsApp API "
    "— ask Kaleyra support to move it to the v2 API, or use a number that is on v2",
)
_WA_401_OTHER = ErrorRule(
    AuthFailed,
    "Kaleyra refused this account or business number for the WhatsApp API — "
    "ask Kaleyra support what the account is missing",
)


def _error_code(body: Any) -> str | None:
    """The code of an error body: top-level ``code``, else ``error.code``, else ``error``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    nested = error.get("code") if isinstance(error, dict) else None
    for code in (body.get("code"), nested, error):
        # A code is a short word ("RBC001", "WA-401"): anything else is not kept or logged.
        if isinstance(code, str) and _CODE_WORD.fullmatch(code.strip()):
            return code.strip()
    return None


def _wa_dash_401_rule(reply: Reply) -> ErrorRule:
    message = reply.field("message")
    words = message.lower() if isinstance(message, str) else ""
    if "version" in words:
        return _WA_401_VERSION
    if "not available" in words:
        return _WA_401_ACCOUNT
    error = reply.field("error")
    if isinstance(error, dict):
        if "account" in error:
            return _WA_401_ACCOUNT
        if "phone_number" in error:
            return _WA_401_VERSION
    return _WA_401_OTHER


def error_for(reply: Reply) -> ProviderError:
    """The typed error for a non-2xx Kaleyra reply."""
    code = _error_code(reply.body)
    if code == "WA-401":
        rule = _wa_dash_401_rule(reply)
        return rule.error(rule.reason, provider=ERRORS.provider, code=code, status=reply.status)
    return ERRORS.error_for(reply, code)


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
    services: ClassVar[frozenset[Service]] = frozenset({Service.WHATSAPP})
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]] = {
        Service.WHATSAPP: frozenset({MessageType.TEXT}),
    }
    # The doc lets "to" hold several comma-separated numbers, but then one message_id would
    # cover many people; the safe reading is one recipient per request.
    max_recipients_per_call: ClassVar[int] = 1
    text_limit: ClassVar[Mapping[Service, int]] = {Service.WHATSAPP: TEXT_LIMIT}
    default_rate_per_minute: ClassVar[int | None] = None

    @classmethod
    def route_problems(cls, route: Route) -> list[str]:
        problems: list[str] = []
        if route.service not in cls.services:
            problems.append(f"Kaleyra has no service {route.service.value!r}; use whatsapp")
        if not route.from_number:
            problems.append("a Kaleyra whatsapp channel needs from (the business number)")
        if route.sender_id or route.session_id or route.waba_id:
            problems.append("sender_id, session_id and waba_id are not Kaleyra settings")
        return problems

    def base_url_for(self, config: KaleyraConfig) -> str:
        """The pod's documented domain, or the configured base_url."""
        return config.api_base()

    def __repr__(self) -> str:
        return f"Kaleyra(sid={self._config.sid!r}, base={self._base_url!r})"

    def validate(self, route: Route, message: Message, recipients: Sequence[Recipient]) -> None:
        """Reject locally what Kaleyra would reject, or what would break callback matching."""
        if route.service is not Service.WHATSAPP:
            raise self._invalid(f"Kaleyra has no service {route.service.value!r}; use whatsapp")
        if not route.from_number or not _E164.fullmatch(route.from_number):
            raise self._invalid(
                "the channel's from (the Kaleyra business number) must be E.164 with its "
                "country code, e.g. +919000000001"
            )
        if message.type is not MessageType.TEXT:
            raise self._invalid(
                f"Kaleyra takes text messages only, not {message.type.value} — send text"
            )
        if not message.text or not message.text.strip():
            raise self._invalid("the message text is empty — write something to send")
        if len(message.text) > TEXT_LIMIT:
            raise self._invalid(
                f"the text is {len(message.text)} characters; Kaleyra takes at most "
                f"{TEXT_LIMIT} — shorten it or send it in parts"
            )
        if len(recipients) != 1:
            raise self._invalid(
                f"Kaleyra sends to one recipient per request, got {len(recipients)} — "
                "send one request per recipient"
            )
        for recipient in recipients:
            if recipient.kind is not RecipientKind.PHONE:
                raise self._invalid(
                    f"Kaleyra sends to phone numbers only, not a {recipient.kind.value} — "
                    "use a number with its country code"
                )
            if not _E164.fullmatch(recipient.address):
                raise self._invalid(
                    "the recipient is not a phone number in E.164 form — use + and the "
                    "country code, e.g. +919000000001"
                )
            if len(recipient.ref) > REF_LIMIT:
                raise self._invalid(
                    f"the recipient's ref is {len(recipient.ref)} characters; Kaleyra keeps "
                    f"at most {REF_LIMIT} — use a shorter id"
                )

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
            raise error_for(reply)
        message_id = _message_id(reply)
        if message_id is None:  # still SENT: calling it failed would invite a second send
            log.warning("Kaleyra accepted a message (HTTP %s) without a message_id", reply.status)
        sent = Outcome(
            recipient=recipient, status=OutcomeStatus.SENT, provider_message_id=message_id
        )
        return SendResult(outcomes=[sent])
