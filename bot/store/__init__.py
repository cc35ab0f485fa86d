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
from bot.store.sqlite_rows import utcnow
from bot.store.target import is_postgres_url, redact_url

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
) -> Store:
    """A store for ``target`` (default ``$BRIDGE_DB``, else ``var/bridge.db``); use ``async with``.

    A ``postgresql://`` (or ``postgres://``) URL is a PostgreSQL database; anything else is the
    path of a SQLite file. ``clock`` (UTC now) is for tests and the demo that drive time.
    """
    chosen = target if target is not None else default_path()
    now = clock or utcnow
    if is_postgres_url(chosen):
        from bot.store.postgres import PostgresStore  # the driver is loaded only when used

        return PostgresStore(str(chosen), clock=now)
    return SQLiteStore(chosen, clock=now)
