"""Paging figures: how late a step fires after its ``wait``, and how fast an ack stops a page.

Why: an escalation is only as good as its timers. On the real clock with the scheduler's real
tick (1 s), 100 pages run at once through an escalation of 1 s, 2 s and 1 s waits; the lateness
of each move (step 2, step 3, the end) is when it was sent (recorded by the engine) minus the
previous step's send plus its wait (an upper bound: the timer starts just after that send).
Then 100 more pages are acknowledged by POSTing their SMS link at random moments across the
waits: ack to the state being acknowledged (the POST's answer), ack to the Slack root message
saying so, and no step claimed after the ack (a step already going out is not recalled: it is
counted, not failed). Then the contact-rules part (``bench/paging_rules.py``): 100 pages to
people with three rules each, some in quiet hours, some low urgency, some acknowledged. On
SQLite, then PostgreSQL when reachable (a fresh schema, dropped after).

    .venv/bin/python bench/paging.py [--pages 100] [--stores sqlite,postgresql]
                                     [--parts steps,rules]

Exit status 1 if a step is doubled or dropped, a step is claimed after an ack, or p99 lateness
is over 3 s (one tick late is the design; the rest is a loaded two-CPU box's slack); or, in the
rules part, a rule's p99 lateness is over 1.5 s, a rule is doubled or missing, a message was
claimed after an ack, or a quiet hold was not exact.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bridge_sandbox.world import SANDBOX_CONFIG, World, start_world
from paging_rig import LINK, Check, db_env, figures, pct, pg_schema  # beside this script
from paging_rules import run_rules

from bot.dispatch import RetryPolicy
from bot.server.runtime import RuntimeOptions

ALICE, INCIDENTS = "U0ALICE001", "C0INCIDENT"
WAITS = (1.0, 2.0, 1.0)
PHONES = ("254711000001", "254711000002", "254711000003")  # as the emulator records them
P99_LATE_LIMIT = 3.0

# The page caps (10 a sender, 50 an escalation by default) would refuse a hundred at once.
CAPS = "  max_active_pages_per_sender: 1000\n  max_active_pages_per_escalation: 1000\n"
CONFIG = (
    SANDBOX_CONFIG.replace(
        "    timeout_seconds: 2\n", "    timeout_seconds: 5\n    rate_per_minute: 600000\n", 1
    ).replace("  max_recipients: 50\n", "  max_recipients: 50\n" + CAPS, 1)
    + f"""
people:
  p1: {{phone: "+{PHONES[0]}"}}
  p2: {{phone: "+{PHONES[1]}"}}
  p3: {{phone: "+{PHONES[2]}"}}
escalations:
  bench:
    allowed_senders: [sre]
    steps:
      - {{notify: [p1], via: [sms-adhoc], wait: {WAITS[0]:g}s}}
      - {{notify: [p2], via: [sms-adhoc], wait: {WAITS[1]:g}s}}
      - {{notify: [p3], via: [sms-adhoc], wait: {WAITS[2]:g}s}}
"""
)


async def start_pages(world: World, n: int, label: str) -> list[str]:
    pages = await asyncio.gather(
        *(world.runtime.paging.start("bench", f"{label} {i}", ALICE, INCIDENTS) for i in range(n))
    )
    return [p.page_id for p in pages]


async def settle(world: World, page_ids: list[str], deadline: float) -> None:
    """Until every page is over (ended or acknowledged), or the deadline."""
    store = world.runtime.store
    while time.monotonic() < deadline:
        pages = [await store.get_page(p) for p in page_ids]
        if all(p is not None and p.state != "active" for p in pages):
            break
        await asyncio.sleep(0.2)
    await world.idle()
    await world.runtime.paging.wait_idle()


def deliveries(world: World) -> Counter[tuple[str, str]]:
    """(page id, phone) → SMS the emulator accepted."""
    out: Counter[tuple[str, str]] = Counter()
    for d in world.emulators.talkntalk.deliveries:
        text = str(d.payload.get("message", "")) if isinstance(d.payload, dict) else ""
        found = re.search(r"\bP[0-9A-Z]{8}\b", text)
        if found:
            out[(found.group(0), d.recipient)] += 1
    return out


async def lateness(world: World, n: int) -> list[Check]:
    """Every page runs all three steps and ends; each move's lateness after its wait."""
    page_ids = await start_pages(world, n, "late")
    await settle(world, page_ids, time.monotonic() + sum(WAITS) + 60)
    store, late, broken = world.runtime.store, [], 0
    got = deliveries(world)
    for page_id in page_ids:
        sends = sorted(await store.page_sends(page_id), key=lambda s: s.step)
        events = {e.event_key: e.at for e in await store.page_events(page_id)}
        page = await store.get_page(page_id)
        counts = [got[(page_id, phone)] for phone in PHONES]
        if [s.step for s in sends] != [0, 1, 2] or counts != [1, 1, 1] or "ended" not in events:
            broken += 1
            print(f"  {page_id}: steps {[s.step for s in sends]}, SMS {counts}, {page}")
            continue
        marks = [s.sent_at for s in sends] + [events["ended"]]
        late += [
            (marks[i + 1] - marks[i] - timedelta(seconds=WAITS[i])).total_seconds()
            for i in range(3)
        ]
    print(f"  lateness after wait  {figures(late)}")
    print(f"  pages with a step doubled or dropped, or not ended: {broken}")
    return [
        (f"every step of {n} pages sent once, every page ended", broken == 0),
        (f"p99 lateness {pct(late, 0.99):.2f} s ≤ {P99_LATE_LIMIT:g} s", pct(late, 0.99) <= 3),
    ]


async def acks(world: World, n: int) -> list[Check]:
    """Ack each page by its link at a random moment; time to acknowledged and to Slack."""
    begun = time.monotonic()  # the moments are counted from here: every page ends 4 s after
    page_ids = await start_pages(world, n, "ack")
    store = world.runtime.store
    links: dict[str, str] = {}
    # Step 1's SMS goes out in the background after ``start`` returns: wait for every link.
    deadline = time.monotonic() + 30
    while len(links) < len(page_ids) and time.monotonic() < deadline:
        for d in world.emulators.talkntalk.deliveries:
            text = str(d.payload.get("message", "")) if isinstance(d.payload, dict) else ""
            found = re.search(r"\bP[0-9A-Z]{8}\b", text)
            if found and found.group(0) in page_ids and (link := LINK.search(text)):
                links[found.group(0)] = link.group(0)
        await asyncio.sleep(0.01)
    if len(links) < len(page_ids):
        print(f"  {len(page_ids) - len(links)} pages sent no SMS with a link within 30 s")
    to_state: list[float] = []
    to_slack: list[float] = []

    async def ack(http: aiohttp.ClientSession, page_id: str) -> None:
        # Before the last step's wait runs out (counted from the pages' start, not from when
        # the links were read: a page on time would otherwise end before a late ack).
        moment = begun + random.uniform(0.2, sum(WAITS[:2]) + 0.5)
        await asyncio.sleep(max(0.0, moment - time.monotonic()))
        started = time.monotonic()
        async with http.post(links[page_id]) as answer:
            body = await answer.text()
        to_state.append(time.monotonic() - started)
        if "is acknowledged" not in body:
            print(f"  {page_id}: the link answered {answer.status}: {body[-200:]}")
            return
        page = await store.get_page(page_id)
        assert page is not None
        assert page.root_ts is not None
        root_ts = page.root_ts
        while time.monotonic() - started < 30:
            root = next(m for m in world.slack.state.messages[INCIDENTS] if m.ts == root_ts)
            if "Acknowledged" in repr(root.blocks):
                to_slack.append(time.monotonic() - started)
                return
            await asyncio.sleep(0.005)

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        await asyncio.gather(*(ack(http, p) for p in page_ids if p in links))
    await asyncio.sleep(max(WAITS) + 2)  # long enough for any step that should not run
    await settle(world, page_ids, time.monotonic() + 30)
    after_ack = in_flight = 0
    for page_id in page_ids:
        page = await store.get_page(page_id)
        assert page is not None
        if page.state != "acknowledged" or page.acknowledged_at is None:
            after_ack += 1
            continue
        sends = await store.page_sends(page_id)
        started_steps = {s.step for s in sends}
        # page.step: the last step whose timer was set before the ack; one more may be going out
        in_flight += any(s.step == page.step + 1 for s in sends)
        events = await store.page_events(page_id)
        late_claims = [
            e
            for e in events
            if (e.event_key.startswith("escalated") or e.event_key == "ended")
            and e.at > page.acknowledged_at + timedelta(seconds=0.5)
        ]
        if max(started_steps) > page.step + 1 or late_claims:
            after_ack += 1
    print(f"  ack → acknowledged    {figures(to_state)}")
    print(f"  ack → root says so    {figures(to_slack)}")
    print(f"  steps already going out at the ack (sent, not recalled): {in_flight}")
    print(f"  pages with a step claimed after the ack, or not acknowledged: {after_ack}")
    return [
        (f"all {n} pages acknowledged, shown in Slack", len(to_slack) == n),
        ("no step claimed after an ack", after_ack == 0),
    ]


async def run_store(kind: str, n: int) -> list[Check] | None:
    schema = await pg_schema() if kind == "postgresql" else None
    if kind == "postgresql" and schema is None:
        return None
    options = RuntimeOptions(retry=replace(RetryPolicy(), base_delay=0.05), report_interval=0.2)
    with tempfile.TemporaryDirectory(prefix="bench-paging-") as workdir:
        world = await start_world(
            Path(workdir),
            CONFIG,
            options=options,
            usergroups={},
            extra_env=db_env(schema),
            own_public_url=True,
        )
        try:
            print(f"{kind}: {n} pages at once, waits {WAITS} s, scheduler tick 1 s")
            checks = await lateness(world, n)
            print(f"{kind}: {n} pages acknowledged by link at random moments")
            checks += await acks(world, n)
        finally:
            await world.close()
            if schema:
                await pg_schema(drop=schema)
    return [(f"{kind}: {what}", ok) for what, ok in checks]


async def main(stores: list[str], n: int, parts: list[str]) -> int:
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name})")  # figures are per Python
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    checks: list[Check] = []
    for kind in stores:
        if "steps" in parts:
            checks += await run_store(kind, n) or []
        if "rules" in parts:
            checks += await run_rules(kind, n) or []
    print(f"load average {os.getloadavg()[0]:.1f} after")
    print()
    for what, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {what}")
    return 0 if checks and all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--parts", default="steps,rules", help="steps (and acks), rules")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.stores.split(","), args.pages, args.parts.split(","))))
