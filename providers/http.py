"""The one HTTP seam every adapter shares: a JSON POST whose failures become typed errors.

Why here: the split between "never left" (safe to retry) and "may have gone" (ambiguous) must be
made the same way for every provider, and exception texts from aiohttp can carry URLs, so reasons
are composed here from known words only. It is also where a provider's bytes enter the bridge:
they are read up to a cap, decoded without ever raising, and the account's key is masked in them
before any adapter, log line or store sees them.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Callable, Mapping, Sequence
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
    Service,
    UnreadableReply,
)
from providers.redaction import Redactor

# How much of a reply is read. A success body is a small JSON object; an error body is read only
# for its code and a line of the provider's words. Anything longer is not buffered.
SUCCESS_BODY_LIMIT = 64 * 1024
ERROR_BODY_LIMIT = 4 * 1024


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers, the JSON body when it is JSON, and the text ("" when it
    could not be read). Every field is already redacted of the account's key."""

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
        """The typed error for a non-2xx reply (429 always carries Retry-After).

        A documented 5xx meaning is the provider's own JSON answer; a 5xx with no JSON body came
        from something in front of it (a gateway's HTML page), so it gets the generic, ambiguous
        reading instead."""
        retry_after = parse_retry_after(reply.headers.get("Retry-After"))
        rule = self.by_code.get(code) if code else None
        if rule is None and (reply.status < 500 or reply.body is not None):
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


@dataclass(frozen=True)
class ErrorBook:
    """All of a provider's documented errors, declared as data on its adapter: a table per
    service, how its (undocumented) error bodies name a code, and an optional last word for the
    cases a table cannot express (a code with two meanings, the provider's own words)."""

    tables: Mapping[Service, ErrorTable]
    read_code: Callable[[Any], str | None]
    refine: Callable[[ProviderError, Reply], ProviderError] | None = None

    def error_for(self, service: Service, reply: Reply) -> ProviderError:
        """The typed error for a non-2xx reply to a send through ``service``."""
        error = self.tables[service].error_for(reply, self.read_code(reply.body))
        return self.refine(error, reply) if self.refine is not None else error


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
    secrets: Sequence[str] = (),
    redactor: Redactor | None = None,
) -> Reply:
    """POST JSON once. Transport failures become ConnectFailed (never left) or ambiguous errors;
    a 2xx whose body cannot be read becomes UnreadableReply. ``secrets`` (or those ``redactor``
    was built for: an adapter builds its own once, not on every call) are masked in the reply.
    """
    started = time.monotonic()
    try:
        async with session.post(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers={"Content-Type": "application/json", **headers},
            timeout=timeout,
            allow_redirects=False,
        ) as response:
            status = response.status
            reply_headers = {k: v for k, v in response.headers.items()}
            ok = 200 <= status < 300
            limit = SUCCESS_BODY_LIMIT if ok else ERROR_BODY_LIMIT
            raw, complete = await read_bounded(response.content, limit)
            charset = response.charset
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
    if redactor is None:
        redactor = Redactor(secrets)
    elapsed = time.monotonic() - started
    reply_headers = redactor.headers(reply_headers)
    text = _decode(raw, charset) if complete else None
    if text is None:
        if ok:
            why = "not valid text" if complete else f"over {limit // 1024} KiB, too long"
            raise UnreadableReply(
                f"the provider's reply could not be read ({why}) — the message may have gone "
                "out; check with the recipient before sending again",
                provider=provider,
                status=status,
            )
        return Reply(status, reply_headers, None, "", elapsed)  # the status alone classifies it
    if redactor.holds_none(text):  # nothing to mask anywhere in it: parse it as it is
        return Reply(status, reply_headers, _parse(text, None), text, elapsed)
    return Reply(status, reply_headers, _parse(text, redactor), redactor.text(text), elapsed)


async def read_bounded(stream: aiohttp.StreamReader, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of a body, and whether that was all of it."""
    data = bytearray()
    while len(data) <= limit:
        chunk = await stream.read(limit + 1 - len(data))
        if not chunk:
            return bytes(data), True
        data += chunk
    return bytes(data[:limit]), False


def _decode(raw: bytes, charset: str | None) -> str | None:
    """The body as text in its declared charset (UTF-8, JSON's, by default); None if it is not."""
    try:
        return raw.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return None


def _parse(text: str, redactor: Redactor | None) -> Any:
    """The redacted JSON value of a body, or None when it is not JSON (or absurdly deep).
    ``redactor`` None: the caller checked that the text holds nothing to mask."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
        return value if redactor is None else redactor.value(value)
    except (ValueError, RecursionError):  # JSONDecodeError, or an int over Python's digit limit
        return None


def join_url(base: str, path: str) -> str:
    """Join a base URL (with or without a path of its own) and an absolute API path."""
    return base.rstrip("/") + "/" + path.lstrip("/")
