"""Each person's own contact rules, and quiet hours, as durable timers of a page.

Why timers in the store (``page_timers``): a rule is due minutes after the step reached the
person ("WhatsApp now, SMS after 2m"), and a low-urgency page for someone in their quiet hours
waits hours. Like a page's steps, these must survive a restart, a replica's death and a
takeover, and go once. A step writes its people's timers when it runs (a re-run of the step
after a crash writes nothing new, and keeps the first run's times); the scheduler's tick claims
each due timer by compare-and-set, only while its page is active, so nothing is sent after an
acknowledgement, nor after the page ended; a page whose steps have all run stays open while a
rule or a held message is still due, and ends unanswered the last step's ``wait`` after the
last of them (``Engine._still_due``): nobody's "SMS after 5m", nor a page held until 07:00, is
dropped because the escalation ran out first. Each
send has its own fixed idempotency key (``page:{id}:{round}:{step}:{person}:rule:{i}``), so a
claim whose holder died is run again and gets the recorded send back instead of sending twice.

A rule's send is recorded in ``page_sends`` with ``via_idx`` ``-(i + 1)`` (``PageSend.rule``):
the thread, receipts and ``/send status`` show it like any send, and the step's ``via``
fallback never reads it as one of its channels. A rule whose send failed (the provider refused
it, or its receipt said failed) brings the person's next rule forward to now (for a low page
in their quiet hours: to the window's end): nobody waits two minutes for an SMS after WhatsApp
already said no.

Rules are numbered from 1 in the thread ("paged {alice} by oncall-wa (rule 1)"), as people
count; from 0 in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.paging.quiet import clock_words, quiet_until
from bot.paging.slack import lit
from bot.paging.snapshot import escalation_of
from bot.paging.targets import Paged, address_for
from bot.store.base import Store
from bot.store.pages_base import PageRecord, PageSend
from bot.store.timers_base import VIA, PageTimer
from bot.values import RecipientRecord, RecipientStatus
from config import Settings
from config.settings import Escalation, Person

TIMER_LEASE = timedelta(seconds=5)  # a claimed timer not done within this is claimed again


@dataclass(frozen=True)
class Way:
    """How one send goes: its ``page_sends`` index, channel, idempotency key, thread line, and
    what the thread adds after the channel when it cannot go (`` (rule 2)``)."""

    via_idx: int
    channel: str
    key: str
    what: str
    label: str = ""


def rule_key(page_id: str, round_: int, step: int, person: str, rule: int) -> str:
    """The idempotency key of a rule's send: stable, and distinct from a ``via`` send's."""
    return f"page:{page_id}:{round_}:{step}:{person}:rule:{rule}"


def rule_via_idx(rule: int) -> int:
    """Where a rule's send sits in ``page_sends`` (``PageSend.rule`` reads it back)."""
    return -(rule + 1)


class RuleTimers:
    """The engine's part that pages people by their own rules, or holds them for quiet hours.

    A mixin of ``bot.paging.engine.Engine``: it uses the engine's store, clock, sends and
    timeline (declared here so each side is typed)."""

    settings: Settings
    store: Store
    clock: Callable[[], datetime]

    async def event(self, page_id: str, key: str, text: str) -> None:
        raise NotImplementedError

    async def deliver(
        self, page: PageRecord, round_: int, step_idx: int, paged: Paged, way: Way, to: str
    ) -> bool:
        raise NotImplementedError

    async def page_person(
        self, page: PageRecord, round_: int, step_idx: int, paged: Paged, start: int
    ) -> bool:
        raise NotImplementedError

    def paged_named(self, key: str) -> Paged:
        raise NotImplementedError

    async def recipient_of(self, send: PageSend) -> RecipientRecord | None:
        raise NotImplementedError

    # --- when a step runs ------------------------------------------------------------------------

    def by_timers(self, escalation: Escalation, paged: Paged, now: datetime) -> bool:
        """Does this person go by timers (their own rules, or held by quiet hours)?"""
        person = self.settings.people.get(paged.key)
        return person is not None and (
            bool(person.reach) or self._held_until(escalation, person, now) is not None
        )

    def _held_until(self, escalation: Escalation, person: Person, now: datetime) -> datetime | None:
        """The end of the quiet hours ``person`` is in at ``now``, for a low-urgency page."""
        if escalation.urgency != "low" or person.quiet is None:
            return None
        return quiet_until(person.quiet, now)

    async def schedule(
        self,
        page: PageRecord,
        escalation: Escalation,
        round_: int,
        step: int,
        people: Sequence[Paged],
        now: datetime,
    ) -> None:
        """Write the timers of ``people`` (who go by timers) for this step, then send what is
        due now. Someone already held by an earlier step or round of this page is not held
        twice: their held page is still to come. For a low-urgency page, the moment the step
        reaches someone decides whether they are held; a later rule that would fall in their
        quiet hours waits too (``_chain``)."""
        timers: list[PageTimer] = []
        held: list[tuple[Person, datetime]] = []
        paused: list[tuple[Person, PageTimer, datetime]] = []
        earlier = [
            t
            for t in await self.store.page_timers(page.page_id)
            if not t.done and (t.round, t.step) != (round_, step) and t.due_at > now
        ]
        for paged in people:
            person = self.settings.people[paged.key]
            until = self._held_until(escalation, person, now)
            if until is not None:
                if any(t.person == person.name for t in earlier):
                    continue
                held.append((person, until))
            start = until or now
            if person.reach:
                chain, waits = self._chain(page.page_id, escalation, round_, step, person, start)
                timers += chain
                paused += [(person, rule, end) for rule, end in waits]
            else:
                via = escalation.steps[step].via
                first = via[0] if via else ""
                timers.append(PageTimer(page.page_id, round_, step, person.name, VIA, first, start))
        await self.store.add_page_timers(timers)
        for person, until in held:
            assert person.quiet is not None
            await self.event(
                page.page_id,
                f"quiet:{round_}:{step}:{person.name}",
                f"{{{person.name}}} is in quiet hours until "
                f"{lit(clock_words(person.quiet, until))}: this low-urgency page waits for them",
            )
        await self.fire_page(page.page_id)
        for person, rule, end in paused:
            assert person.quiet is not None
            await self.event(
                page.page_id,
                f"quietrule:{round_}:{step}:{person.name}:{rule.rule}",
                f"{{{person.name}}}'s rule {rule.rule + 1} ({lit(rule.channel)}) would fall in "
                f"their quiet hours: it waits until {lit(clock_words(person.quiet, end))}",
            )

    def _chain(
        self,
        page_id: str,
        escalation: Escalation,
        round_: int,
        step: int,
        person: Person,
        start: datetime,
    ) -> tuple[list[PageTimer], list[tuple[PageTimer, datetime]]]:
        """The person's rules from ``start``, each ``after`` it; for a low-urgency page, a rule
        that would fall in their quiet hours waits until the window ends, and the later rules
        keep their spacing after it. The timers, and the rules that had to wait (with when)."""
        timers: list[PageTimer] = []
        waits: list[tuple[PageTimer, datetime]] = []
        shift = timedelta(0)
        for index, rule in enumerate(person.reach):
            due = start + rule.after + shift
            end = self._held_until(escalation, person, due)
            if end is not None:
                shift += end - due
                due = end
            timer = PageTimer(page_id, round_, step, person.name, index, rule.via, due)
            timers.append(timer)
            if end is not None:
                waits.append((timer, end))
        return timers, waits

    # --- when timers fall due --------------------------------------------------------------------

    async def fire_page(self, page_id: str) -> int:
        """Send every timer of the page that is due now, and any a failure brings forward."""
        fired = 0
        while True:
            now = self.clock()
            due = [
                t
                for t in await self.store.page_timers(page_id)
                if not t.done
                and t.due_at <= now
                and (t.claimed_until is None or t.claimed_until <= now)
            ]
            went = [await self.fire(t) for t in due]
            fired += sum(went)
            if not any(went):
                return fired

    async def fire(self, timer: PageTimer) -> bool:
        """Claim the due timer and make its send; False if another process (or task) has it, or
        its page is no longer active."""
        now = self.clock()
        if not await self.store.claim_page_timer(timer, now, now + TIMER_LEASE):
            return False
        page = await self.store.get_page(timer.page_id)
        if page is None:
            return False
        paged = self.paged_named(timer.person)
        if timer.rule == VIA:
            if not await self.page_person(page, timer.round, timer.step, paged, 0):
                await self.event(
                    page.page_id,
                    f"nofallback:{timer.round}:{timer.step}:{timer.person}",
                    f"no channel of the step reaches {{{timer.person}}}",
                )
        elif not await self.send_rule(page, timer, paged):
            await self.bring_forward(page, timer.round, timer.step, timer.person, timer.rule)
        await self.store.finish_page_timer(timer)
        return True

    async def send_rule(self, page: PageRecord, timer: PageTimer, paged: Paged) -> bool:
        """The timer's rule: its channel, to the person's number for it; False if it cannot
        go (the thread says why)."""
        rule = timer.rule
        label = f" (rule {rule + 1})"
        way = Way(
            rule_via_idx(rule),
            timer.channel,
            rule_key(page.page_id, timer.round, timer.step, timer.person, rule),
            f"paged {{{timer.person}}} by {lit(timer.channel)}{label}",
            label,
        )
        channel = self.settings.channels.get(timer.channel)
        address = address_for(paged, channel) if channel is not None else None
        if address is None:
            await self.event(
                page.page_id,
                f"refused:{timer.round}:{timer.step}:{timer.person}:{way.via_idx}",
                f"could not page {{{timer.person}}} by {lit(timer.channel)}{label}: "
                "no such channel, or no number of theirs for it",
            )
            return False
        return await self.deliver(page, timer.round, timer.step, paged, way, address)

    async def bring_forward(
        self, page: PageRecord, round_: int, step: int, person: str, rule: int
    ) -> None:
        """Rule ``rule`` failed: the person's next rule is due now, or (a low-urgency page, and
        they are in quiet hours now) when the window ends, if it was due later; the thread
        says so."""
        following = [
            t
            for t in await self.store.page_timers(page.page_id)
            if (t.round, t.step, t.person, t.rule) == (round_, step, person, rule + 1)
        ]
        if not following:
            await self.event(
                page.page_id,
                f"norule:{round_}:{step}:{person}:{rule}",
                f"{{{person}}} has no later rule to try",
            )
            return
        nxt = following[0]
        now = self.clock()
        escalation = escalation_of(self.settings, page)
        someone = self.settings.people.get(person)
        held = (
            self._held_until(escalation, someone, now)
            if escalation is not None and someone is not None
            else None
        )
        if await self.store.hasten_page_timer(
            page.page_id, round_, step, person, nxt.rule, held or now
        ):
            when = (
                "now"
                if held is None or someone is None or someone.quiet is None
                else f"when their quiet hours end, {lit(clock_words(someone.quiet, held))}"
            )
            await self.event(
                page.page_id,
                f"forward:{round_}:{step}:{person}:{nxt.rule}",
                f"{{{person}}}: rule {rule + 1} failed, so rule {nxt.rule + 1} "
                f"({lit(nxt.channel)}) goes {when}",
            )

    async def rule_failures(self, page: PageRecord, sends: Sequence[PageSend]) -> None:
        """A rule's send whose receipt (or the provider's answer) said failed: say so once, and
        bring the person's next rule forward."""
        for send in sends:
            if send.rule is None or send.fell_back:
                continue
            recipient = await self.recipient_of(send)
            if recipient is None or recipient.status is not RecipientStatus.FAILED:
                continue
            if not await self.store.mark_fell_back(
                page.page_id, send.round, send.step, send.person, send.via_idx
            ):
                continue  # another process took it
            await self.event(
                page.page_id,
                f"failed:{send.round}:{send.step}:{send.person}:{send.via_idx}",
                f"paging {{{send.person}}} by {lit(send.channel)} (rule {send.rule + 1}) failed: "
                f"{lit(recipient.reason or 'no reason given')}",
            )
            await self.bring_forward(page, send.round, send.step, send.person, send.rule)
