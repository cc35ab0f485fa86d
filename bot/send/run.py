"""Running a send: record it durably, start it, dispatch in the background, report the outcome.

Why apart from the follow-ups and recovery: this is the part that keeps the promises (recorded
before sent, never sent twice, every outcome reported); the others start sends only through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

from bot import metrics
from bot.dispatch import Dispatcher, DispatchStopped
from bot.policy import needs_confirmation
from bot.report import Group, Reporter
from bot.send.live import LiveSends
from bot.send.ownership import Ownership
from bot.send.records import group_for, group_id_of
from bot.store.base import NewRequest, Store
from bot.store.leases import Lease, LeaseLost
from bot.values import Origin, Plan, RequestRecord, RequestState, Submission
from config import Settings
from providers.base import Outcome, OutcomeStatus

log = logging.getLogger(__name__)


class Runner:
    """Records sends and runs them in the background; ``live`` tracks what is running."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        dispatcher: Dispatcher,
        reporter: Reporter | None,
        live: LiveSends,
        ownership: Ownership,
    ) -> None:
        self.settings = settings
        self.store = store
        self.dispatcher = dispatcher
        self.reporter = reporter
        self.live = live
        self.ownership = ownership

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
        held = not confirmed and needs_confirmation(plans, self.settings.defaults.confirm_over)
        records, created = await self._record(
            plans, origin, idempotency_key, held=held, parent_request_id=parent_request_id
        )
        if created and not held:
            await self.start(records, plans)
        return Submission(
            group_id=group_id_of(records[0]),
            request_ids=tuple(r.request_id for r in records),
            created=created,
            recipients=sum(r.total for r in records),
            held=records[0].state is RequestState.HELD,
        )

    async def send_inline(self, plan: Plan, origin: Origin) -> AsyncIterator[Outcome]:
        """Record, then send in the caller's task, yielding outcomes (the terminal's `send`):
        never held, never reported to Slack — the caller's own output is the report."""
        key = f"{origin.surface}:{plan.request_id}"
        _, created = await self._record([plan], origin, key, held=False)
        if not created:
            return
        lease = await self.ownership.acquire(plan.request_id)
        if lease is None:
            return  # a replica's watcher adopted it first (it was recorded long ago)
        try:
            await self.store.set_state(plan.request_id, RequestState.SENDING)
            recorder = self.ownership.recorder(lease)
            async for outcome in self.dispatcher.dispatch(plan, recorder=recorder):
                yield outcome
            await self.store.set_state(plan.request_id, RequestState.DONE)
            # The terminal was the report.
            await self.ownership.book.mark_reported(lease, [plan.request_id])
            await self.ownership.release(lease)
        finally:
            self.ownership.forget(lease)
            await self.ownership.settle()

    async def _record(
        self,
        plans: Sequence[Plan],
        origin: Origin,
        idempotency_key: str,
        *,
        held: bool,
        parent_request_id: str | None = None,
    ) -> tuple[list[RequestRecord], bool]:
        group_id = plans[0].request_id
        entries = [
            (
                NewRequest(
                    request_id=plan.request_id,
                    surface=origin.surface,
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
        outcome = "duplicate" if not created else "held" if held else "accepted"
        metrics.REQUESTS.labels(origin.surface, outcome).inc()
        return records, created

    async def start(
        self,
        records: Sequence[RequestRecord],
        plans: Sequence[Plan],
        *,
        lease: Lease | None = None,
    ) -> None:
        """Own the group (``lease``: resumed, after a crash or a takeover), open its report
        (adopting a root an earlier owner posted), then dispatch
        ``plans`` in the background; a group another replica owns is left to it."""
        group = group_for(records, resumed=lease is not None)
        if lease is None:
            lease = await self.ownership.acquire(group.group_id)
            if lease is None:
                log.info("another replica owns this send", extra={"group": group.group_id})
                return
        group.lease = lease
        try:
            if self.reporter is not None:
                await self.reporter.open(group)
        except LeaseLost:
            self.ownership.forget(lease)
            return
        self.live.add(group, asyncio.create_task(self._run(group, plans)))

    def lost(self, lease: Lease) -> None:
        """Another replica took this send over: stop sending and reporting it here."""
        group = self.live.group(lease.group_id)
        if group is not None and group.lease == lease:
            self.live.cancel(group.group_id)

    async def _run(self, group: Group, plans: Sequence[Plan]) -> None:
        results = await asyncio.gather(
            *(self._send(group, plan) for plan in plans), return_exceptions=True
        )
        planned = {plan.request_id for plan in plans}
        done = [rid for rid in group.request_ids if rid not in planned]  # finished before
        for plan, result in zip(plans, results, strict=True):
            if result is None:
                done.append(plan.request_id)
            elif isinstance(result, LeaseLost):
                log.warning("stopped a send taken over by another replica", extra=_of(group))
                return
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
        if self.live.stopping:
            return  # the restart (or another replica) resumes the rest and reports it
        try:
            await self.report(group, done)
        except LeaseLost:
            log.warning("a send was taken over before its report was written", extra=_of(group))
        except Exception as exc:
            # Stop renewing: a lease kept alive by a send that can no longer report would stop
            # every other replica's watcher from finishing it (a restart does it on SQLite).
            assert group.lease is not None
            self.ownership.forget(group.lease)
            log.error(
                "the final report of a send failed; it is left for a takeover or restart",
                extra={**_of(group), "error": type(exc).__name__},
            )

    async def report(self, group: Group, request_ids: Sequence[str]) -> None:
        """The final summary and failure list, then note it was written (a crash before that
        note makes the restart write it again: at worst twice, never lost); then release the
        group's lease (anything left unfinished is adopted by a replica's watcher)."""
        assert group.lease is not None
        if self.reporter is not None:
            await self.reporter.finish(group)
        if request_ids:
            await self.ownership.book.mark_reported(group.lease, request_ids)
        await self.ownership.release(group.lease)

    async def _send(self, group: Group, plan: Plan) -> None:
        assert group.lease is not None
        if plan.account not in self.dispatcher.accounts:
            await self._fail_all(plan, "its provider account is no longer in the config")
        elif plan.recipients:
            await self.store.set_state(plan.request_id, RequestState.SENDING)
            recorder = self.ownership.recorder(group.lease)
            async for _ in self.dispatcher.dispatch(plan, recorder=recorder):
                if self.reporter is not None:
                    self.reporter.changed(group)
        await self.store.set_state(plan.request_id, RequestState.DONE)

    async def _fail_all(self, plan: Plan, reason: str) -> None:
        outcomes = [
            Outcome(recipient=r, status=OutcomeStatus.FAILED, reason=reason)
            for r in plan.recipients
        ]
        await self.store.outcomes_recorded(plan.request_id, outcomes)

    async def wait_idle(self) -> None:
        """Wait for every background send and report refresh to finish (tests, demo, shutdown)."""
        # Sends started meanwhile are waited for too. A finished task leaves ``live.tasks`` in
        # its done callback, a turn later, and on Python 3.12+ ``gather`` of finished tasks does
        # not yield that turn: so the loop ends when all are done, not when the set is empty.
        while True:
            await asyncio.gather(*list(self.live.tasks), return_exceptions=True)
            if all(task.done() for task in self.live.tasks):
                break
        if self.reporter is not None:
            await self.reporter.drain()

    async def stop(self, grace: float = 0.0) -> None:
        """Shutdown: start no new provider calls, give in-flight ones ``grace`` seconds to answer
        (so they end sent or failed, not unknown), then cancel; the rest resumes on restart."""
        self.live.stopping = True
        self.dispatcher.stop_taking_new()
        running = list(self.live.tasks)
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        if self.reporter is not None:
            for group in self.live.groups():
                await self.reporter.abandon(group)
        # No more renewals: another replica takes the unfinished sends over once they lapse.
        await self.ownership.close()


def _of(group: Group) -> dict[str, object]:
    return {"group": group.group_id, "epoch": group.lease.epoch if group.lease else None}
