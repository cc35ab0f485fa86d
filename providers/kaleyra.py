"""Kaleyra WhatsApp text messages (provider-docs/kaleyra-whatsapp-text.txt)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal, Self

from pydantic import model_validator

from providers.base import MessageType, ProviderAccountConfig, Route, Service

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


class Kaleyra:
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
