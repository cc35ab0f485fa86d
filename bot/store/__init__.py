"""The durable send record: every request, recipient, attempt, outcome and receipt.

``Store`` (in ``base``) is the interface; ``SQLiteStore`` the implementation used by default, at
``$BRIDGE_DB`` or ``var/bridge.db``; ``PostgresStore`` (``bot.store.postgres``) the one used when
``$BRIDGE_DB`` is a ``postgresql://`` URL. ``open_store()`` picks one; every caller uses it::

    async with open_store() as store:
        record, created = await store.create_request(new, recipients, idempotency_key)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from bot.store.base import (
    RESTARTED_REASON,
    STATUS_RANK,
    TAKEN_OVER_REASON,
    AppliedStatus,
    NewRequest,
    RecipientRecord,
    RecipientStatus,
    RecoveryResult,
    RequestRecord,
    RequestState,
    SchemaTooNew,
    Store,
    StoreError,
    Surface,
    UnknownRecipients,
    UnknownRequest,
)
from bot.store.sqlite import DEFAULT_PATH, SQLiteStore, default_path
from bot.store.sqlite_lock import StoreLocked
from bot.store.sqlite_rows import utcnow
from bot.store.target import TargetError, check_target, is_postgres_url, redact_url

__all__ = [
    "DEFAULT_PATH",
    "RESTARTED_REASON",
    "STATUS_RANK",
    "TAKEN_OVER_REASON",
    "AppliedStatus",
    "NewRequest",
    "RecipientRecord",
    "RecipientStatus",
    "RecoveryResult",
    "RequestRecord",
    "RequestState",
    "SQLiteStore",
    "SchemaTooNew",
    "Store",
    "StoreError",
    "StoreLocked",
    "Surface",
    "UnknownRecipients",
    "UnknownRequest",
    "default_path",
    "is_postgres_url",
    "open_store",
    "redact_url",
    "utcnow",
]


def open_store(
    target: str | os.PathLike[str] | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    reader: bool = False,
) -> Store:
    """A store for ``target`` (default ``$BRIDGE_DB``, else ``var/bridge.db``); use ``async with``.

    A ``postgresql://`` (or ``postgres://``) URL is a PostgreSQL database; any other URL-shaped
    value is refused (``StoreError``); anything else is the path of a SQLite file. ``clock``
    (UTC now) is for tests and the demo that drive time. A SQLite file is one process's (a
    second is refused, ``StoreLocked``); ``reader`` (commands that only read) may read it beside
    the process that owns it.
    """
    chosen = target if target is not None else default_path()
    try:
        check_target(chosen)
    except TargetError as exc:
        raise StoreError(str(exc)) from None
    now = clock or utcnow
    if is_postgres_url(chosen):
        from bot.store.postgres import PostgresStore  # the driver is loaded only when used

        return PostgresStore(str(chosen), clock=now)
    return SQLiteStore(chosen, clock=now, reader=reader)
