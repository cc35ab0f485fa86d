"""When a silence ends, the groups it held that still fire stop saying "silenced".

Why a look on the scheduler's tick: a silence expires by the clock alone (nothing is written
when it does), so the bridge looks for silences that ended since its last look, on every tick
of the paging scheduler (the driven clock in tests), and ``/send unsilence`` asks for a look at
once. Each look reaches back ``LOOKBACK`` before the previous one: a silence ended by hand on
another replica is stamped with that replica's clock and may commit after this one looked.
A group shown once is not shown again for the same end (memory holds only those in the window);
every replica updates the message once, with the same words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.alerts.messages import GroupMessages
from bot.store.base import Store

LOOKBACK = timedelta(minutes=5)


class SilenceEnds:
    def __init__(
        self, store: Store, messages: GroupMessages, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.messages = messages
        self.clock = clock
        self._looked: datetime | None = None  # None: never (the first look reaches back for ever)
        self._shown: set[str] = set()  # groups already shown for an end within the window

    async def look(self) -> int:
        """Show again the groups whose silence ended since the last look; how many."""
        now = self.clock()
        since = None if self._looked is None else self._looked - LOOKBACK
        found = await self.store.unsilenced_groups(since, now)
        fresh = [group.group_id for group in found if group.group_id not in self._shown]
        for group_id in fresh:
            self.messages.show_later(group_id)
        self._shown = {group.group_id for group in found}
        self._looked = now
        return len(fresh)
