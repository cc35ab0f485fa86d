"""The one HTTP seam every adapter shares: a JSON POST whose failures become typed errors.

Why here: the split between "never left" (safe to retry) and "may have gone" (ambiguous) must be
made the same way for every provider, and exception texts from aiohttp can carry URLs, so reasons
are composed here from known words only.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from providers.base import (
    AuthFailed,
    ConnectFailed,
    ConnectionDropped,
    NotFound,
    ProviderAccountConfig,
    ProviderError,
    ProviderServerError,
    ProviderTimeout,
    RateLimited,
    RequestRejected,
)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers, the JSON body when it is JSON, and the raw text."""

    status: int
    headers: Mapping[str, str]
    body: Any
    text: str
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def field(self, name: str) -> Any:
        """A top-level field of a JSON object body, or None."""
        return self.body.get(name) if isinstance(self.body, dict) else None


@dataclass(frozen=True)
class ErrorRule:
    """How a documented error maps onto our tree: its class and a reason a person acts on."""

    error: type[ProviderError]
    reason: str


@dataclass(frozen=True)
class ErrorTable:
    """A provider's documented errors, looked up by code first, then by status."""

    provider: str
    by_code: Mapping[str, ErrorRule] = field(default_factory=dict)
    by_status: Mapping[int, ErrorRule] = field(default_factory=dict)

    def error_for(self, reply: Reply, code: str | None) -> ProviderError:
        """The typed error for a non-2xx reply (429 always carries Retry-After)."""
        retry_after = parse_retry_after(reply.headers.get("Retry-After"))
        rule = self.by_code.get(code) if code else None
        if rule is None:
            rule = self.by_status.get(reply.status)
        if rule is None:
            rule = _generic_rule(reply.status)
        return rule.error(
            rule.reason,
            provider=self.provider,
            code=code,
            status=reply.status,
            retry_after=retry_after if reply.status == 429 else None,
        )


def _generic_rule(status: int) -> ErrorRule:
    """Fallback for statuses a doc does not list: classify by the HTTP semantics."""
    if status == 429:
        return ErrorRule(RateLimited, "rate limit exceeded — will retry after the pause it asks")
    if status >= 500:
        return ErrorRule(
            ProviderServerError,
            f"server error {status} — the message may or may not have gone out",
        )
    if status in (401, 403):
        return ErrorRule(AuthFailed, "the API key was refused — check the key in the environment")
    if status == 404:
        return ErrorRule(NotFound, "the endpoint or resource was not found — check the config")
    return ErrorRule(RequestRejected, f"the request was rejected (HTTP {status})")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def client_timeout(config: ProviderAccountConfig) -> aiohttp.ClientTimeout:
    """Every call has a total and a connect timeout, from the account's config."""
    return aiohttp.ClientTimeout(
        total=config.timeout_seconds,
        sock_connect=config.connect_timeout_seconds,
    )


async def post_json(
    session: aiohttp.ClientSession,
    url: str,
    *,
    provider: str,
    payload: Mapping[str, Any],
    headers: Mapping[str, str],
    timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp applies it per phase
) -> Reply:
    """POST JSON once. Transport failures become ConnectFailed (never left) or ambiguous errors."""
    started = time.monotonic()
    try:
        async with session.post(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", **headers},
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            text = await response.text()
            reply_headers = {k: v for k, v in response.headers.items()}
            status = response.status
    except aiohttp.ConnectionTimeoutError:
        raise ConnectFailed(
            "could not connect in time — nothing was sent", provider=provider
        ) from None
    except aiohttp.ClientConnectorError:
        raise ConnectFailed("could not connect — nothing was sent", provider=provider) from None
    except TimeoutError:
        raise ProviderTimeout(
            "no answer in time after the request was sent — it may have gone out",
            provider=provider,
        ) from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError):
        raise ConnectionDropped(
            "the connection dropped mid-request — it may have gone out", provider=provider
        ) from None
    except aiohttp.ClientError as exc:
        raise ConnectionDropped(
            f"HTTP client error ({type(exc).__name__}) — it may have gone out", provider=provider
        ) from None
    except asyncio.CancelledError:
        raise
    body: Any
    try:
        body = json.loads(text) if text.strip() else None
    except json.JSONDecodeError:
        body = None
    return Reply(status, reply_headers, body, text, time.monotonic() - started)


def join_url(base: str, path: str) -> str:
    """Join a base URL (with or without a path of its own) and an absolute API path."""
    return base.rstrip("/") + "/" + path.lstrip("/")
