"""AutoKonnect WhatsApp Business (docs/providers/autokonnect-waba-messages.txt).

The provider's one entry point: config, limits, route rules, error book (``autokonnect_errors``)
and receipt source (none: it cannot report delivery) are declared on ``AutoKonnect``.

Every recipient of a call goes out in ONE request: numbers in ``phone_number``, contact tags in
``contact_tag_id`` (a string for one, an array for many); AutoKonnect expands the tags, merges,
dedupes and answers only ``recipients_count``. Doc contradictions and the reading chosen:

* ``template_id``: the parameter table ("number", "the numeric ID of an approved template") and the
  error ``invalid_template_id_format`` ("template_id must be a number") against the template
  example's ``"promo_template"``. A name would be refused, so a non-numeric id is rejected
  locally and a numeric one is sent as a JSON number.
* ``language`` is in the template example but not in the parameter table: sent when given.
* ``caption`` is listed for image, video and document only: a caption on audio is rejected
  locally rather than silently dropped.
* ``interactive`` is in the parameter table and examples but not in the general structure's
  ``type`` list: it is supported.
* The error body is not documented: the code is read from ``error`` or ``code`` (or ``error.code``).
* ``filename``, ``mime_type`` and ``preview_url`` have no AutoKonnect parameter; they are not sent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

from pydantic import Field

from providers.adapter import HttpAdapter
from providers.autokonnect_errors import ERROR_BOOK
from providers.base import (
    MEDIA_TYPES,
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
from providers.http import ErrorBook
from providers.receipts import CannotReport, ReceiptSource
from providers.rules import RouteRules

DEFAULT_BASE_URL = "https://app.autokonnect.co.ke"

log = logging.getLogger(__name__)

CANNOT_REPORT = (
    "AutoKonnect cannot report delivery: its send API returns no message id and its docs define "
    "no delivery callback, so there is nothing a receipt could be matched to"
)


class AutoKonnectConfig(ProviderAccountConfig):
    """An AutoKonnect company account. The doc sets no batch size: ``max_batch`` lets an account
    send fewer per call than the bridge's ceiling, ``AutoKonnect.max_recipients_per_call``."""

    type: Literal["autokonnect"]
    max_batch: int = Field(default=1000, ge=1, le=1000)


_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_TAG_ID = re.compile(r"^[A-Za-z0-9_-]+$")
# Keys each interactive kind needs in ``action`` (WhatsApp's own rules; the doc's four examples).
_INTERACTIVE_ACTION_KEYS: Mapping[str, tuple[str, ...]] = {
    "button": ("buttons",),
    "list": ("button", "sections"),
    "product_list": ("catalog_id", "sections"),
    "product": ("catalog_id", "product_retailer_id"),
}


class AutoKonnect(HttpAdapter[AutoKonnectConfig]):
    """Adapter for one AutoKonnect account: all numbers and tags go in ONE request."""

    type_name: ClassVar[str] = "autokonnect"
    display_name: ClassVar[str] = "AutoKonnect"
    config_model: ClassVar[type[AutoKonnectConfig]] = AutoKonnectConfig
    default_base_url: ClassVar[str] = DEFAULT_BASE_URL
    services: ClassVar[frozenset[Service]] = frozenset({Service.WABA})
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]] = {
        Service.WABA: frozenset(MessageType),
    }
    max_recipients_per_call: ClassVar[int] = 1000  # the bridge's cap; the doc sets none

    @property
    def batch_size(self) -> int:
        """The account's ``max_batch``, never above the bridge's ceiling."""
        return min(self.max_recipients_per_call, self._config.max_batch)

    text_limit: ClassVar[Mapping[Service, int]] = {}
    default_rate_per_minute: ClassVar[int | None] = None  # "depend on your WABA tier settings"
    route_rules: ClassVar[RouteRules] = RouteRules(
        unsupported="AutoKonnect has no service {service!r}; use waba",
        reads=frozenset({"waba_id"}),
        needs={"waba_id": "a waba channel needs waba_id (the WABA channel ID in the URL)"},
    )
    errors: ClassVar[ErrorBook] = ERROR_BOOK
    receipts: ClassVar[ReceiptSource] = CannotReport(CANNOT_REPORT)

    def _check_batch(self, recipients: Sequence[Recipient]) -> None:
        if not recipients:
            raise self._invalid("no recipients — give at least one phone number or contact tag")
        if len(recipients) > self.max_recipients_per_call:
            raise self._invalid(
                f"{len(recipients)} recipients in one call — split into batches of at most "
                f"{self.max_recipients_per_call}"
            )

    def _recipient_problem(self, service: Service, recipient: Recipient) -> str | None:
        problem = _recipient_problem(recipient)
        return f"recipient {_label(recipient)} {problem}" if problem else None

    def _content_problem(self, service: Service, message: Message) -> str | None:
        return _content_problem(message)

    def payload(self, message: Message, recipients: Sequence[Recipient]) -> dict[str, Any]:
        """The documented request body; assumes ``validate`` passed."""
        phones = _unique(r.address for r in recipients if r.kind is RecipientKind.PHONE)
        tags = _unique(r.address[4:] for r in recipients if r.kind is RecipientKind.TAG)
        body: dict[str, Any] = {}
        if phones:
            body["phone_number"] = phones[0] if len(phones) == 1 else phones
        if tags:
            body["contact_tag_id"] = tags[0] if len(tags) == 1 else tags
        body["type"] = message.type.value
        kind = message.type
        if kind is MessageType.TEXT:
            body["message"] = message.text
        elif kind in MEDIA_TYPES:
            body["link"] = message.media_url
            if message.text and kind is not MessageType.AUDIO:
                body["caption"] = message.text
        elif kind is MessageType.TEMPLATE:
            body["template_id"] = int(message.template_id or "0")
            if message.language:
                body["language"] = message.language
            body["components"] = message.components
        elif kind is MessageType.INTERACTIVE:
            body["interactive"] = message.interactive
        return body

    async def send(
        self, route: Route, message: Message, recipients: Sequence[Recipient]
    ) -> SendResult:
        """One POST for every recipient. AutoKonnect returns no message id, only
        ``recipients_count`` (unique numbers after tag expansion), so every outcome is SENT with
        ``provider_message_id=None``."""
        self.validate(route, message, recipients)
        waba = quote(route.waba_id or "", safe="")
        payload = self.payload(message, recipients)
        log.debug(
            "AutoKonnect send: waba=%s type=%s recipients=%d",
            route.waba_id,
            message.type.value,
            len(recipients),
        )
        key = self._config.api_key.get_secret_value()
        reply = await self._post(
            f"/api/v1/whatsapp/{waba}/messages", payload, {"Authorization": f"Bearer {key}"}
        )
        if not reply.ok:
            raise self._error(route.service, reply)
        count = reply.field("recipients_count")
        return SendResult(
            outcomes=[Outcome(recipient=r, status=OutcomeStatus.SENT) for r in recipients],
            recipients_count=count if type(count) is int and count >= 0 else None,
        )


def _content_problem(message: Message) -> str | None:
    """What AutoKonnect's error table (or WhatsApp behind it) would refuse in this message."""
    kind = message.type
    if kind is MessageType.TEXT:
        return None if _filled(message.text) else "message is required for text — write some text"
    if kind in MEDIA_TYPES:
        parts = urlsplit(message.media_url or "")
        if not message.media_url:
            return f"link is required for {kind.value} — give a public URL of the file"
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "the media link must be a publicly accessible http(s) URL — fix the link"
        if kind is MessageType.AUDIO and message.text:
            return (
                "AutoKonnect takes no caption on audio (only image, video and document) — "
                "remove the caption or send it as a separate text"
            )
        return None
    if kind is MessageType.TEMPLATE:
        template_id = message.template_id or ""
        if not template_id:
            return "template_id is required for template type — give the template's numeric id"
        if not (template_id.isascii() and template_id.isdigit()):
            return (
                "template_id must be a number — use the template's numeric id from "
                "AutoKonnect's templates list, not its name"
            )
        if not isinstance(message.components, list):
            return (
                "components is required for template type — give the template's variable "
                "values (an empty list when it has none)"
            )
        return None
    if kind is MessageType.INTERACTIVE:
        return _interactive_problem(message.interactive)
    return f"message type {kind.value!r} is not supported on AutoKonnect"


def _interactive_problem(interactive: dict[str, Any] | None) -> str | None:
    if not isinstance(interactive, dict):
        return "interactive is required for interactive type — give its payload"
    sub = interactive.get("type")
    if not isinstance(sub, str) or sub not in _INTERACTIVE_ACTION_KEYS:
        return f"interactive.type must be one of {', '.join(_INTERACTIVE_ACTION_KEYS)}"
    body = interactive.get("body")
    if not isinstance(body, dict) or not _filled(body.get("text")):
        return f"an interactive {sub} message needs body.text — write the text"
    action = interactive.get("action")
    if not isinstance(action, dict):
        return f"an interactive {sub} message needs an action object"
    missing = [key for key in _INTERACTIVE_ACTION_KEYS[sub] if not _filled(action.get(key))]
    if missing:
        return f"an interactive {sub} message needs {', '.join('action.' + k for k in missing)}"
    return None


def _recipient_problem(recipient: Recipient) -> str | None:
    kind, address = recipient.kind, recipient.address
    if kind is RecipientKind.GROUP:
        return "is a WhatsApp group — AutoKonnect sends to phone numbers and contact tags only"
    if kind is RecipientKind.TAG:
        return (
            None if _TAG_ID.match(address[4:]) else "is not a tag id — write tag:<id>, e.g. tag:42"
        )
    return None if _E164.match(address) else "is not E.164 — write +<country code><number>"


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(values))


def _filled(value: Any) -> bool:
    """Present and not empty (a blank string, list or object counts as missing)."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None and value != [] and value != {}


def _label(recipient: Recipient) -> str:
    """Our ref when there is one, else the address with a phone number's middle hidden."""
    if recipient.ref:
        return repr(recipient.ref)
    address = recipient.address
    if recipient.kind is RecipientKind.PHONE and len(address) > 7:
        return f"{address[:4]}…{address[-3:]}"
    return repr(address)
