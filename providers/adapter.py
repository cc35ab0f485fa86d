"""What every HTTP adapter shares: its account's config and the caller's session, the class data
a provider declares (config model, limits, route rules, error book, receipt source), the one
local check before a send driven by that data, and the one JSON POST.

Why one thin base: the three adapters repeated the same route and content checks with their own
words; the words are now data and the provider-specific checks small hooks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar, cast
from urllib.parse import urlsplit

import aiohttp

from providers.base import (
    InvalidMessage,
    Message,
    MessageType,
    ProviderAccountConfig,
    ProviderError,
    Recipient,
    Route,
    Service,
)
from providers.http import ErrorBook, Reply, client_timeout, join_url, post_json
from providers.receipts import ReceiptSource
from providers.redaction import Redactor
from providers.rules import RouteRules

C = TypeVar("C", bound=ProviderAccountConfig)

# A route's check depends on the route alone (frozen), so a fine one is not checked again; an
# account sends through a few channels' routes, and this only bounds the memory if not.
MAX_REMEMBERED_ROUTES = 256


class HttpAdapter(Generic[C]):
    """Base of the adapters. The session is shared and owned by the caller: never opened or
    closed here. The repr shows where requests go, never the key."""

    type_name: ClassVar[str]  # the config's ``type:``
    display_name: ClassVar[str]
    config_model: ClassVar[type[ProviderAccountConfig]]
    default_base_url: ClassVar[str] = ""
    services: ClassVar[frozenset[Service]]
    message_types: ClassVar[Mapping[Service, frozenset[MessageType]]]
    max_recipients_per_call: ClassVar[int]
    text_limit: ClassVar[Mapping[Service, int]] = {}
    default_rate_per_minute: ClassVar[int | None] = None
    route_rules: ClassVar[RouteRules]
    errors: ClassVar[ErrorBook]
    receipts: ClassVar[ReceiptSource]

    def __init__(self, config: C, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._timeout = client_timeout(config)
        self._base_url = self.base_url_for(config)
        self._redactor = Redactor((config.api_key.get_secret_value(),))
        self._fine_routes: set[Route] = set()  # routes already found fine: checked once

    @classmethod
    def for_account(cls, config: ProviderAccountConfig, session: aiohttp.ClientSession) -> Self:
        """The adapter for an account's config, which must be this provider's config model."""
        if not isinstance(config, cls.config_model):
            raise TypeError(f"{cls.display_name} takes a {cls.config_model.__name__} config")
        return cls(cast(C, config), session)

    def base_url_for(self, config: C) -> str:
        """The configured base_url, else the provider's documented one."""
        return str(config.base_url) if config.base_url else self.default_base_url

    @property
    def batch_size(self) -> int:
        """Recipients per call for this account; accounts may configure fewer."""
        return self.max_recipients_per_call

    def __repr__(self) -> str:
        return f"{self.display_name}(base_url={self._base_url!r})"

    @classmethod
    def route_problems(cls, route: Route) -> list[str]:
        """What is missing or wrong in a channel's route, from the declared rules."""
        return cls.route_rules.problems(cls.display_name, cls.services, route)

    def validate(self, route: Route, message: Message, recipients: Sequence[Recipient]) -> None:
        """Reject locally what the provider would refuse, so a bad message costs no request:
        the route, the batch, each recipient, the message type, then its content."""
        if route not in self._fine_routes:  # a route is checked once, not on every call
            problems = self.route_problems(route) or _listed(self._route_problem(route))
            if problems:
                raise self._invalid("; ".join(problems))
            if len(self._fine_routes) < MAX_REMEMBERED_ROUTES:
                self._fine_routes.add(route)
        self._check_batch(recipients)
        service = route.service
        for recipient in recipients:
            self._raise_if(self._recipient_problem(service, recipient))
        if message.type not in self.message_types[service]:
            raise self._invalid(self._type_problem(service, message.type))
        self._raise_if(self._content_problem(service, message))
        limit = self.text_limit.get(service)
        if limit is not None and len(message.text or "") > limit:
            raise self._invalid(
                f"the text is {len(message.text or '')} characters; {self.display_name} takes at "
                f"most {limit} — shorten it or send it in parts"
            )

    # --- hooks: what a provider checks beyond its declared data --------------------------------

    def _route_problem(self, route: Route) -> str | None:
        """A route problem the declared rules cannot express (none by default)."""
        return None

    def _check_batch(self, recipients: Sequence[Recipient]) -> None:
        """One to ``max_recipients_per_call`` recipients."""
        count, most = len(recipients), self.max_recipients_per_call
        if most == 1 and count != 1:
            raise self._invalid(
                f"{self.display_name} sends to one recipient per request, got {count} — "
                "send one request per recipient"
            )

    def _recipient_problem(self, service: Service, recipient: Recipient) -> str | None:
        """Why this provider cannot send to ``recipient`` through ``service`` (None: it can)."""
        raise NotImplementedError

    def _type_problem(self, service: Service, kind: MessageType) -> str:
        """Why ``service`` cannot carry this message type, and what it does carry."""
        words = ", ".join(sorted(t.value for t in self.message_types[service]))
        return (
            f"{kind.value} messages cannot be sent: a {self.display_name} {service.value} "
            f"channel takes {words}"
        )

    def _content_problem(self, service: Service, message: Message) -> str | None:
        """Text must say something; media must be a public http(s) link."""
        if message.type is MessageType.TEXT:
            if not (message.text or "").strip():
                return "the message text is empty — write something to send"
            return None
        parts = urlsplit(message.media_url or "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return (
                f"a {message.type.value} message needs media_url, a public http(s) link to the file"
            )
        return None

    # --- the request ---------------------------------------------------------------------------

    async def _post(
        self, path: str, payload: Mapping[str, Any], headers: Mapping[str, str]
    ) -> Reply:
        """One JSON POST to ``path`` under the base URL; the reply comes back with this account's
        key masked in it, so nothing the adapter keeps of it can hold the key."""
        return await post_json(
            self._session,
            join_url(self._base_url, path),
            provider=self.display_name,
            payload=payload,
            headers=headers,
            timeout=self._timeout,
            redactor=self._redactor,
        )

    def _error(self, service: Service, reply: Reply) -> ProviderError:
        """The typed error for a non-2xx reply, from the declared error book."""
        return self.errors.error_for(service, reply)

    def _invalid(self, reason: str) -> InvalidMessage:
        return InvalidMessage(reason, provider=self.display_name)

    def _raise_if(self, problem: str | None) -> None:
        if problem:
            raise self._invalid(problem)


def _listed(problem: str | None) -> list[str]:
    return [problem] if problem else []
