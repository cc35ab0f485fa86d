"""What every HTTP adapter shares: its account's config, the caller's session, the timeouts and
base URL derived from that config, and how a local refusal is raised."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, TypeVar

import aiohttp

from providers.base import InvalidMessage, ProviderAccountConfig
from providers.http import Reply, client_timeout, join_url, post_json

C = TypeVar("C", bound=ProviderAccountConfig)


class HttpAdapter(Generic[C]):
    """Base of the adapters. The session is shared and owned by the caller: never opened or
    closed here. The repr shows where requests go, never the key."""

    display_name: ClassVar[str]
    default_base_url: ClassVar[str] = ""
    max_recipients_per_call: ClassVar[int]

    def __init__(self, config: C, session: aiohttp.ClientSession) -> None:
        self._config = config
        self._session = session
        self._timeout = client_timeout(config)
        self._base_url = self.base_url_for(config)

    def base_url_for(self, config: C) -> str:
        """The configured base_url, else the provider's documented one."""
        return str(config.base_url) if config.base_url else self.default_base_url

    @property
    def batch_size(self) -> int:
        """Recipients per call for this account; accounts may configure fewer."""
        return self.max_recipients_per_call

    def __repr__(self) -> str:
        return f"{self.display_name}(base_url={self._base_url!r})"

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
            secrets=(self._config.api_key.get_secret_value(),),
        )

    def _invalid(self, reason: str) -> InvalidMessage:
        return InvalidMessage(reason, provider=self.display_name)
