"""The one path every send takes: plan, record, report, dispatch — and retry, confirm, recover.

Why one path: the Slack surfaces, the Retry button, the terminal and restart recovery must make
the same promises (recorded before sent, sent once, reported truthfully), so they share this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.directory import Directory, DirectoryError
from bot.dispatch import Dispatcher, Plan
from bot.policy import Rejection, Sender, authorize, plan_send, usergroups_that_matter
from bot.report import Group, Reporter
from bot.requests import SendRequest, new_request_id, recipient_ref
from bot.store.base import (
    NewRequest,
    RecipientRecord,
    RecipientStatus,
    RequestRecord,
    RequestState,
    Store,
    Surface,
)
from config import Settings
from providers.base import InvalidMessage, Message, Outcome, OutcomeStatus, Recipient

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


@dataclass(frozen=True)
class RequestStatus:
    record: RequestRecord
    counts: dict[str, int]
    recipients: list[RecipientRecord]


class SendService:
    """Accepts sends, runs them in the background, and keeps the thread truthful."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        dispatcher: Dispatcher,
        reporter: Reporter | None,
        directory: Directory | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.dispatcher = dispatcher
        self.reporter = reporter
        self.directory = directory
        self._running: set[asyncio.Task[None]] = set()
        self._live_groups: dict[str, Group] = {}

    # --- planning (no I/O but the cached directory) ------------------------------------------

    async def sender(self, user_id: str, slack_channel: str | None) -> Sender:
        groups = usergroups_that_matter(self.settings)
        if not groups or self.directory is None:
            return Sender(user_id, frozenset(), slack_channel)
        try:
            mine = await self.directory.groups_of(user_id, groups)
        except DirectoryError as exc:
            log.warning("user group lookup failed", extra={"user": user_id})
            return Sender(user_id, frozenset(), slack_channel, note=str(exc))
        return Sender(user_id, mine, slack_channel)

    def plan(self, request: SendRequest, sender: Sender | None) -> Plan:
        plan = plan_send(self.settings, request, sender=sender, request_id=new_request_id())
        self._validate(plan)
        return plan

    def _validate(self, plan: Plan) -> None:
        try:
            self.dispatcher.validate(plan)
        except InvalidMessage as exc:
            field = "media_url" if plan.message.media_url and "link" in exc.reason else "text"
            if plan.message.template_id and "template" in exc.reason:
                field = "template_id"
            raise Rejection(f"{exc}.", field=field) from None

    def plan_broadcast(
        self,
        preset: str,
        severity: str,
        text: str,
        channels: Sequence[str],
        sender: Sender,
        sender_name: str,
    ) -> list[Plan]:
        broadcast = self.settings.broadcasts.get(preset)
        if broadcast is None:
            raise Rejection(f"There is no broadcast preset `{preset}`.", field="preset")
        if not broadcast.allows_sender(sender.user_id, sender.usergroups):
            raise Rejection(
                f"You are not allowed to use the {broadcast.title} broadcast. Ask a bridge admin "
                "to add you to its allowed_senders." + (f" {sender.note}" if sender.note else ""),
                field="preset",
            )
        if severity not in broadcast.severities:
            raise Rejection(
                f"Pick a severity: {', '.join(broadcast.severities)}.", field="severity"
            )
        if not text.strip():
            raise Rejection("The message is empty. Write what is happening.", field="text")
        chosen = [c for c in broadcast.channels if c in channels]
        if not chosen:
            raise Rejection("Pick at least one channel to send to.", field="channels")
        body = broadcast.render(severity=severity, text=text.strip(), sender=sender_name)
        plans = []
        for name in chosen:
            request = SendRequest(channel=name, message=Message(text=body))
            plan = plan_send(self.settings, request, sender=None, request_id=new_request_id())
            self._validate(plan)
            plans.append(plan)
        return plans

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
        total = sum(len(p.recipients) for p in plans)
        held = not confirmed and total > self.settings.defaults.confirm_over
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
        for plan, result in zip(plans, results, strict=True):
            if isinstance(result, BaseException):
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
        if self.reporter is not None:
            await self.reporter.finish(group)

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

    async def stop(self) -> None:
        """Cancel background sends; what they did not finish is resumed at the next start."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*list(self._running), return_exceptions=True)

    # --- buttons ------------------------------------------------------------------------------

    async def _group(self, group_id: str) -> list[RequestRecord]:
        records = await self.store.group_requests(group_id)
        if not records:
            raise Rejection(f"There is no request {group_id}.")
        return records

    async def confirm(self, group_id: str, user_id: str) -> Submission:
        records = await self._group(group_id)
        if records[0].user_id != user_id:
            raise Rejection(f"Only <@{records[0].user_id}> can confirm this send.")
        moved = [
            r
            for r in records
            if await self.store.transition(r.request_id, RequestState.HELD, RequestState.ACCEPTED)
        ]
        if moved:
            fresh = [await self._record(r.request_id) for r in records]
            plans = [await self._plan_from_record(r) for r in fresh]
            await self._start(fresh, plans)
        total = sum(r.total for r in records)
        return Submission(group_id, tuple(r.request_id for r in records), bool(moved), total)

    async def cancel(self, group_id: str, user_id: str) -> bool:
        records = await self._group(group_id)
        if records[0].user_id != user_id:
            raise Rejection(f"Only <@{records[0].user_id}> can cancel this send.")
        results = [
            await self.store.transition(r.request_id, RequestState.HELD, RequestState.CANCELLED)
            for r in records
        ]
        return any(results)

    async def retry(
        self, request_id: str, which: Literal["failed", "unknown"], user_id: str
    ) -> Submission:
        """A new request to the failed (or unknown) recipients, reported in the same thread."""
        record = await self.store.get_request(request_id)
        if record is None:
            raise Rejection(f"There is no request {request_id}.")
        if record.user_id != user_id:
            authorize(self.settings, record.channel, await self.sender(user_id, None))
        status = RecipientStatus.FAILED if which == "failed" else RecipientStatus.UNKNOWN
        targets = await self.store.recipients(request_id, [status])
        if not targets:
            raise Rejection(f"Request {request_id} has no {which} recipients to send to.")
        new_id = new_request_id()
        plan = Plan(
            request_id=new_id,
            channel=record.channel,
            account=record.account,
            route=record.route,
            message=record.message,
            recipients=tuple(
                Recipient(address=t.address, ref=recipient_ref(new_id, i))
                for i, t in enumerate(targets, start=1)
            ),
        )
        origin = Origin(
            surface="retry",
            user_id=user_id,
            slack_channel=record.slack_channel,
            thread_ts=record.thread_ts or record.report_ts,
            report_channel=record.report_channel,
        )
        return await self.submit(
            [plan],
            origin,
            idempotency_key=f"retry-{which}:{request_id}",
            confirmed=True,
            parent_request_id=request_id,
        )

    # --- reading ------------------------------------------------------------------------------

    async def _record(self, request_id: str) -> RequestRecord:
        record = await self.store.get_request(request_id)
        if record is None:
            raise Rejection(f"There is no request {request_id}.")
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

    async def status(self, request_id: str) -> RequestStatus | None:
        record = await self.store.get_request(request_id.strip().upper())
        if record is None:
            return None
        return RequestStatus(
            record,
            await self.store.counts(record.request_id),
            await self.store.recipients(record.request_id),
        )

    async def history(self, user_id: str | None, limit: int = 10) -> list[RequestStatus]:
        records = await self.store.recent_requests(user_id, limit)
        return [RequestStatus(r, await self.store.counts(r.request_id), []) for r in records]

    # --- receipts -----------------------------------------------------------------------------

    async def statuses_changed(self, request_ids: Iterable[str]) -> None:
        """Delivery receipts moved some recipients on: bring their root messages up to date."""
        if self.reporter is None:
            return
        seen: set[str] = set()
        for request_id in request_ids:
            record = await self.store.get_request(request_id)
            if record is None:
                continue
            group_id = record.broadcast_id or record.request_id
            if group_id in seen:
                continue
            seen.add(group_id)
            live = self._live_groups.get(group_id)
            if live is not None:  # still sending: the live updater picks it up
                self.reporter.changed(live)
                continue
            records = await self.store.group_requests(group_id) or [record]
            await self.reporter.refresh_soon(self._group_for(records))

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
        return len(groups)
