"""The durable send record: every request, recipient, attempt, outcome and receipt.

``Store`` (in ``base``) is the interface; ``SQLiteStore`` the implementation used by default, at
``$BRIDGE_DB`` or ``var/bridge.db``. ``open_store()`` is the one-liner for callers::

    async with open_store() as store:
        record, created = await store.create_request(new, recipients, idempotency_key)
"""

from __future__ import annotations

import os

from bot.store.base import (
    RESTARTED_REASON,
    STATUS_RANK,
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

__all__ = [
    "DEFAULT_PATH",
    "RESTARTED_REASON",
    "STATUS_RANK",
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
    "open_store",
]


def open_store(path: str | os.PathLike[str] | None = None) -> SQLiteStore:
    """A store for ``path`` (default ``$BRIDGE_DB``, else ``var/bridge.db``); use ``async with``."""
    return SQLiteStore(path)
