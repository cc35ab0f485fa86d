"""Running a page: its next move (a step, a repeat, the end) and the fallback between channels.

Why every send has a fixed idempotency key (page, round, step, person, channel): a move is
claimed with a lease before it runs; if the process dies mid-move, the lease runs out and the
next claim runs it again, and the keys make the sends already recorded come back instead of
going twice. What was sent is recorded in ``page_sends``; the timeline in ``page_events``.

Why the lease is short and renewed, and the next step timed from the first send: a move takes
milliseconds, but its claim used to be a fixed 30 s. A process killed inside a move (after its
SMS went out, before the move was recorded as done) left the page claimed for 30 s: a restart
had to wait that out, re-ran the move, and timed the next step from the re-run, so step 2 came
some 30 s late. Now a live process renews its claim every second while the move runs, a dead
one's claim lapses within ``LEASE``, and the next step is due ``wait`` after the step's first
recorded send, however many times the move ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.paging import watch
from bot.paging.links import AckLinks
from bot.paging.rules import RuleTimers, Way
from bot.paging.slack import lit
from bot.paging.snapshot import escalation_of
from bot.paging.targets import (
    Paged,
    address_for,
    group_paged,
    has_receipts,
    person_paged,
    step_people,
)
from bot.paging.text import page_text
from bot.policy import Rejection
from bot.requests import recipient_ref
from bot.store.base import Store
from bot.store.pages_base import PageRecord, PageSend
from bot.tasks import stop_task
from bot.values import Origin, Plan, RecipientRecord, RecipientStatus, Submission, Surface
from config import Settings
from config.settings import Escalation
from providers.base import Service

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=5)  # a claimed move not renewed for this long is run again
RENEW_EVERY = 1.0  # seconds between renewals of a claim while its move runs
NOT_DELIVERED = (
    RecipientStatus.PENDING,
    RecipientStatus.IN_FLIGHT,
    RecipientStatus.SENT,
    RecipientStatus.UNKNOWN,
)


class PagePlanner(Protocol):
    """How a page's send is planned: ``bot.plan.Planner``; Rejection if it cannot go."""

    def plan_page(self, channel_name: str, address: str, text: str) -> Plan: ...


class PageSends(Protocol):
    """Where a page's sends go to be recorded and sent: ``bot.send.service.SendService``."""

    async def submit(
        self, plans: Sequence[Plan], origin: Origin, *, idempotency_key: str, confirmed: bool
    ) -> Submission: ...


@dataclass(frozen=True)
class Move:
    """What a page does next: run (round, step), or end."""

    round: int
    step: int
    end: bool = False


def next_move(page: PageRecord, escalation: Escalation) -> Move:
    """The step after the page's current one; past the last, step 1 of the next round while
    repeats are left; then the end."""
    if page.step + 1 < len(escalation.steps):
        return Move(page.round, page.step + 1)
    if page.round < escalation.repeat:
        return Move(page.round + 1, 0)
    return Move(page.round, page.step, end=True)


class Engine(RuleTimers):
    """Moves pages forward; the scheduler and ``PagingService.start`` call ``run_due``.

    A person with contact rules (``reach``), or held by quiet hours, is paged by timers
    (``bot.paging.rules``); everyone else by the step's ``via``, at once.

    Why two narrow seams (``planner``, ``sends``) and not the whole send service: planning is
    the planner's (policy and the provider's checks, once), and recording a send is the send
    path's; the engine only decides whom to page, by what, and when."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        planner: PagePlanner,
        sends: PageSends,
        clock: Callable[[], datetime],
        links: AckLinks | None,
        command: str,
    ) -> None:
        self.settings = settings
        self.store = store
        self.planner = planner
        self.sends = sends
        self.clock = clock
        self.links = links
        self.command = command

    async def run_due(self, page: PageRecord) -> bool:
        """Claim and run the page's due move; False if another process (or task) got it."""
        now = self.clock()
        claimed = await self.store.claim_page(page.page_id, page.version, now, now + LEASE)
        if claimed is None:
            return False
        async with self._holding(claimed):
            await self._run_move(claimed)
        return True

    async def _run_move(self, claimed: PageRecord) -> None:
        now = self.clock()
        escalation = escalation_of(self.settings, claimed)
        if escalation is None or not escalation.steps:  # no copy, and gone from the config
            if await self.store.end_page(claimed.page_id, claimed.version, now):
                watch.ended(self.settings, claimed)
            return
        move = next_move(claimed, escalation)
        if move.end:
            if await self._still_due(claimed, escalation, now):
                return
            if await self.store.end_page(claimed.page_id, claimed.version, now):
                watch.ended(self.settings, claimed)
                await self.event(claimed.page_id, "ended", "ended unanswered")
            return
        if move.round != claimed.round:
            await self.event(
                claimed.page_id, f"repeat:{move.round}", f"nobody answered: repeat {move.round}"
            )
        elif move.step > 0:
            await self.event(
                claimed.page_id,
                f"escalated:{move.round}:{move.step}",
                f"escalated to step {move.step + 1}",
            )
        await self.run_step(claimed, escalation, move)
        wait = escalation.steps[move.step].wait
        began = await self.step_began(claimed.page_id, move)
        advanced = await self.store.advance_page(
            claimed.page_id, claimed.version, move.round, move.step, began + wait
        )
        # Counted once the move is committed: a claim whose lease ran out (and was run again
        # by another replica) does not advance, so a step is never counted twice.
        if advanced and (move.round, move.step) != (0, 0):
            watch.escalated(self.settings, claimed, move.round, move.step)

    async def _still_due(self, page: PageRecord, escalation: Escalation, now: datetime) -> bool:
        """Keep a page open past its last step while someone's rule or held message is still
        to go: it ends unanswered only ``wait`` (the last step's) after the last of them.

        Why: "SMS after 5m" on a step that waits 2m, or a low page held for someone until 07:00,
        would otherwise end with nobody ever told. A timer that is somehow never done does not
        keep the page open past its due time + ``wait``."""
        pending = [t.due_at for t in await self.store.page_timers(page.page_id) if not t.done]
        if not pending:
            return False
        until = max(pending) + escalation.steps[page.step].wait
        if until <= now:
            return False
        if await self.store.advance_page(page.page_id, page.version, page.round, page.step, until):
            await self.event(
                page.page_id,
                f"endwait:{page.round}",
                f"every step has run; the page stays open for the messages still due, "
                f"until {lit(until.strftime('%Y-%m-%d %H:%M UTC'))} unless acknowledged",
            )
        return True

    @contextlib.asynccontextmanager
    async def _holding(self, claimed: PageRecord) -> AsyncIterator[None]:
        """Renew the claim while its move runs, so only a process that stopped loses it."""

        async def renew() -> None:
            while True:
                await asyncio.sleep(RENEW_EVERY)
                until = self.clock() + LEASE
                if not await self.store.renew_page_claim(claimed.page_id, claimed.version, until):
                    return  # acknowledged, or (after a long stall) claimed by another process

        renewer = asyncio.create_task(renew(), name=f"page-claim-{claimed.page_id}")
        try:
            yield
        finally:
            await stop_task(renewer)

    async def step_began(self, page_id: str, move: Move) -> datetime:
        """When the step first paged someone (an earlier run of the move cut off by a crash
        counts), else now: its ``wait`` runs from then."""
        sends = await self.store.page_sends(page_id)
        times = [s.sent_at for s in sends if (s.round, s.step) == (move.round, move.step)]
        return min(times, default=self.clock())

    async def run_step(self, page: PageRecord, escalation: Escalation, move: Move) -> None:
        step = escalation.steps[move.step]
        people, notes = step_people(self.settings, step, self.clock())
        for note in notes:
            await self.event(page.page_id, f"note:{move.round}:{move.step}:{note}", lit(note))
        first = self.settings.channels.get(step.via[0]) if step.via else None
        if first is not None and first.service is Service.WHATSAPP_GROUP:
            people = group_paged(first)  # a group channel pages its group, once
            timed: list[Paged] = []
        else:
            now = self.clock()
            timed = [p for p in people if self.by_timers(escalation, p, now)]
        for paged in people:
            if paged not in timed:
                await self.page_person(page, move.round, move.step, paged, 0)
        if timed:
            await self.schedule(page, escalation, move.round, move.step, timed, self.clock())

    async def page_person(
        self, page: PageRecord, round_: int, step_idx: int, paged: Paged, start: int
    ) -> bool:
        """Page ``paged`` by the first channel from ``start`` they have a number for."""
        escalation = escalation_of(self.settings, page)
        if escalation is None:
            return False
        via = escalation.steps[step_idx].via
        for via_idx in range(start, len(via)):
            channel = self.settings.channels.get(via[via_idx])
            if channel is not None and channel.service is Service.WHATSAPP_GROUP:
                for group in group_paged(channel):
                    await self.send(page, round_, step_idx, group, via_idx, group.key)
                return True
            address = address_for(paged, channel) if channel is not None else None
            if address is not None and await self.send(
                page, round_, step_idx, paged, via_idx, address
            ):
                return True
        return False

    async def send(
        self, page: PageRecord, round_: int, step_idx: int, paged: Paged, via_idx: int, to: str
    ) -> bool:
        """One person by one of the step's ``via`` channels."""
        escalation = escalation_of(self.settings, page)
        assert escalation is not None  # page_person found it
        channel = escalation.steps[step_idx].via[via_idx]
        what = (
            f"paged {{{paged.key}}} by {lit(channel)}"
            if via_idx == 0
            else f"{{{paged.key}}}: fell back to {lit(channel)}"
        )
        key = f"page:{page.page_id}:{round_}:{step_idx}:{paged.key}:{via_idx}"
        return await self.deliver(
            page, round_, step_idx, paged, Way(via_idx, channel, key, what), to
        )

    async def deliver(
        self, page: PageRecord, round_: int, step_idx: int, paged: Paged, way: Way, to: str
    ) -> bool:
        """One person by one channel (a ``via`` of the step, or one of their own rules); the
        send path records it before it goes out. False if it could not be planned (the thread
        says why)."""
        text = page_text(page.text, page.page_id, self.command, self.links, paged.key)
        try:
            plan = self.planner.plan_page(way.channel, to, text)
        except Rejection as exc:
            await self.event(
                page.page_id,
                f"refused:{round_}:{step_idx}:{paged.key}:{way.via_idx}",
                f"could not page {{{paged.key}}} by {lit(way.channel)}{way.label}: "
                f"{lit(exc.plain)}",
            )
            return False
        origin = Origin(Surface.PAGE, page.sender, title=f"Page {page.page_id}")
        submission = await self.sends.submit(
            [plan], origin, idempotency_key=way.key, confirmed=True
        )
        request_id = submission.request_ids[0]
        sent_at = self.clock()
        if not submission.created:  # recorded by an earlier run of this move: keep its time
            earlier = await self.store.get_request(request_id)
            sent_at = earlier.created_at if earlier is not None else sent_at
        record = PageSend(
            page.page_id,
            round_,
            step_idx,
            paged.key,
            way.via_idx,
            way.channel,
            request_id,
            recipient_ref(request_id, 1),
            sent_at,
        )
        if await self.store.add_page_send(record):
            await self.event(page.page_id, f"sent:{way.key}", way.what)
        return True

    async def fallbacks(self, page: PageRecord) -> None:
        """For the step now running: the next ``via`` channel for each person whose send
        failed, or (on a channel with receipts) was not delivered within ``fallback_after``;
        for any step, the next contact rule of a person whose rule's send failed."""
        sends = await self.store.page_sends(page.page_id)
        await self.rule_failures(page, sends)
        escalation = escalation_of(self.settings, page)
        if escalation is None or page.step < 0:
            return
        via = escalation.steps[page.step].via
        now = self.clock()
        for send in sends:
            if (send.round, send.step) != (page.round, page.step) or send.fell_back:
                continue
            if send.rule is not None:
                continue  # a contact rule's send: its failure brings the next rule forward
            recipient = await self.recipient_of(send)
            status = recipient.status if recipient is not None else None
            if recipient is not None and status is RecipientStatus.FAILED:
                await self.event(
                    page.page_id,
                    f"failed:{send.round}:{send.step}:{send.person}:{send.via_idx}",
                    f"paging {{{send.person}}} by {lit(send.channel)} failed: "
                    f"{lit(recipient.reason or 'no reason given')}",
                )
            if send.via_idx + 1 >= len(via):
                continue
            channel = self.settings.channels.get(send.channel)
            late = (
                escalation.fallback_after is not None
                and channel is not None
                and has_receipts(self.settings, channel)
                and status in NOT_DELIVERED
                and now >= send.sent_at + escalation.fallback_after
            )
            if status is not RecipientStatus.FAILED and not late:
                continue
            if not await self.store.mark_fell_back(
                page.page_id, send.round, send.step, send.person, send.via_idx
            ):
                continue  # another process took this fallback
            paged = self.paged_named(send.person)
            if not await self.page_person(page, send.round, send.step, paged, send.via_idx + 1):
                await self.event(
                    page.page_id,
                    f"nofallback:{send.round}:{send.step}:{send.person}",
                    f"no other channel reaches {{{send.person}}}",
                )

    def paged_named(self, key: str) -> Paged:
        person = self.settings.people.get(key)
        if person is None:
            return Paged(key, phone=key, whatsapp=key)
        return person_paged(person)

    async def recipient_of(self, send: PageSend) -> RecipientRecord | None:
        for recipient in await self.store.recipients(send.request_id):
            if recipient.ref == send.ref:
                return recipient
        return None

    async def event(self, page_id: str, key: str, text: str) -> None:
        """Add to the timeline: ``{name}`` marks a person (shown as their mention in Slack);
        any other words in ``text`` went through ``lit`` so their braces stay braces."""
        await self.store.add_page_event(page_id, key, self.clock(), text)
