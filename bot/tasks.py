"""Stopping a background task, said once.

Why a helper: every loop the bridge runs beside its requests (the paging scheduler, lease
watcher, purge, canaries, calendar refresh, live reports, the Slack token retry) must be stopped
the same way on shutdown — cancelled, then awaited until it has really ended, so it never writes
to a store or Slack client that is closing.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has ended; its cancellation is not re-raised."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
