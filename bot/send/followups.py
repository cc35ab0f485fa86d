"""The follow-ups people trigger after a send: confirm or cancel a held one, retry the failed,
read a status or a history — and delivery receipts bringing the summaries up to date.

Why apart from running a send: each is judged afresh (who clicks, under the config in force now,
how old the button is) and then starts sends only through the same runner as a new request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Literal

from bot.plan import Planner
from bot.policy import (
    NOTHING_SENT,
    Rejection,
    authorize,
    may_decide_held,
    may_see_request,
    refuse,
)
from bot.report import Reporter
from bot.requests import new_request_id, recipient_ref
from bot.send.live import LiveSends
from bot.send.records import group_for, group_id_of, plan_from_record, request_or_reject
from bot.send.run import Runner
from bot.store.base import Store
from bot.values import (
    Origin,
    Plan,
    RecipientStatus,
    RequestRecord,
    RequestState,
    RequestStatus,
    Submission,
    Surface,
)
from config import Settings
from config.schema import format_duration
from providers.base import Recipient

# A held send must be confirmed within this long; later, its prompt is stale and refused.
CONFIRM_WITHIN = timedelta(minutes=15)


class Followups:
    """Confirm, cancel, retry, status, history and receipts, for the service to hand out."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        planner: Planner,
        runner: Runner,
        reporter: Reporter | None,
        live: LiveSends,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.store = store
        self.planner = planner
        self.runner = runner
        self.reporter = reporter
        self.live = live
        self.clock = clock  # "now" for the ages of prompts and buttons (the store's own clock)

    # --- buttons ------------------------------------------------------------------------------

    async def _group(self, group_id: str) -> list[RequestRecord]:
        records = await self.store.group_requests(group_id)
        if not records:
            raise Rejection(f"There is no request {group_id}.")
        return records

    async def _authorize_again(
        self, records: Iterable[RequestRecord], user_id: str, slack_channel: str | None
    ) -> None:
        """A button acts as a fresh send would: for the person clicking, under the config in
        force now, from the Slack channel they click in — never on what was true back then."""
        sender = await self.planner.sender(user_id, slack_channel)
        for record in records:
            try:
                authorize(self.settings, record.channel, sender)
            except Rejection as exc:
                raise Rejection(replace(exc.refusal, preface=NOTHING_SENT)) from None

    async def confirm(self, group_id: str, user_id: str, slack_channel: str | None) -> Submission:
        """Send a held request: only its requester, and only while they may still send there."""
        records = await self._group(group_id)
        refuse(may_decide_held(records[0].user_id, user_id, "confirm"))
        age = self.clock() - records[0].created_at
        if records[0].state is RequestState.HELD and age > CONFIRM_WITHIN:
            # An old prompt would page people with news that may no longer be true.
            for r in records:
                await self.store.transition(r.request_id, RequestState.HELD, RequestState.CANCELLED)
            minutes = int(CONFIRM_WITHIN.total_seconds() // 60)
            raise Rejection(
                f"This confirmation is over {minutes} minutes old, so nothing was sent. "
                "Run the command again if the message still holds."
            )
        await self._authorize_again(records, user_id, slack_channel)
        moved = [
            r
            for r in records
            if await self.store.transition(r.request_id, RequestState.HELD, RequestState.ACCEPTED)
        ]
        if moved:
            fresh = [await request_or_reject(self.store, r.request_id) for r in records]
            plans = [await plan_from_record(self.store, r) for r in fresh]
            await self.runner.start(fresh, plans)
        total = sum(r.total for r in records)
        return Submission(group_id, tuple(r.request_id for r in records), bool(moved), total)

    async def cancel(self, group_id: str, user_id: str) -> bool:
        """Only the requester cancels; not re-authorized, since cancelling never sends anything
        (and a prompt left alone expires after CONFIRM_WITHIN anyway)."""
        records = await self._group(group_id)
        refuse(may_decide_held(records[0].user_id, user_id, "cancel"))
        results = [
            await self.store.transition(r.request_id, RequestState.HELD, RequestState.CANCELLED)
            for r in records
        ]
        return any(results)

    async def retry(
        self,
        request_id: str,
        which: Literal["failed", "unknown"],
        user_id: str,
        slack_channel: str | None,
    ) -> Submission:
        """A new request to the failed (or unknown) recipients, reported in the same thread.

        Anyone who could send to the channel from where they click may retry (the requester is
        checked too: they may have left the group); a button older than retry_max_age is refused,
        since its recipients may no longer need the message."""
        record = await request_or_reject(self.store, request_id)
        await self._authorize_again([record], user_id, slack_channel)
        max_age = self.settings.defaults.retry_max_age
        if self.clock() - record.created_at > max_age:
            raise Rejection(
                f"This Retry is over {format_duration(max_age)} old, so nothing was sent: "
                f"{request_id} went out {record.created_at:%Y-%m-%d %H:%M} UTC. If its "
                f"recipients still need the message, run the command again for "
                f"`{record.channel}`. (How long Retry lasts is defaults.retry_max_age.)"
            )
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
            surface=Surface.RETRY,
            user_id=user_id,
            slack_channel=record.slack_channel,
            thread_ts=record.thread_ts or record.report_ts,
            report_channel=record.report_channel,
        )
        return await self.runner.submit(
            [plan],
            origin,
            idempotency_key=f"retry-{which}:{request_id}",
            confirmed=True,
            parent_request_id=request_id,
        )

    # --- reading ------------------------------------------------------------------------------

    async def status(self, request_id: str, user_id: str | None) -> RequestStatus | None:
        """One request, for its requester or an allowed sender of its channel (config now);
        ``user_id=None`` is the terminal, which sees all.

        Anyone else gets None, the same answer as for an id that does not exist: a stranger
        cannot even learn that the id is real (safer than "you can't see this request")."""
        record = await self.store.get_request(request_id.strip().upper())
        if record is None or not await self._may_see(record, user_id):
            return None
        return RequestStatus(
            record,
            await self.store.counts(record.request_id),
            await self.store.recipients(record.request_id),
        )

    async def _may_see(self, record: RequestRecord, user_id: str | None) -> bool:
        """Requester or allowed sender; not tied to slack_channels, as the answer is private."""
        channel = self.settings.channels.get(record.channel)
        asked = user_id is not None and record.user_id != user_id and channel is not None
        sender = await self.planner.sender(user_id, None) if asked and user_id else None
        return may_see_request(record.user_id, channel, user_id, sender)

    async def history(self, user_id: str | None, limit: int = 10) -> list[RequestStatus]:
        """The asker's own recent requests only (all of them for the terminal, ``None``)."""
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
            group_id = group_id_of(record)
            if group_id in seen:
                continue
            seen.add(group_id)
            live = self.live.group(group_id)
            if live is not None:  # still sending: the live updater picks it up
                self.reporter.changed(live)
                continue
            records = await self.store.group_requests(group_id) or [record]
            await self.reporter.refresh_soon(group_for(records))
