"""The sends running in this process: their background tasks and the report groups they write.

Why one small object: the runner adds to it, recovery and the receipts follow-up read it, and
shutdown empties it; it is handed to each, so none of them reaches into another's fields.
"""

from __future__ import annotations

import asyncio

from bot.report import Group


class LiveSends:
    """Running send tasks, the groups they report, and whether shutdown has begun."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task[None]] = set()
        self.stopping = False
        self._groups: dict[str, Group] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def add(self, group: Group, task: asyncio.Task[None]) -> None:
        """Track ``task`` (reporting ``group``) until it ends."""
        self.tasks.add(task)
        self._groups[group.group_id] = group
        self._tasks[group.group_id] = task

        def done(task: asyncio.Task[None]) -> None:
            self.tasks.discard(task)
            if self._tasks.get(group.group_id) is task:
                self._groups.pop(group.group_id, None)
                self._tasks.pop(group.group_id, None)

        task.add_done_callback(done)

    def cancel(self, group_id: str) -> None:
        """Stop a send this process no longer owns (its live updates stop with its task)."""
        task = self._tasks.get(group_id)
        if task is not None:
            task.cancel()

    def group(self, group_id: str) -> Group | None:
        """The group if it is still sending (its live updater picks up changes)."""
        return self._groups.get(group_id)

    def groups(self) -> list[Group]:
        return list(self._groups.values())

    def request_ids(self) -> set[str]:
        """Every request still being sent here."""
        return {rid for group in self._groups.values() for rid in group.request_ids}
