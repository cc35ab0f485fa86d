"""Alerts from monitoring under load: how fast a page starts, and a storm with nothing lost.

Why: an alert's page must leave at once, not at a tick, and a storm of notifications (repeats,
resolves, retries) must give exactly one page per firing group and lose nothing answered 202,
on either store and across replicas, one of them killed (issue 17, "Numbers"). Real
``python -m bot serve`` processes (``bench/alerts_rig.py``), a TalkNTalk emulator at 50 ms and
the sandbox Slack in this process; loopback only. Exits 1 on a missed target.

    BRIDGE_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/alerts.py [--stores sqlite,postgresql] [--parts a,b,c]
        [--seconds 60] [--groups 200] [--notifications 20000] [--latency-seconds 30]

(a) 20 new groups a second for 30 s, each paging one person by SMS: alert arrival -> the
emulator's first request, p50 <= 150 ms, p99 <= 500 ms. (b) 20,000 notifications in 60 s over
200 groups, half critical (paging), half warning (Slack only), a quarter resolved half-way
and firing again: exactly the pages and ends that gives, 0 x 5xx, answer p99 <= 100 ms, every
notification recorded. (c) The same storm round-robin over three replicas on PostgreSQL, one
SIGKILLed half-way (the client sends what got no answer to the next, as Alertmanager does): one
page per firing group, nothing answered 202 lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from alerts_rig import (  # beside this script (on sys.path when it runs)
    Answers,
    Poster,
    Reader,
    Record,
    bridges,
    machine,
    notification,
    percentile,
)

from tests.bot.replica_kit import ReplicaRig

URL_ENV = "BRIDGE_BENCH_POSTGRES_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
SETTLE = 180.0  # seconds to wait for pages and ends to land after the load: only a hang
Check = tuple[str, str, bool]


async def latency(store: str, url: str, seconds: int, rate: int) -> list[Check]:
    """(a) New groups at ``rate`` a second: arrival -> first provider request."""
    total = seconds * rate
    sent: dict[int, float] = {}
    answers = Answers()
    with tempfile.TemporaryDirectory() as tmp:
        async with bridges(Path(tmp), store, url, 1) as (rig, urls, _):
            poster = Poster()
            try:
                start = time.monotonic() + 0.5

                async def one(i: int) -> None:
                    await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                    body = notification(f"lat{i:05d}", "firing", "critical", f"bench lat{i:05d}")
                    sent[i] = time.monotonic()
                    await poster.post(urls[0], body, answers)

                await asyncio.gather(*(one(i) for i in range(total)))
                first: dict[int, float] = {}
                deadline = time.monotonic() + SETTLE
                while len(first) < total and time.monotonic() < deadline:
                    await asyncio.sleep(0.2)
                    for request in rig.tnt.requests:
                        if hit := re.search(rb"lat(\d{5})", request.raw):
                            i = int(hit.group(1))
                            first[i] = min(first.get(i, request.at), request.at)
            finally:
                await poster.close()
    waits = [first[i] - sent[i] for i in first]
    p50, p99 = percentile(waits, 0.50), percentile(waits, 0.99)
    print(
        f"  (a) {store}: {total} new groups at {rate}/s; answers {answers.statuses}; "
        f"arrival -> first SMS request p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {max(waits, default=0) * 1000:.0f} ms"
    )
    return [
        (f"(a) {store} every group answered 202", str(answers.statuses),
         answers.statuses == {202: total}),
        (f"(a) {store} pages that reached the emulator", f"{len(first)}/{total}",
         len(first) == total),
        (f"(a) {store} arrival -> first request p50", f"{p50 * 1000:.0f} ms", p50 <= 0.150),
        (f"(a) {store} arrival -> first request p99", f"{p99 * 1000:.0f} ms", p99 <= 0.500),
    ]  # fmt: skip


@dataclass(frozen=True)
class Plan:
    """Who sends what: per group, its severity and the statuses it sends in order."""

    groups: int
    per_group: int

    def severity(self, g: int) -> str:
        return "critical" if g % 2 == 0 else "warning"

    def statuses(self, g: int) -> list[str]:
        n = self.per_group
        if g % 4 in (0, 1):  # resolved half-way, fires again (a new page), resolved at the end
            half = n // 2
            return ["firing"] * half + ["resolved"] + ["firing"] * (n - half - 2) + ["resolved"]
        return ["firing"] * n

    def episodes(self, g: int) -> int:
        return 2 if g % 4 in (0, 1) else 1

    @property
    def pages(self) -> int:
        return sum(self.episodes(g) for g in range(0, self.groups, 2))

    @property
    def ends(self) -> int:
        return sum(self.statuses(g).count("resolved") for g in range(0, self.groups, 2))


def group_of(key: str) -> int:
    hit = re.search(r'alertname="storm(\d+)"', key)
    return int(hit.group(1)) if hit else -1


async def storm(
    store: str, url: str, plan: Plan, seconds: int, replicas: int, limit: int | None = None
) -> list[Check]:
    """(b) one replica, or (c) ``replicas`` round-robin with one SIGKILLed half-way.
    ``limit``: a storm limit of that many pages an hour (past it, groups join a storm page)."""
    total = plan.groups * plan.per_group
    rate = total / seconds
    answers = Answers()
    ok: Counter[tuple[int, str]] = Counter()  # (group, status) answered 202
    tries: Counter[str] = Counter()  # status -> requests sent, retries included
    unanswered = 0
    name = f"(c) {replicas} replicas" if replicas > 1 else f"(b) {store}"
    if limit is not None:
        name += f" storm limit {limit}"
    with tempfile.TemporaryDirectory() as tmp:
        async with bridges(Path(tmp), store, url, replicas, limit) as (rig, urls, read):
            poster = Poster()
            dead: set[str] = set()
            try:
                start = time.monotonic() + 0.5

                async def group(g: int) -> None:
                    nonlocal unanswered
                    statuses = plan.statuses(g)
                    for k, status in enumerate(statuses):
                        i = k * plan.groups + g
                        kind = (
                            "resolve"
                            if status == "resolved"
                            else "first"
                            if k == 0 or statuses[k - 1] == "resolved"
                            else "repeat"
                        )
                        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                        body = notification(f"storm{g:04d}", status, plan.severity(g), f"g{g}")
                        for attempt in range(3 * len(urls)):  # as Alertmanager retries
                            target = urls[(i + attempt) % len(urls)]
                            if target in dead:
                                continue
                            tries[status] += 1
                            answer = await poster.post(target, body, answers, kind)
                            if answer == 202:
                                ok[g, status] += 1
                                break
                            if answer is None and replicas > 1:
                                dead.add(target)  # a real source backs off; this one moves on
                            await asyncio.sleep(0.1)
                        else:
                            unanswered += 1

                async def kill_half_way() -> None:
                    await asyncio.sleep(max(0.0, start + seconds / 2 - time.monotonic()))
                    await rig.replicas[1].process.kill()

                killer = [kill_half_way()] if replicas > 1 else []
                await asyncio.gather(*(group(g) for g in range(plan.groups)), *killer)
                took = time.monotonic() - start
                print(f"  {name}: the storm took {took:.1f} s ({total / took:.0f}/s)")
                record = await settle(read, plan, rig, limit)
                sms = Counter(
                    hit.group(0).decode()
                    for r in rig.tnt.requests
                    if (hit := re.search(rb"P[0-9A-Z]{8}", r.raw))
                )
            finally:
                await poster.close()
    checks = judge(name, plan, record, answers, ok, tries, unanswered, sms, replicas == 1, limit)
    return checks


async def settle(read: Reader, plan: Plan, rig: ReplicaRig, limit: int | None) -> Record:
    """Read the record until the expected pages and ends are there (or the deadline); under a
    storm limit, until every paging group has its page and every page its SMS."""
    deadline = time.monotonic() + SETTLE
    while True:
        record = await read()
        ended = sum(1 for p in record.pages if p["state"] == "ended")
        sent = len(rig.tnt.requests)
        if limit is None:
            done = len(record.pages) >= plan.pages and ended >= plan.ends and sent >= plan.pages
        else:
            paging = [r for r in record.groups if group_of(str(r["group_key"])) % 2 == 0]
            done = all(r["page_id"] for r in paging) and sent >= len(record.pages) > 0
            done = done and len(paging) == plan.pages
        if done or time.monotonic() >= deadline:
            return record
        await asyncio.sleep(0.5)


def judge(
    name: str,
    plan: Plan,
    record: Record,
    answers: Answers,
    ok: Counter[tuple[int, str]],
    tries: Counter[str],
    unanswered: int,
    sms: Counter[str],
    strict: bool,
    limit: int | None = None,
) -> list[Check]:
    total = plan.groups * plan.per_group
    rows = [r for r in record.groups if group_of(str(r["group_key"])) >= 0]
    paged = [r for r in rows if r["page_id"] is not None]
    ended = sum(1 for p in record.pages if p["state"] == "ended")
    lost = []
    for g in range(plan.groups):
        mine = [r for r in rows if group_of(str(r["group_key"])) == g]
        recorded = sum(int(r["count"]) for r in mine)
        resolved = sum(1 for r in mine if r["state"] == "resolved")
        if recorded < ok[g, "firing"] or resolved < ok[g, "resolved"]:
            lost.append(g)
    p99 = percentile(answers.seconds, 0.99)
    no_sms = [p["page_id"] for p in record.pages if sms[p["page_id"]] == 0]
    doubled = sum(1 for n in sms.values() if n > 1)
    expected = f"{limit} + 1 storm page" if limit else str(plan.pages)
    print(
        f"  {name}: {total} notifications over {plan.groups} groups; answers "
        f"{answers.statuses}, no answer {answers.failed}; answer p50 "
        f"{percentile(answers.seconds, 0.5) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
        f"groups {len(rows)}, pages {len(record.pages)} (expected {expected}), ended {ended}"
        f"{'' if limit else f' (expected {plan.ends})'}; SMS requests {sum(sms.values())}, "
        f"pages with 2+ {doubled}"
    )
    tail(answers)
    if limit is None:
        checks: list[Check] = [
            (f"{name} pages (one per firing group)", f"{len(record.pages)}/{plan.pages}",
             len(record.pages) == plan.pages and len({r["page_id"] for r in paged}) == plan.pages),
            (f"{name} pages ended by resolves", f"{ended}/{plan.ends}", ended == plan.ends),
        ]  # fmt: skip
    else:  # the first ``limit`` paging groups page alone, every later one joins one storm page
        own = sum(1 for p in record.pages if str(p["idempotency_key"]).startswith("alert:"))
        storms = sum(1 for p in record.pages if str(p["idempotency_key"]).startswith("storm:"))
        critical = [r for r in rows if group_of(str(r["group_key"])) % 2 == 0]
        checks = [
            (f"{name} pages of their own", f"{own}/{limit}", own == limit),
            (f"{name} storm pages", f"{storms}/1", storms == 1),
            (f"{name} paging groups with a page", f"{sum(1 for r in critical if r['page_id'])}/"
             f"{plan.pages}", len(critical) == plan.pages and all(r["page_id"] for r in critical)),
            (f"{name} SMS requests", f"{sum(sms.values())}/{len(record.pages)}",
             sum(sms.values()) == len(record.pages)),
        ]  # fmt: skip
    checks += [
        (f"{name} groups recorded", f"{len(rows)}/{sum(map(plan.episodes, range(plan.groups)))}",
         len(rows) == sum(map(plan.episodes, range(plan.groups)))),
        (f"{name} groups with a 202'd notification lost", str(len(lost)), not lost),
        (f"{name} notifications never answered 202", str(unanswered), unanswered == 0),
        (f"{name} pages without an SMS", str(len(no_sms)), not no_sms),
    ]  # fmt: skip
    if strict:  # one process, never killed: every first answer is 202, fast, counted exactly
        # Each firing notification counted once; one the client timed out on and sent again
        # may be counted twice (a duplicate delivery), never more than it was sent.
        recorded = sum(int(r["count"]) for r in rows)
        firing = sum(plan.statuses(g).count("firing") for g in range(plan.groups))
        counted = firing <= recorded <= tries["firing"]
        checks += [
            (f"{name} 5xx answers", str(answers.server_errors), answers.server_errors == 0),
            (f"{name} answer p99", f"{p99 * 1000:.0f} ms", p99 <= 0.100),
            (f"{name} firing notifications counted", f"{recorded}/{firing}", counted),
        ]  # fmt: skip
        if limit is None:
            checks.append((f"{name} SMS requests", f"{sum(sms.values())}/{plan.pages}",
                           sum(sms.values()) == plan.pages))  # fmt: skip
    return checks


def tail(answers: Answers) -> None:
    """Where the slow answers were: p99 by kind, and the seconds of the storm with most."""
    kinds = ", ".join(
        f"{kind} p99 {percentile(seconds, 0.99) * 1000:.0f} ms ({len(seconds)})"
        for kind, seconds in sorted(answers.by_kind.items())
    )
    print(f"    answers by kind: {kinds}")
    if not answers.sent_at:
        return
    first = min(answers.sent_at)
    slow = Counter(
        int(at - first) for at, s in zip(answers.sent_at, answers.seconds, strict=True) if s > 0.1
    )
    worst = ", ".join(f"{second} s: {n}" for second, n in slow.most_common(6))
    print(f"    answers over 100 ms: {sum(slow.values())}; most in second {worst or '-'}")


async def main(args: argparse.Namespace) -> int:
    url = os.environ.get(URL_ENV, DEFAULT_URL)
    stores = [s for s in args.stores.split(",") if s]
    parts = set(args.parts.split(","))
    plan = Plan(args.groups, max(4, args.notifications // args.groups))
    print(machine())
    checks: list[Check] = []
    for store in stores:
        if "a" in parts:
            checks += await latency(store, url, args.latency_seconds, args.rate)
        if "b" in parts:
            checks += await storm(store, url, plan, args.seconds, 1, args.storm_limit)
    if "c" in parts and "postgresql" in stores:
        checks += await storm("postgresql", url, plan, args.seconds, 3)
    print(machine())
    print()
    for metric, value, passed in checks:
        print(f"{metric:<58} {value:>14}  {'PASS' if passed else 'FAIL'}")
    return 0 if all(passed for *_, passed in checks) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Alerts from monitoring under load.")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--parts", default="a,b,c", help="a: latency, b: storm, c: replicas")
    parser.add_argument("--latency-seconds", type=int, default=30)
    parser.add_argument("--rate", type=int, default=20, help="(a) new groups a second")
    parser.add_argument("--seconds", type=int, default=60, help="(b, c) the storm's length")
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--notifications", type=int, default=20000)
    parser.add_argument(
        "--storm-limit",
        type=int,
        default=None,
        help="(b) under storm: {max_pages: N, per: 1h}: N groups page alone, then one storm page",
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
