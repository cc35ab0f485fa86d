"""``POST /webhooks/{account}``: provider delivery receipts -> send record -> Slack summaries.

Why this order: authenticate on the raw body before parsing anything, so an unauthenticated
caller learns nothing and changes nothing; apply through the store, which dedupes by event key,
never moves a status backwards, and parks receipts that beat their send's record; then refresh
the root messages of the requests that moved. The answer goes back at once (providers retry a
slow webhook); the Slack refresh is scheduled, not awaited.

A receipt the bridge cannot use — it names no send we know, or a status we do not read — is not
dropped quietly: our reading of each provider's body is a guess (their docs are silent), so each
one is one warning line and a count in ``bridge_receipts_unmatched_total`` for the operator to
compare with what the account really sends.
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
from providers.receipts import ReceiptBatch, ReceiptRejected, StatusEvent

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
    _warn_unknown_statuses(account, batch)
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
        if applied is None:
            await _warn_if_unmatched(store, account, event)
        elif applied.changed:
            moved.append(applied.request_id)
    if moved:
        await service.statuses_changed(dict.fromkeys(moved))
        if also is not None:  # pages show their receipts too
            await also(list(dict.fromkeys(moved)))
    return _answer(200, applied=len(moved), events=len(batch.events))


def _short(value: str | None) -> str:
    """An id from the body, cut short and printable (it is the provider's text, not ours)."""
    if not value:
        return "none"
    text = "".join(c if c.isprintable() else "?" for c in value)
    return text if len(text) <= 64 else text[:63] + "…"


def _warn_unknown_statuses(account: str, batch: ReceiptBatch) -> None:
    for word in batch.unknown:
        metrics.RECEIPTS_UNMATCHED.labels(account, "unknown_status").inc()
        log.warning(
            "receipt for %s has a status this bridge does not read: %r (ignored; README, "
            "Delivery receipts, lists the statuses read)",
            account,
            word,
            extra={"provider": account},
        )


async def _warn_if_unmatched(store: Store, account: str, event: StatusEvent) -> None:
    """``apply_status`` gave nothing: a repeat (its send exists) or a receipt for no send."""
    found = await store.find_recipient(account, event.provider_message_id, event.ref)
    if found is not None:
        return
    metrics.RECEIPTS_UNMATCHED.labels(account, "unknown_send").inc()
    log.warning(
        "receipt %s for %s matches no send: message id %s, ref %s, recipient %s (held in case "
        "its send is still being recorded, then dropped)",
        event.status.value,
        account,
        _short(event.provider_message_id),
        _short(event.ref),
        mask_address(event.recipient) if event.recipient else "not given",
        extra={"provider": account},
    )
