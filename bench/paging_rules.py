"""The contact-rules part of ``bench/paging.py``: each person's own rules, urgency and quiet
hours on the real clock, the scheduler's real 1 s tick, and the emulators.

Why: a rule ("WhatsApp now, SMS a minute later") is a timer of its own, and quiet hours hold a
low-urgency page to the second their window ends; both are only as good as the timers that run
them. 100 pages start at once, one person each, every person with three rules — SMS on one
TalkNTalk account (sender id RULE1), WhatsApp on Kaleyra after 1 s, SMS on a second TalkNTalk
account (RULE3) after 2 s — in four kinds of 25: high urgency, high to a person in quiet hours,
low, and low to a person in quiet hours (held until the window ends: the next whole minute at
least 30 s after the config is written, in UTC). Some pages are acknowledged by the link in
their first SMS once it arrived (before rule 2 is due), some held pages by ``/send ack`` during
the hold, some once rule 1 arrived at the window's end.

What is measured, from what the emulators accepted (page id read from the text, rule from the
account and sender id, person from the number) and the send record:

- lateness of a rule: its first arrival at an emulator minus its due time, which is when the step
  reached the person plus the rule's ``after``. For a held page that moment is the window's end
  (from the config, not the engine's word). Otherwise it is when step 1 ran for the page: the due
  time the engine wrote for rule 1, checked to lie between the page's ``created_at`` and rule 1's
  arrival, and every later rule's written due time checked to be exactly its ``after`` more. The
  page's start under the burst (``created_at`` to the step running) is printed beside it;
- doubled: a (page, person, rule) the emulators accepted twice;
- after an ack: a message of an acknowledged page whose rule's timer was claimed at or after the
  page's ``acknowledged_at`` (claim = ``claimed_until`` − the timer lease). One claimed before
  the ack may arrive after the ack was answered (a send already going out is not recalled): it is
  counted and printed, never failed; one claimed after it fails, whenever it arrived;
- held exactly: a held page's first arrival minus the window's end (never early — 50 ms allowed
  for mapping wall-clock times onto the monotonic clock — and at most 1.5 s late); high-urgency
  pages to people in quiet hours must not be held: rule 1 written due at the step's moment like
  any other, and arrived well before the window's end (its lateness is in the figures above).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from bridge_sandbox.emulators.common import Delivery
from bridge_sandbox.world import SANDBOX_CONFIG, World, start_world
from paging_rig import LINK, Check, db_env, figures, page_of, pct, pg_schema, text_of

from bot.dispatch import RetryPolicy
from bot.paging.rules import TIMER_LEASE
from bot.server.runtime import RuntimeOptions

ALICE, INCIDENTS = "U0ALICE001", "C0INCIDENT"
AFTERS = (0.0, 1.0, 2.0)  # each rule's after
SENDER_IDS = {"RULE1": 0, "RULE3": 2}  # TalkNTalk's rules; Kaleyra's WhatsApp is rule index 1
KINDS = ("high", "high-quiet", "low", "low-quiet")
LATE_LIMIT = 1.5  # p99 lateness, a held page's latest start, a high page's latest rule 1
EARLY_SLACK = 0.05  # wall clock onto monotonic: a held rule earlier than this is early
ACK_AFTER = (0.05, 0.15)  # seconds after rule 1 arrived that its link is opened
HELD_ACK_AFTER = 3.0  # seconds after a held page started that /send ack is typed
MIN_HOLD = 20.0  # the quiet windows must end at least this long after the pages start
NOT_HELD = 10.0  # a high page's rule 1 arriving this long before the window's end was not held

TNT2 = """\
  tnt2:
    type: talkntalk
    api_key: ${TALKNTALK_API_KEY}
    base_url: ${TNT_URL}
    timeout_seconds: 5
    rate_per_minute: 600000
"""
RULE_CHANNELS = """\
  sms-r1: {provider: tnt, service: sms, sender_id: RULE1, allowed_senders: [sre],
           allow_adhoc: true}
  wa-r2: {provider: kal, service: whatsapp, from: "+919000000001", allowed_senders: [sre],
          allow_adhoc: true}
  sms-r3: {provider: tnt2, service: sms, sender_id: RULE3, allowed_senders: [sre],
           allow_adhoc: true}
"""
REACH = "[{via: sms-r1}, {via: wa-r2, after: 1s}, {via: sms-r3, after: 2s}]"


@dataclass
class Plan:
    """One page, to one person: its kind, how it is acknowledged (None: never; ``chain``: by
    its link after rule 1, before rule 2; ``held``: ``/send ack`` during the hold; ``woken``: by
    its link after rule 1 at the window's end), and what happened to it (monotonic times)."""

    index: int
    kind: str
    ack: str | None
    page_id: str = ""
    created: float = 0.0
    reached: float = 0.0  # when the step reached the person (judged after the run)
    answered: float | None = None
    ack_ok: bool = False

    @property
    def person(self) -> str:
        return f"p{self.index:03d}"

    @property
    def phone(self) -> str:
        return f"254712{self.index:06d}"  # digits, as the emulators record it

    @property
    def quiet(self) -> bool:
        return self.kind.endswith("quiet")

    @property
    def held(self) -> bool:
        return self.kind == "low-quiet"


def make_plans(n: int) -> list[Plan]:
    plans = []
    for i in range(n):
        kind, turn = KINDS[i % len(KINDS)], i // len(KINDS)
        held_acks: tuple[str | None, ...] = ("held", "woken", None)
        ack = held_acks[turn % 3] if kind == "low-quiet" else ("chain", None)[turn % 2]
        plans.append(Plan(i, kind, ack))
    return plans


def window_end(now: datetime) -> datetime:
    """The next whole minute far enough ahead for start-up and the pages' start."""
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while (end - now).total_seconds() < MIN_HOLD + 10:
        end += timedelta(minutes=1)
    return end


def rules_config(plans: list[Plan], end: datetime) -> str:
    begin = end - timedelta(minutes=10)
    quiet = f'{{from: "{begin:%H:%M}", until: "{end:%H:%M}", timezone: UTC}}'
    people, escalations = ["people:"], ["escalations:"]
    for p in plans:
        held = f", quiet: {quiet}" if p.quiet else ""
        number = f'"+{p.phone}"'
        ways = f"phone: {number}, whatsapp: {number}, reach: {REACH}{held}"
        people.append(f"  {p.person}: {{{ways}}}")
        urgency = "urgency: low, " if p.kind.startswith("low") else ""
        step = f"{{notify: [{p.person}], via: [sms-r1], wait: 10m}}"
        escalations.append(
            f"  r{p.index:03d}: {{{urgency}allowed_senders: [sre], steps: [{step}]}}"
        )
    base = SANDBOX_CONFIG.replace(
        "    timeout_seconds: 2\n", "    timeout_seconds: 5\n    rate_per_minute: 600000\n", 1
    )
    base = base.replace(  # the default cap (10 a sender) would refuse a hundred at once
        "  max_recipients: 50\n",
        "  max_recipients: 50\n  max_active_pages_per_sender: 1000\n",
        1,
    )
    base = base.replace("  ak:\n", TNT2 + "  ak:\n", 1).replace(
        "\nbroadcasts:\n", RULE_CHANNELS + "\nbroadcasts:\n", 1
    )
    return base + "\n".join(people + escalations) + "\n"


@dataclass(frozen=True)
class Arrival:
    rule: int
    recipient: str  # digits
    message_id: str | None
    at: float  # monotonic, as the emulator recorded it
    link: str | None


class Arrivals:
    """Every message the emulators accepted, by (page, rule), read as it comes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_key: dict[tuple[str, int], list[Arrival]] = defaultdict(list)
        self.unread = 0  # accepted, but not a rule of a page (nothing else sends here)
        self._seen = {"talkntalk": 0, "kaleyra": 0}
        self._first: dict[str, asyncio.Event] = {}

    def first_rule(self, page_id: str) -> asyncio.Event:
        """Set once the page's rule 1 arrived."""
        return self._first.setdefault(page_id, asyncio.Event())

    def scan(self) -> None:
        emulators = self.world.emulators
        for name, state in (("talkntalk", emulators.talkntalk), ("kaleyra", emulators.kaleyra)):
            new = state.deliveries[self._seen[name] :]
            self._seen[name] += len(new)
            for delivery in new:
                self._add(name, delivery)

    def _add(self, emulator: str, delivery: Delivery) -> None:
        page_id = page_of(delivery.payload)
        if emulator == "kaleyra":
            rule: int | None = 1
        else:
            body = delivery.payload
            rule = SENDER_IDS.get(str(body.get("sender_id") if isinstance(body, dict) else None))
        if page_id is None or rule is None:
            self.unread += 1
            return
        link = LINK.search(text_of(delivery.payload)) if rule == 0 else None
        arrival = Arrival(
            rule,
            delivery.recipient.lstrip("+"),
            delivery.message_id,
            delivery.at,
            link.group(0) if link else None,
        )
        self.by_key[(page_id, rule)].append(arrival)
        if rule == 0:
            self.first_rule(page_id).set()

    async def run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.005)


async def ack_by_link(http: aiohttp.ClientSession, arrivals: Arrivals, plan: Plan) -> None:
    """Once the page's rule 1 arrived: open its link a moment later (before rule 2 is due)."""
    await asyncio.wait_for(arrivals.first_rule(plan.page_id).wait(), timeout=120)
    first = arrivals.by_key[(plan.page_id, 0)][0]
    await asyncio.sleep(random.uniform(*ACK_AFTER))
    if first.link is None:
        print(f"  {plan.page_id}: its first SMS carries no acknowledge link")
        return
    async with http.post(first.link) as answer:
        body = await answer.text()
    plan.answered = time.monotonic()
    plan.ack_ok = "is acknowledged" in body
    if not plan.ack_ok:
        print(f"  {plan.page_id}: the link answered {answer.status}: {body[-200:]}")


async def ack_in_slack(world: World, plan: Plan) -> None:
    """``/send ack`` by the page's sender during the hold (nobody has a link yet)."""
    await asyncio.sleep(max(0.0, plan.created + HELD_ACK_AFTER - time.monotonic()))
    status, _ = await world.user(ALICE, INCIDENTS).slash("/send", f"ack {plan.page_id}")
    deadline = time.monotonic() + 15
    while status == 200 and time.monotonic() < deadline:
        page = await world.runtime.store.get_page(plan.page_id)
        if page is not None and page.state == "acknowledged":
            plan.answered, plan.ack_ok = time.monotonic(), True
            return
        await asyncio.sleep(0.02)
    print(f"  {plan.page_id}: /send ack answered {status}, page not acknowledged")


async def page_and_ack(
    world: World, http: aiohttp.ClientSession, arrivals: Arrivals, plan: Plan, offset: float
) -> None:
    page = await world.runtime.paging.start(
        f"r{plan.index:03d}", f"rules bench {plan.index}", ALICE, INCIDENTS
    )
    plan.page_id, plan.created = page.page_id, page.created_at.timestamp() - offset
    if plan.ack == "held":
        await ack_in_slack(world, plan)
    elif plan.ack is not None:
        await ack_by_link(http, arrivals, plan)


@dataclass
class Tally:
    late: list[float]
    by_rule: dict[int, list[float]]
    held_start: list[float]
    high_quiet_start: list[float]
    step_ran: list[float]  # the page recorded → its step ran (the start burst)
    doubled: int = 0
    missing: int = 0
    after_ack: int = 0
    in_flight: int = 0
    not_acked: int = 0
    wrong_due: int = 0  # a rule's written due time is not its step's moment plus its after


def reached_at(plan: Plan, written: dict[int, float], end: float, tally: Tally) -> float:
    """When the step reached the plan's person (monotonic), and whether the engine wrote each
    rule's due time as that moment plus the rule's after (off by more than 1 ms: counted)."""
    reached = end if plan.held else written.get(0, plan.created)
    if not plan.held:
        tally.step_ran.append(reached - plan.created)
    for rule, after in enumerate(AFTERS):
        due = written.get(rule)
        if due is None or abs(due - (reached + after)) > 0.001:
            tally.wrong_due += 1
            print(f"  {plan.page_id} rule {rule + 1}: due {due}, not {reached + after} (monotonic)")
    return reached


async def judge(
    world: World, plans: list[Plan], arrivals: Arrivals, end: float, offset: float
) -> Tally:
    store = world.runtime.store
    tally = Tally([], defaultdict(list), [], [], [])
    for plan in plans:
        page = await store.get_page(plan.page_id)
        acked_at = page.acknowledged_at if page is not None else None
        if plan.ack is not None and (not plan.ack_ok or acked_at is None):
            tally.not_acked += 1
        expected = {0, 1, 2} if plan.ack is None else {0} if plan.ack != "held" else set()
        timers = await store.page_timers(plan.page_id)
        written = {t.rule: t.due_at.timestamp() - offset for t in timers}
        reached = reached_at(plan, written, end, tally)
        plan.reached = reached
        claims = {t.rule: t.claimed_until - TIMER_LEASE for t in timers if t.claimed_until}
        for rule, after in enumerate(AFTERS):
            got = arrivals.by_key.get((plan.page_id, rule), [])
            if len(got) > 1 or any(a.recipient != plan.phone for a in got):
                tally.doubled += 1
                print(f"  {plan.page_id} rule {rule + 1}: {[a.recipient for a in got]}")
            if rule in expected:
                if not got:
                    tally.missing += 1
                    print(f"  {plan.page_id} ({plan.kind}) rule {rule + 1}: never arrived")
                    continue
                late = got[0].at - (reached + after)
                tally.late.append(late)
                tally.by_rule[rule].append(late)
                if rule == 0 and plan.held:
                    tally.held_start.append(late)
                elif rule == 0 and plan.kind == "high-quiet":
                    tally.high_quiet_start.append(end - got[0].at)
                if rule == 0 and not plan.held and got[0].at < reached:
                    tally.wrong_due += 1  # the written moment is after rule 1 already arrived
            elif got:
                claimed = claims.get(rule)
                if acked_at is not None and claimed is not None and claimed < acked_at:
                    tally.in_flight += 1  # claimed before the ack: going out, not recalled
                else:
                    tally.after_ack += 1
                    print(
                        f"  {plan.page_id} ({plan.kind}, ack {plan.ack}) rule {rule + 1}: "
                        f"claimed {claimed}, acknowledged {acked_at}"
                    )
    return tally


async def run_rules(kind: str, n: int) -> list[Check] | None:
    """The rules part on one store; None when that store is not reachable."""
    schema = await pg_schema() if kind == "postgresql" else None
    if kind == "postgresql" and schema is None:
        return None
    plans = make_plans(n)
    end_at = window_end(datetime.now(UTC))
    options = RuntimeOptions(retry=replace(RetryPolicy(), base_delay=0.05), report_interval=0.2)
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as workdir:
        world = await start_world(
            Path(workdir),
            rules_config(plans, end_at),
            options=options,
            usergroups={},
            extra_env=db_env(schema),
            own_public_url=True,
        )
        arrivals = Arrivals(world)
        reading = asyncio.create_task(arrivals.run())
        try:
            offset = time.time() - time.monotonic()
            end = end_at.timestamp() - offset
            hold = end - time.monotonic()
            print(
                f"{kind}: {n} pages at once, rules after {AFTERS} s, quiet windows end at "
                f"{end_at:%H:%M:%S} UTC ({hold:.0f} s from now), scheduler tick 1 s"
            )
            timeout = aiohttp.ClientTimeout(total=30)
            async with aiohttp.ClientSession(timeout=timeout) as http:
                await asyncio.gather(
                    *(page_and_ack(world, http, arrivals, p, offset) for p in plans)
                )
            await asyncio.sleep(max(0.0, end + AFTERS[-1] + 4 - time.monotonic()))
            await world.idle()
            await world.runtime.paging.wait_idle()
            arrivals.scan()
            tally = await judge(world, plans, arrivals, end, offset)
            late_acks = sum(
                1
                for p in plans
                if p.answered is not None
                and p.ack in ("chain", "woken")
                and p.answered > p.reached + AFTERS[1]
            )
        finally:
            reading.cancel()
            await world.close()
            if schema:
                await pg_schema(drop=schema)
    return report(kind, n, plans, tally, hold, late_acks, arrivals.unread)


def report(
    kind: str,
    n: int,
    plans: list[Plan],
    tally: Tally,
    hold: float,
    late_acks: int,
    unread: int,
) -> list[Check]:
    for rule, after in enumerate(AFTERS):
        print(f"  rule {rule + 1} (after {after:g} s) lateness  {figures(tally.by_rule[rule])}")
    print(f"  all rules lateness          {figures(tally.late)}")
    print(f"  page recorded → step ran    {figures(tally.step_ran)}  (the start burst)")
    print(f"  held: first − window end    {figures(tally.held_start)}")
    print(f"  high to quiet: end − rule 1 {figures(tally.high_quiet_start)}")
    acked = sum(1 for p in plans if p.ack is not None)
    print(f"  acknowledged {acked} pages; answered after rule 2 was due: {late_acks}")
    print(f"  sends claimed before an ack, arriving after it (not recalled): {tally.in_flight}")
    print(f"  messages not read as a page's rule: {unread}")
    p99 = pct(tally.late, 0.99)
    held = tally.held_start
    never_early = min(held, default=0.0) >= -EARLY_SLACK
    held_ok = bool(held) and never_early and max(held) <= LATE_LIMIT
    high = tally.high_quiet_start  # how long before the window's end rule 1 arrived
    high_ok = bool(high) and min(high) >= NOT_HELD
    checks: list[Check] = [
        (f"quiet windows end {hold:.0f} s after the pages start (≥ {MIN_HOLD:g} s)", hold >= 20),
        (f"rule lateness p99 {p99:.2f} s ≤ {LATE_LIMIT:g} s", bool(tally.late) and p99 <= 1.5),
        (f"every due rule of {n} pages arrived ({tally.missing} missing)", tally.missing == 0),
        (
            f"every rule due its after past the step's moment ({tally.wrong_due} not)",
            tally.wrong_due == 0,
        ),
        (f"no (page, person, rule) twice ({tally.doubled})", tally.doubled == 0),
        (f"0 messages claimed after an ack ({tally.after_ack})", tally.after_ack == 0),
        (f"all {acked} acks answered and recorded ({tally.not_acked} not)", tally.not_acked == 0),
        (
            f"low pages held until the window's end: first − end "
            f"{min(held, default=0):+.2f}…{max(held, default=0):+.2f} s "
            f"(never early, ≤ {LATE_LIMIT:g} s late)",
            held_ok,
        ),
        (
            f"high pages never held: rule 1 to a quiet person due at the step's moment and "
            f"arrived ≥ {min(high, default=0):.0f} s before the window's end (≥ {NOT_HELD:g} s)",
            high_ok and tally.wrong_due == 0,
        ),
    ]
    return [(f"{kind} rules: {what}", ok) for what, ok in checks]
