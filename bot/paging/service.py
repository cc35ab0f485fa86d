"""The paging service: start a page, acknowledge one, and the scheduler loop that moves pages.

Why one loop per process, driven by the runtime's clock: the page rows hold every timer
(``next_at``), so the loop only asks the store what is due and claims it (compare-and-set);
a restart, or a second replica on the same PostgreSQL database, picks up where the other left
off, at most one tick late, and never runs a move twice.

The loop also gives a page its root message if the start never recorded one (the process died
between recording the page and posting, or Slack refused the post): after ``takeover_after``,
so the starting replica's own post is not raced, one replica claims it (``restore_root``).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.web.async_client import AsyncWebClient

from bot.paging import snapshot, watch
from bot.paging.caps import check_room
from bot.paging.engine import Engine
from bot.paging.links import AckLinks
from bot.paging.slack import SOURCE, PageSlack
from bot.paging.states import AckOutcome, PageState, state_of
from bot.paging.text import sms_problem
from bot.policy import AckRight, Rejection, ack_right, link_ack_right, may_see_page
from bot.policy.page_caps import cap_refusal, caps_of
from bot.send.service import SendService
from bot.store.base import Store
from bot.store.pages_base import NewPage, PageCapReached, PageRecord, PageSend
from bot.store.timers_base import PageTimer
from bot.tasks import stop_task
from bot.values import RecipientStatus
from config import Settings

log = logging.getLogger(__name__)

# Due moves and fallback checks one tick runs at once (each a few store round trips and a send).
TICK_CONCURRENCY = 16
MIN_PAUSE = 0.02  # seconds: the shortest sleep between ticks
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as request ids: typed into /send ack


def new_page_id() -> str:
    return "P" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


@dataclass(frozen=True)
class AckResult:
    """What became of an acknowledgement, and ``page``, the record after it (None for an
    unknown page)."""

    outcome: AckOutcome
    page: PageRecord | None


@dataclass(frozen=True)
class PageView:
    """A page and each send it made with that send's status now (None: not recorded yet), and
    the contact rules and held sends still to go (``pending``)."""

    page: PageRecord
    sends: list[tuple[PageSend, RecipientStatus | None]]
    pending: tuple[PageTimer, ...] = ()


class PagingService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        service: SendService,
        client: AsyncWebClient,
        *,
        clock: Callable[[], datetime],
        links: AckLinks | None = None,
        command: str = "/send",
        tick: float = 1.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.service = service
        self.clock = clock
        self.links = links
        self.slack = PageSlack(settings, store, client)
        self.engine = Engine(settings, store, service.planner, service, clock, links, command)
        self.command = command
        self.tick_seconds = tick
        # How long a page may go without a recorded root message before a scheduler posts it,
        # and how long that scheduler's claim lasts: as for a send's owner, a starting replica
        # not done within takeover_after is taken to be gone.
        self.root_grace: timedelta = settings.defaults.takeover_after
        self._loop: asyncio.Task[None] | None = None
        # Work the scheduler does first on each tick (``bot.alerts``: heartbeats that fell due),
        # so a page it starts runs in the same tick.
        self.before_tick: list[Callable[[], Awaitable[object]]] = []

    # --- pages ----------------------------------------------------------------------------------

    async def start(
        self,
        escalation: str,
        text: str,
        sender: str | None,
        slack_channel: str | None,
        *,
        idempotency_key: str | None = None,
    ) -> PageRecord:
        """Record the page, post its root message, and run step 1 now; Rejection if the
        escalation is unknown, the text does not fit an SMS channel of it, or the sender or the
        escalation already has its most active pages (``defaults.max_active_pages_per_*``).

        A page already started with ``idempotency_key`` (a modal submitted twice, on one replica
        or two) is returned as it is: the store, not memory, makes a start happen once.
        """
        self.check(escalation, text)
        new = NewPage(
            new_page_id(),
            escalation,
            text.strip(),
            sender,
            slack_channel,
            self.clock(),
            idempotency_key,
            snapshot.to_json(self.settings.escalations[escalation]),
        )
        try:
            page = await self.store.create_page(new, caps_of(self.settings.defaults))
        except PageCapReached as exc:
            raise Rejection(cap_refusal(exc, escalation, self.command)) from None
        if page.page_id != new.page_id:
            return page  # started before: its root and step 1 are the first start's to do
        watch.started(self.settings, page)
        await self.begin(page)
        return (await self.store.get_page(page.page_id)) or page

    async def begin(self, page: PageRecord) -> None:
        """A page just recorded (by a person, an alert or a missed heartbeat): its root message
        and step 1 now, not at the scheduler's next tick, then its thread."""
        await self.slack.post_root(page)
        await self.engine.run_due(page)
        self.refresh_later(page.page_id)

    async def end_at_source(self, page_id: str, source: str, words: str) -> None:
        """Monitoring says it is over (``source``: an integration, ``heartbeat:NAME``): end the
        page so no later step runs, and say so in its thread with ``words``."""
        ended = await self.store.end_page_at_source(page_id, SOURCE + source, self.clock())
        await self.engine.event(
            page_id, "resolved", words + (": no later step runs" if ended else "")
        )
        self.refresh_later(page_id)

    async def check_room(self, escalation: str, sender: str, *, within: float) -> None:
        """Rejection if ``sender`` or ``escalation`` is at its active-page cap now (a modal's
        look before it closes; the store still decides at start)."""
        defaults = self.settings.defaults
        await check_room(self.store, defaults, escalation, sender, self.command, within)

    def check(self, escalation: str, text: str) -> None:
        """Rejection (saying what to change) if a page with this text could not start."""
        policy = self.settings.escalations.get(escalation)
        if policy is None:
            names = ", ".join(self.settings.escalations) or "none"
            raise Rejection(f"There is no escalation `{escalation}`. Escalations: {names}.")
        if not text.strip():
            raise Rejection(f"Write what is happening: {self.command} page {escalation} DB down")
        problem = sms_problem(self.settings, policy, text, self.command, self.links)
        if problem is not None:
            raise Rejection(problem)

    async def acknowledge(
        self,
        page_id: str,
        *,
        user_id: str | None = None,
        target: str | None = None,
        usergroups: Iterable[str] = (),
        via: str = "slack",
        operator: str | None = None,
    ) -> AckResult:
        """First one wins; the others learn who was first. Who may is policy's
        (``bot.policy.paging``): a Slack user by ``user_id``, the person an ack link names
        (``target``, its signature checked here), or ``operator``, the login at the terminal.
        Someone not allowed learns nothing: "refused" whatever the page's state, so they cannot
        tell it from an unknown page."""
        page = await self.store.get_page(page_id.strip().upper())
        if page is None:
            return AckResult(AckOutcome.UNKNOWN, None)
        paged = {s.person for s in await self.store.page_sends(page.page_id)}
        if operator is not None:
            right, by = AckRight.OPERATOR, f"{watch.OPERATOR}{operator}"
        elif user_id is not None:
            right = self._right(page, paged, user_id, usergroups)
            by = f"slack:{user_id}"
        else:
            person = self._person_of(page.page_id, paged, target)
            right = link_ack_right(person, paged)
            by = f"person:{person}"
        if right is AckRight.NONE:
            return AckResult(AckOutcome.REFUSED, page)
        if state_of(page) is PageState.ACKNOWLEDGED:
            return AckResult(AckOutcome.ALREADY, page)
        if state_of(page) is PageState.ENDED:
            return AckResult(AckOutcome.ENDED, page)
        at = self.clock()
        won = await self.store.acknowledge_page(page.page_id, by, at)
        after = await self.store.get_page(page.page_id)
        if won:
            watch.acknowledged(self.settings, page, by, at, via)
            await self.engine.event(
                page.page_id, "acknowledged", f"acknowledged by {{{by}}} ({via})"
            )
            self.refresh_later(page.page_id)
        return AckResult(AckOutcome.ACKNOWLEDGED if won else AckOutcome.ALREADY, after)

    def _right(
        self, page: PageRecord, paged: set[str], user_id: str, usergroups: Iterable[str]
    ) -> AckRight:
        return ack_right(
            self.settings,
            escalation=page.escalation,
            started_by=page.sender,
            paged=paged,
            user_id=user_id,
            usergroups=usergroups,
        )

    async def view(
        self, page_id: str, user_id: str | None, usergroups: Iterable[str] = ()
    ) -> PageView | None:
        """The page for ``/send status``; None if unknown or not this user's to see (one None:
        a forbidden id must not reveal that the page exists). Who may acknowledge it may see
        it; ``user_id`` None is the operator at the terminal."""
        page = await self.store.get_page(page_id.strip().upper())
        if page is None:
            return None
        sends = await self.store.page_sends(page.page_id)
        paged = {s.person for s in sends}
        right = (  # None: the terminal, which holds the config and the store
            AckRight.OPERATOR if user_id is None else self._right(page, paged, user_id, usergroups)
        )
        if not may_see_page(right):
            return None
        outcomes = [(send, await self.engine.recipient_of(send)) for send in sends]
        pending: tuple[PageTimer, ...] = ()
        if state_of(page) is PageState.ACTIVE:
            timers = await self.store.page_timers(page.page_id)
            pending = tuple(sorted((t for t in timers if not t.done), key=lambda t: t.due_at))
        return PageView(page, [(s, r.status if r else None) for s, r in outcomes], pending)

    def _person_of(self, page_id: str, paged: set[str], target: str | None) -> str | None:
        """The person the page sent to whose opaque id (in a link) is ``target``."""
        if target is None or self.links is None:
            return None
        for person in sorted(paged):
            if hmac.compare_digest(self.links.target(page_id, person), target):
                return person
        return None

    # --- the scheduler --------------------------------------------------------------------------

    async def tick(self) -> int:
        """Run every due move, every fallback and every contact rule that is due; returns
        moves run.

        Moves run side by side (a few at a time): when a hundred pages fall due together, the
        last must not wait for the ninety-nine before it, one store round trip and send each.
        """
        started = self.clock()  # the tick's moment: what is due is due by then
        for hook in self.before_tick:
            try:
                await hook()
            except Exception:
                log.exception("scheduled work before the page tick failed; the next tick retries")
        slots = asyncio.Semaphore(TICK_CONCURRENCY)

        async def move(page: PageRecord) -> bool:
            async with slots:
                moved = await self.engine.run_due(page)
            if moved:
                self.refresh_later(page.page_id)
            return moved

        async def fall_back(page: PageRecord) -> None:
            async with slots:
                await self.engine.fallbacks(page)
                events = await self.store.page_events(page.page_id)
            if any(not e.posted for e in events):
                self.refresh_later(page.page_id)

        async def restore_root(page: PageRecord) -> None:
            async with slots:
                restored = await self.slack.restore_root(page, self.clock, self.root_grace)
            if restored:
                self.refresh_later(page.page_id)  # the steps and events so far, in its thread

        async def fire(page_id: str) -> None:
            async with slots:
                fired = await self.engine.fire_page(page_id)
            if fired:
                self.refresh_later(page_id)

        async def fire_due() -> None:
            timers = await self.store.due_page_timers(self.clock())
            await asyncio.gather(
                *(fire(page_id) for page_id in dict.fromkeys(t.page_id for t in timers))
            )

        due = await self.store.due_pages(started)
        moved = sum(await asyncio.gather(*(move(page) for page in due)))
        # Contact rules and held sends that fell due (or a failure brought forward), page by
        # page: each timer is claimed by one process, whichever ticks first. Before the
        # fallback pass over every active page: a rule is due at a moment people were promised.
        await fire_due()
        active = await self.store.active_pages()
        now = self.clock()
        rootless = [page for page in active if self._root_overdue(page, now)]
        await asyncio.gather(
            *(fall_back(page) for page in active), *(restore_root(page) for page in rootless)
        )
        await fire_due()  # a failure the fallback pass found brought someone's next rule to now
        return moved

    def _root_overdue(self, page: PageRecord, now: datetime) -> bool:
        """A page whose root message should be there by now and is not, claimed by nobody."""
        return (
            page.slack_channel is not None
            and page.root_ts is None
            and page.created_at + self.root_grace <= now
            and (page.root_claimed_until is None or page.root_claimed_until <= now)
        )

    async def _run(self) -> None:
        while True:
            began = time.monotonic()
            try:
                moved = await self.tick()
            except Exception:
                log.exception("a paging tick failed; the next one tries again")
                await asyncio.sleep(self.tick_seconds)
                continue
            if not moved:  # pages that fell due during a busy tick go at once, not a tick later
                await asyncio.sleep(await self._pause(began))

    async def _pause(self, began: float) -> float:
        """Seconds until the next tick: one ``tick`` after the last began (not after it ended:
        a busy tick must not stretch the period), or sooner when a page's move or someone's
        rule falls due before then, so a rule due at 07:00:00.2 goes then, not up to a tick
        later. Never less than ``MIN_PAUSE``: a timer that stays due cannot spin the loop."""
        rest = self.tick_seconds - (time.monotonic() - began)
        try:
            due = await self.store.next_paging_due(self.clock())
        except Exception:
            log.exception("could not read when paging work falls due; ticking on time")
            due = None
        if due is not None:
            rest = min(rest, (due - self.clock()).total_seconds())
        return max(rest, min(MIN_PAUSE, self.tick_seconds))

    def start_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name="paging-scheduler")

    async def stop(self) -> None:
        loop, self._loop = self._loop, None
        await stop_task(loop)
        await self.wait_idle()

    async def wait_idle(self) -> None:
        await self.slack.wait_idle()

    def refresh_later(self, page_id: str) -> None:
        """Bring the page's Slack messages up to date soon, after any update under way."""
        self.slack.refresh_later(page_id)

    async def statuses_changed(self, request_ids: Iterable[str]) -> None:
        """Receipts moved some sends: the pages they belong to show it."""
        for page_id in await self.store.pages_for_requests(list(request_ids)):
            self.refresh_later(page_id)
