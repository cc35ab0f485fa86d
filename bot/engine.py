"""The engine under the send service: record durably, report, dispatch in the background —
and resume after a crash.

Why apart from ``bot/service.py``: this is the part that keeps the promises (recorded before
sent, never sent twice, every outcome reported); the service adds the follow-ups people trigger
(confirm, cancel, retry, status, history, receipts) on top of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import metrics
from bot.directory import Directory
from bot.dispatch import Dispatcher, DispatchStopped, Plan
from bot.mrkdwn import md
from bot.planning import Planner
from bot.policy import Rejection, needs_confirmation
from bot.report import Group, Reporter
from bot.store.base import NewRequest, RequestRecord, RequestState, Store, Surface
from config import Settings
from providers.base import Outcome, OutcomeStatus, Recipient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """Who asked, from where, and where the results go."""

    surface: str
    user_id: str | None
    slack_channel: str | None = None
    thread_ts: str | None = None
    report_channel: str | None = None
    response_url: str | None = None
    title: str | None = None  # broadcast title for the root message

    @property
    def report_to(self) -> str | None:
        return self.report_channel or self.slack_channel


@dataclass(frozen=True)
class Submission:
    group_id: str
    request_ids: tuple[str, ...]
    created: bool
    recipients: int
    held: bool = False


class SendEngine(Planner):
    """Records sends, runs them in the background, reports them, and resumes them on restart."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        dispatcher: Dispatcher,
        reporter: Reporter | None,
        directory: Directory | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(settings, dispatcher, directory)
        self.store = store
        self.clock = clock  # "now" for the ages of prompts and buttons (the store's own clock)
        self.reporter = reporter
        self._running: set[asyncio.Task[None]] = set()
        self._listeners: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._live_groups: dict[str, Group] = {}

    # --- submitting -----------------------------------------------------------------------------

    async def submit(
        self,
        plans: Sequence[Plan],
        origin: Origin,
        *,
        idempotency_key: str,
        confirmed: bool = False,
        parent_request_id: str | None = None,
        hold: bool | None = None,
    ) -> Submission:
        """Record the request(s) durably, then start them unless held for confirmation.

        ``hold=False`` records without starting (the caller sends inline)."""
        held = not confirmed and needs_confirmation(plans, self.settings.defaults.confirm_over)
        inline = hold is False
        if inline:
            held = False
        group_id = plans[0].request_id
        entries = [
            (
                NewRequest(
                    request_id=plan.request_id,
                    surface=Surface(origin.surface),
                    user_id=origin.user_id,
                    channel=plan.channel,
                    account=plan.account,
                    route=plan.route,
                    message=plan.message,
                    slack_channel=origin.slack_channel,
                    thread_ts=origin.thread_ts,
                    parent_request_id=parent_request_id,
                    broadcast_id=group_id,
                    report_channel=origin.report_to,
                    title=origin.title,
                    response_url=origin.response_url,
                    state=RequestState.HELD if held else RequestState.ACCEPTED,
                ),
                plan.recipients,
            )
            for plan in plans
        ]
        records, created = await self.store.create_requests(entries, idempotency_key)
        submission = Submission(
            group_id=records[0].broadcast_id or records[0].request_id,
            request_ids=tuple(r.request_id for r in records),
            created=created,
            recipients=sum(r.total for r in records),
            held=records[0].state is RequestState.HELD,
        )
        outcome = "duplicate" if not created else "held" if held else "accepted"
        metrics.REQUESTS.labels(origin.surface, outcome).inc()
        if created and not held and not inline:
            await self._start(records, plans)
        return submission

    @staticmethod
    def _group_for(records: Sequence[RequestRecord]) -> Group:
        first = records[0]
        return Group(
            group_id=first.broadcast_id or first.request_id,
            request_ids=tuple(r.request_id for r in records),
            channel=first.report_channel,
            thread_ts=first.thread_ts,
            title=first.title,
            root_ts=first.report_ts,
            response_url=first.response_url,
        )

    async def _start(self, records: Sequence[RequestRecord], plans: Sequence[Plan]) -> None:
        group = self._group_for(records)
        if self.reporter is not None:
            await self.reporter.open(group)
        self._live_groups[group.group_id] = group
        task = asyncio.create_task(self._run(group, plans))
        self._running.add(task)

        def done(task: asyncio.Task[None]) -> None:
            self._running.discard(task)
            self._live_groups.pop(group.group_id, None)

        task.add_done_callback(done)

    async def _run(self, group: Group, plans: Sequence[Plan]) -> None:
        results = await asyncio.gather(
            *(self._send(group, plan) for plan in plans), return_exceptions=True
        )
        done: list[str] = []
        for plan, result in zip(plans, results, strict=True):
            if result is None:
                done.append(plan.request_id)
            elif isinstance(result, DispatchStopped):
                log.info("send paused for shutdown", extra={"request_id": plan.request_id})
            else:
                log.error(
                    "send interrupted by an internal error",
                    extra={"request_id": plan.request_id, "error": type(result).__name__},
                )
                if self.reporter is not None:
                    await self.reporter.note(
                        group,
                        f":warning: The bridge hit an internal error while sending "
                        f"{plan.request_id}. Recipients not yet attempted will be sent when it "
                        "restarts; nobody will get it twice.",
                    )
        if self._stopping:
            return  # the restart resumes the rest and writes the final report
        await self._report(group, done)

    async def _report(self, group: Group, request_ids: Sequence[str]) -> None:
        """The final summary and failure list, then note it was written (a crash before that
        note makes the restart write it again: at worst twice, never lost)."""
        if self.reporter is not None:
            await self.reporter.finish(group)
        if request_ids:
            await self.store.mark_reported(request_ids)

    async def _send(self, group: Group, plan: Plan) -> None:
        if plan.account not in self.dispatcher.accounts:
            await self._fail_all(plan, "its provider account is no longer in the config")
        elif plan.recipients:
            await self.store.set_state(plan.request_id, RequestState.SENDING)
            async for _ in self.dispatcher.dispatch(plan):
                if self.reporter is not None:
                    self.reporter.changed(group)
        await self.store.set_state(plan.request_id, RequestState.DONE)

    async def send_inline(self, plan: Plan, origin: Origin) -> AsyncIterator[Outcome]:
        """Record, then send in the caller's task, yielding outcomes (the terminal's `send`)."""
        submission = await self.submit(
            [plan], origin, idempotency_key=f"{origin.surface}:{plan.request_id}", hold=False
        )
        if not submission.created:
            return
        await self.store.set_state(plan.request_id, RequestState.SENDING)
        async for outcome in self.dispatcher.dispatch(plan):
            yield outcome
        await self.store.set_state(plan.request_id, RequestState.DONE)
        await self.store.mark_reported([plan.request_id])  # the terminal was the report

    async def _fail_all(self, plan: Plan, reason: str) -> None:
        outcomes = [
            Outcome(recipient=r, status=OutcomeStatus.FAILED, reason=reason)
            for r in plan.recipients
        ]
        await self.store.outcomes_recorded(plan.request_id, outcomes)

    async def wait_idle(self) -> None:
        """Wait for every background send and report refresh to finish (tests, demo, shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
        if self.reporter is not None:
            await self.reporter.drain()

    def track_listener(self, task: asyncio.Task[Any]) -> None:
        """A Slack listener's after-ack work: shutdown waits for it (see ``drain_listeners``)."""
        self._listeners.add(task)
        task.add_done_callback(self._listeners.discard)

    async def drain_listeners(self, within: float) -> None:
        """Let acked Slack actions finish recording their requests before the store closes."""
        pending = [t for t in self._listeners if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=within)

    async def stop(self, grace: float = 0.0) -> None:
        """Shutdown: start no new provider calls, give in-flight ones ``grace`` seconds to answer
        (so they end sent or failed, not unknown), then cancel; the rest resumes on restart."""
        self._stopping = True
        self.dispatcher.stop_taking_new()
        running = list(self._running)
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self.reporter is not None:
            for group in list(self._live_groups.values()):
                await self.reporter.abandon(group)

    # --- records ------------------------------------------------------------------------------

    async def _record(self, request_id: str) -> RequestRecord:
        record = await self.store.get_request(request_id)
        if record is None:
            raise Rejection(md("There is no request {}.", request_id))
        return record

    async def _plan_from_record(
        self, record: RequestRecord, recipients: Sequence[Recipient] | None = None
    ) -> Plan:
        if recipients is None:
            recipients = [r.to_recipient() for r in await self.store.recipients(record.request_id)]
        return Plan(
            request_id=record.request_id,
            channel=record.channel,
            account=record.account,
            route=record.route,
            message=record.message,
            recipients=tuple(recipients),
        )

    # --- restart ------------------------------------------------------------------------------

    async def recover(self) -> int:
        """Resume what a crash interrupted: in-flight -> unknown, pending sent. Returns count."""
        groups: dict[str, list[RequestRecord]] = {}
        for record in await self.store.unfinished_requests():
            if record.state is RequestState.HELD:
                continue
            groups.setdefault(record.broadcast_id or record.request_id, []).append(record)
        for records in groups.values():
            plans = []
            for record in records:
                result = await self.store.recover(record.request_id)
                plans.append(await self._plan_from_record(result.request, result.to_send()))
                log.info(
                    "resuming an interrupted send",
                    extra={
                        "request_id": record.request_id,
                        "pending": len(result.pending),
                        "marked_unknown": len(result.marked_unknown),
                    },
                )
            fresh = [await self._record(r.request_id) for r in records]
            await self._start(fresh, plans)
        await self._finish_unreported()
        return len(groups)

    async def _finish_unreported(self) -> None:
        """Requests that finished sending but whose final report a crash cut off."""
        groups: dict[str, list[RequestRecord]] = {}
        for record in await self.store.unreported_requests():
            groups.setdefault(record.broadcast_id or record.request_id, []).append(record)
        for records in groups.values():
            if any(r.request_id in self._live_ids() for r in records):
                continue  # part of a group resumed above: its run reports it
            group = self._group_for(records)
            if self.reporter is not None and group.channel is not None:
                await self.reporter.open(group, live=False)
            await self._report(group, [r.request_id for r in records])

    def _live_ids(self) -> set[str]:
        return {rid for group in self._live_groups.values() for rid in group.request_ids}
