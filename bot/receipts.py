"""``POST /webhooks/{account}``: provider delivery receipts -> send record -> Slack summaries.

Why this order: authenticate on the raw body before parsing anything, so an unauthenticated
caller learns nothing and changes nothing; apply through the store, which dedupes by event key,
never moves a status backwards, and parks receipts that beat their send's record; then refresh
the root messages of the requests that moved. The answer goes back at once (providers retry a
slow webhook); the Slack refresh is scheduled, not awaited.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiohttp import web

from bot import metrics
from bot.send.service import SendService
from bot.store.base import RecipientStatus, Store
from config import Settings
from config.numbers import mask_address
from providers import receipts_for
from providers.receipts import ReceiptRejected

log = logging.getLogger(__name__)


def _answer(status: int, **fields: object) -> web.Response:
    return web.json_response({"ok": status == 200, **fields}, status=status)


async def receive(
    settings: Settings,
    store: Store,
    service: SendService,
    account: str,
    headers: Mapping[str, str],
    body: bytes,
    also: Callable[[Iterable[str]], Awaitable[None]] | None = None,
) -> web.Response:
    """One callback, start to finish; the HTTP answer the provider gets."""
    config = settings.providers.get(account)
    if config is None:
        return _answer(404, error=f"there is no provider account named {account!r}")
    try:
        source = receipts_for(account, config)
        source.authenticate(headers, body)
        batch = source.parse(headers, body)
    except ReceiptRejected as exc:
        label = {400: "malformed", 401: "unauthenticated"}.get(exc.status, "not_configured")
        metrics.RECEIPTS.labels(account, label).inc()
        if exc.status == 401:
            log.warning("refused a webhook for %s: %s", account, exc)
        return _answer(exc.status, error=str(exc))
    if batch.ignored is not None:
        metrics.RECEIPTS.labels(account, "ignored").inc()
        log.debug("ignored a webhook for %s: %s", account, batch.ignored)
        return _answer(200, applied=0, ignored=batch.ignored)
    moved: list[str] = []
    for event in batch.events:
        metrics.RECEIPTS.labels(account, event.status.value).inc()
        applied = await store.apply_status(
            account,
            status=RecipientStatus(event.status.value),
            event_key=event.event_key,
            provider_message_id=event.provider_message_id,
            ref=event.ref,
            at=event.at,
            reason=event.reason,
            code=event.code,
        )
        log.info(
            "receipt %s for %s: %s",
            event.status.value,
            mask_address(event.recipient) if event.recipient else "a recipient",
            "parked or repeated" if applied is None else f"{applied.previous} -> {applied.status}",
            extra={"provider": account, "request_id": applied.request_id if applied else None},
        )
        if applied is not None and applied.changed:
            moved.append(applied.request_id)
    if moved:
        await service.statuses_changed(dict.fromkeys(moved))
        if also is not None:  # pages show their receipts too
            await also(list(dict.fromkeys(moved)))
    return _answer(200, applied=len(moved), events=len(batch.events))
