"""The send service: the one object the Slack listeners, the receipts webhook, the runtime and
the terminal call, built from the parts handed in (planner, store, dispatcher, reporter, clock).

Why one path: the Slack surfaces, the Retry button, the terminal and restart recovery must make
the same promises (recorded before sent, sent once, reported truthfully), so they share it. This
facade only delegates: planning is ``bot.plan``, running ``run``, restarts ``recovery``, and what
people do afterwards ``followups``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from bot.dispatch import Dispatcher
from bot.plan import Planner
from bot.policy import Sender
from bot.report import Reporter
from bot.requests import SendRequest
from bot.send.followups import Followups
from bot.send.live import LiveSends
from bot.send.ownership import Ownership
from bot.send.recovery import Recovery
from bot.send.run import Runner
from bot.store.base import Store
from bot.values import Origin, Plan, RequestStatus, Submission, Surface
from config import Settings
from providers.base import Outcome


class SendService:
    """Plans, sends and follows up sends; each part is a collaborator, none a base class."""

    def __init__(
        self,
        settings: Settings,
        planner: Planner,
        store: Store,
        dispatcher: Dispatcher,
        reporter: Reporter | None,
        *,
        clock: Callable[[], datetime],
        ownership: Ownership | None = None,
    ) -> None:
        self.settings = settings
        self.planner = planner
        self.store = store
        self.reporter = reporter
        self.ownership = ownership or Ownership(store, settings.defaults.takeover_after)
        live = LiveSends()
        self._runner = Runner(settings, store, dispatcher, reporter, live, self.ownership)
        self._recovery = Recovery(store, self._runner, reporter, live)
        self._followups = Followups(settings, store, planner, self._runner, reporter, live, clock)
        self._listeners: set[asyncio.Task[Any]] = set()

    # --- planning (before anything is recorded) -------------------------------------------------

    async def sender(
        self, user_id: str, slack_channel: str | None, *, within: float | None = None
    ) -> Sender:
        return await self.planner.sender(user_id, slack_channel, within=within)

    def plan(
        self, request: SendRequest, sender: Sender | None, *, surface: Surface = Surface.SLASH
    ) -> Plan:
        return self.planner.plan(request, sender, surface=surface)

    def plan_broadcast(
        self,
        preset: str,
        severity: str,
        text: str,
        channels: Sequence[str],
        sender: Sender,
        sender_name: str,
    ) -> list[Plan]:
        return self.planner.plan_broadcast(preset, severity, text, channels, sender, sender_name)

    # --- sending --------------------------------------------------------------------------------

    async def submit(
        self,
        plans: Sequence[Plan],
        origin: Origin,
        *,
        idempotency_key: str,
        confirmed: bool = False,
        parent_request_id: str | None = None,
    ) -> Submission:
        """Record the request(s) durably, then start them unless held for confirmation."""
        return await self._runner.submit(
            plans,
            origin,
            idempotency_key=idempotency_key,
            confirmed=confirmed,
            parent_request_id=parent_request_id,
        )

    def send_inline(self, plan: Plan, origin: Origin) -> AsyncIterator[Outcome]:
        """Record, then send in the caller's task, yielding outcomes (the terminal's `send`)."""
        return self._runner.send_inline(plan, origin)

    async def recover(self) -> int:
        """At start-up: resume interrupted sends and finish cut-off reports; returns groups."""
        return await self._recovery.recover()

    def watch(self) -> None:
        """Take over, from now on, sends whose replica stopped renewing their lease (a replica
        on PostgreSQL; on SQLite there is nobody else to take over from)."""
        self.ownership.watch(self._recovery.take_over, self._runner.lost)

    # --- follow-ups -----------------------------------------------------------------------------

    async def confirm(self, group_id: str, user_id: str, slack_channel: str | None) -> Submission:
        return await self._followups.confirm(group_id, user_id, slack_channel)

    async def cancel(self, group_id: str, user_id: str) -> bool:
        return await self._followups.cancel(group_id, user_id)

    async def retry(
        self,
        request_id: str,
        which: Literal["failed", "unknown"],
        user_id: str,
        slack_channel: str | None,
    ) -> Submission:
        return await self._followups.retry(request_id, which, user_id, slack_channel)

    async def status(self, request_id: str, user_id: str | None) -> RequestStatus | None:
        return await self._followups.status(request_id, user_id)

    async def history(self, user_id: str | None, limit: int = 10) -> list[RequestStatus]:
        return await self._followups.history(user_id, limit)

    async def statuses_changed(self, request_ids: Iterable[str]) -> None:
        await self._followups.statuses_changed(request_ids)

    # --- lifetime -------------------------------------------------------------------------------

    def track_listener(self, task: asyncio.Task[Any]) -> None:
        """A Slack listener's after-ack work: shutdown waits for it (see ``drain_listeners``)."""
        self._listeners.add(task)
        task.add_done_callback(self._listeners.discard)

    async def drain_listeners(self, within: float) -> None:
        """Let acked Slack actions finish recording their requests before the store closes."""
        pending = [t for t in self._listeners if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=within)

    async def wait_idle(self) -> None:
        """Wait for every background send and report refresh to finish (tests, demo, shutdown),
        and first for acked Slack actions: their work may be what starts the next send."""
        me = asyncio.current_task()
        while pending := [t for t in self._listeners if not t.done() and t is not me]:
            await asyncio.wait(pending)
        await self._runner.wait_idle()

    async def stop(self, grace: float = 0.0) -> None:
        """Shutdown: no new provider calls, ``grace`` seconds for those in flight, then cancel."""
        await self._runner.stop(grace)
