"""Slack ack latency: the whole bridge against a bare bolt app that only calls ``await ack()``.

Why: Slack must see every ack within 3 s, and the bridge sends after the ack, so its sends must
not slow the acks of the commands that follow. Against a bare ``AsyncApp`` served the same way
(same aiohttp adapter, signing secret and signed bodies, one signature check in each: bolt's in
the bare app, the bridge's own in front of bolt) the ratio shows what the bridge adds.
    .venv/bin/python bench/ack.py [--rounds 3] [--concurrency 20]

Two bare apps: ``bare`` in bolt's default mode (the listener in a task, the answer at the
runner's next 10 ms poll: what a typical bolt app gets, and what the bridge is judged against)
and ``bare-pbr`` with ``process_before_response=True`` as the bridge runs (answered when the
listener returns: the floor of that mode, its ratio printed but not judged).

One process, one event loop: ``start_world`` (sandbox Slack, emulators, store, the bridge's
server), the bare apps' servers and the client. Runs alternate bare, bare-pbr, bridge, bare, …;
after a bridge run every reply, SMS and report is awaited, so no run carries another's work.
Latency is from the request going out to the response read; p50/p99 by nearest rank; the summary
is the best of the rounds (lowest p50, p99 and max of each app, taken independently).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bridge_sandbox.emulators.common import RunningServer, serve
from bridge_sandbox.slack import payloads
from bridge_sandbox.slack.signing import sign
from bridge_sandbox.world import SIGNING_SECRET, World, start_world
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

ALICE, INCIDENTS, COMMAND = "U0ALICE001", "C0INCIDENT", "/send"
ONCALL = ("254712345678", "254798765432")  # what the TalkNTalk emulator sees as `mobile`
P99_TARGET_MS, RATIO_TARGET = 100.0, 1.15
Check = tuple[str, str, bool]  # what was measured, the target, met

CONFIG = """\
defaults: {country: KE, confirm_over: 10, max_recipients: 50}
providers:
  tnt:
    type: talkntalk
    api_key: ${TALKNTALK_API_KEY}
    base_url: ${TNT_URL}
    rate_per_minute: 600000   # pacing is bench/dispatch.py's business, not this one's
    timeout_seconds: 5
contacts:
  oncall: ["+254712345678", "0798 765 432"]
senders:
  sre: [U0ALICE001, usergroup:S0SRE1234]
channels:
  oncall-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    to: [oncall]
    allowed_senders: [sre]
    slack_channels: [C0INCIDENT]
"""


@dataclass
class Sample:
    kind: str  # "send" or "other"
    status: int
    ms: float


@dataclass
class Stats:
    n: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Stats:
        ms = sorted(s.ms for s in samples)

        def rank(q: float) -> float:  # nearest rank: a latency that was actually measured
            return ms[max(0, math.ceil(q * len(ms)) - 1)]

        return cls(len(ms), rank(0.50), rank(0.99), ms[-1])


@dataclass
class Command:
    body: bytes
    kind: str  # "send" or "other"
    tag: str | None  # a send's unique text marker, to find its SMS at the emulator


def commands(world: World, n: int, tag: str, rng: random.Random) -> list[Command]:
    """``n`` slash commands, three in four a send (each text unique), the rest help/list."""
    kinds = ["send"] * (n * 3 // 4) + ["other"] * (n - n * 3 // 4)
    rng.shuffle(kinds)
    out: list[Command] = []
    for i, kind in enumerate(kinds):
        marker = f"{tag}-{i}:" if kind == "send" else None
        text = f"oncall-sms {marker} disk full on db-{i % 7}" if marker else ("help", "list")[i % 2]
        body = payloads.slash_command(
            world.slack.state, COMMAND, text, user=ALICE, channel=INCIDENTS
        )
        out.append(Command(body, kind, marker))
    return out


async def post_all(
    http: aiohttp.ClientSession, url: str, batch: Sequence[Command], conc: int
) -> list[Sample]:
    """Post every body with ``conc`` in flight; signed just before the run (fresh timestamp)."""
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    signed = [{**form, **sign(SIGNING_SECRET, c.body)} for c in batch]
    samples: list[Sample | None] = [None] * len(batch)
    order = iter(range(len(batch)))

    async def worker() -> None:
        for i in order:
            started = time.perf_counter()
            async with http.post(url, data=batch[i].body, headers=signed[i]) as response:
                await response.read()
                status = response.status
            samples[i] = Sample(batch[i].kind, status, (time.perf_counter() - started) * 1000)

    await asyncio.gather(*(worker() for _ in range(conc)))
    return [s for s in samples if s is not None]


async def start_bare(world: World, *, process_before_response: bool = False) -> RunningServer:
    """A bolt app whose only listener acks, served as bot/server/web.py serves the bridge."""
    client = AsyncWebClient(token=world.runtime.env.slack_bot_token, base_url=world.slack.api_url)
    app = AsyncApp(
        client=client,
        signing_secret=SIGNING_SECRET,
        request_verification_enabled=True,
        raise_error_for_unhandled_request=False,
        process_before_response=process_before_response,
    )

    @app.command(COMMAND)
    async def on_send(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        bolt_response = await app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    return await serve(web_app)


class CountingHandler(logging.Handler):
    """The root logger at INFO as `serve` sets it: every record is formatted (the cost counts,
    as in production) and counted, not written; a failed send or listener shows as WARNING+."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines = self.warnings = 0
        logging.getLogger().handlers[:] = [self]
        logging.getLogger().setLevel(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        self.format(record)
        self.lines += 1
        self.warnings += record.levelno >= logging.WARNING


async def settle(world: World, before: int, n: int) -> int:
    """Wait for the replies to the ``n`` commands sent after ``before`` replies, then for their
    sends and reports; return how many replies say a send was queued.

    ``wait_idle`` alone is not enough: a send is submitted after its command's ack, so until the
    listener has run the service does not know about it. Every command gets one ephemeral reply.
    """
    state = world.slack.state
    await state.wait_for(lambda s: len(s.ephemerals) >= before + n, timeout=120)
    await world.runtime.service.wait_idle()
    return sum(1 for e in state.ephemerals[before : before + n] if e.text.startswith("Queued R"))


def exactly_once(world: World, tags: Sequence[str]) -> tuple[int, int, int]:
    """(missing, duplicated, unexpected) (send, phone) pairs among the emulator's SMS."""
    seen = Counter(
        (str(d.payload.get("message", "")).split(" ", 1)[0], d.recipient.lstrip("+"))
        for d in world.emulators.talkntalk.deliveries
    )
    wanted = {(tag, phone) for tag in tags for phone in ONCALL}
    missing = sum(1 for key in wanted if key not in seen)
    duplicated = sum(1 for key, count in seen.items() if key in wanted and count > 1)
    return missing, duplicated, sum(n for key, n in seen.items() if key not in wanted)


@dataclass
class Bench:
    """The running apps, the client, and what the bridge was asked to send so far."""

    world: World
    urls: dict[str, str]
    http: aiohttp.ClientSession
    conc: int
    tags: list[str] = field(default_factory=list)
    queued: int = 0

    async def run(self, app: str, batch: Sequence[Command]) -> list[Sample]:
        """One run against one app; after a bridge run, wait until all its work is done."""
        before = len(self.world.slack.state.ephemerals)
        samples = await post_all(self.http, self.urls[app], batch, self.conc)
        if app == "bridge":
            self.tags += [c.tag for c in batch if c.tag]
            self.queued += await settle(self.world, before, len(batch))
        return samples

    def delivery_checks(self) -> list[Check]:
        missing, duplicated, unexpected = exactly_once(self.world, self.tags)
        sends, sms = len(self.tags), len(self.world.emulators.talkntalk.deliveries)
        return [
            (f"sends queued (reply 'Queued R…') = {self.queued}", f"= {sends}",
             self.queued == sends),
            (f"SMS for {sends} sends x {len(ONCALL)} phones: {sms} delivered, missing {missing}, "
             f"duplicated {duplicated}, unexpected {unexpected}", "each exactly once",
             missing == duplicated == unexpected == 0),
        ]  # fmt: skip


async def main(n: int, conc: int, rounds: int, warmup: int) -> int:
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name})")  # figures are per Python
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs (timings need a quiet machine)")
    rng = random.Random(20240601)
    logged = CountingHandler()
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp:
        world = await start_world(Path(tmp), CONFIG, usergroups={"S0SRE1234": []})
        bare = await start_bare(world)
        bare_pbr = await start_bare(world, process_before_response=True)
        urls = {
            "bare": bare.url + "/slack/events",
            "bare-pbr": bare_pbr.url + "/slack/events",
            "bridge": world.events_url,
        }
        runs: list[tuple[str, list[Sample]]] = []
        try:
            connector = aiohttp.TCPConnector(limit=max(conc, 20) * 2)
            async with aiohttp.ClientSession(connector=connector) as http:
                bench = Bench(world, urls, http, conc)
                for app in urls:  # auth.test, first-request imports, connection pools
                    warm = await bench.run(app, commands(world, warmup, f"warm-{app}", rng))
                    assert all(s.status == 200 for s in warm), f"{app}: warm-up not all 200"
                for r in range(1, rounds + 1):
                    batch = commands(world, n, f"r{r}", rng)  # the same bodies for both apps
                    for app in urls:  # bare, bare-pbr, bridge, bare, ...
                        runs.append((f"{app} {r}", await bench.run(app, batch)))
            checks = latency_table(runs, conc) + bench.delivery_checks()
        finally:
            await bare.close()
            await bare_pbr.close()
            await world.close()
    print()
    for what, target, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {what}  (target {target})")
    print(f"(logged during the bench: {logged.lines} lines at INFO+, {logged.warnings} WARNING+)")
    return 0 if all(ok for _, _, ok in checks) else 1


def fmt(stats: Stats) -> str:
    return f"{stats.n:>4}  {stats.p50:7.1f}  {stats.p99:7.1f}  {stats.max:7.1f}"


def latency_table(runs: Sequence[tuple[str, list[Sample]]], conc: int) -> list[Check]:
    """Print each run and the best of the rounds; judge the bridge's p99 and the ratio."""
    print(f"\nack latency in ms, {len(runs[0][1])} signed {COMMAND} per run at concurrency {conc}")
    print(f"{'run':<16}{'n':>4}  {'p50':>7}  {'p99':>7}  {'max':>7}  non-200  "
          "p99 / bare p99  p99 / bare-pbr p99")  # fmt: skip
    per: dict[str, list[Stats]] = {"bare": [], "bare-pbr": [], "bridge": [], "bridge sends": []}
    for label, samples in runs:
        app = label.split()[0]
        groups = [(app, label, samples)]
        if app == "bridge":
            groups.append(
                ("bridge sends", "  sends only", [s for s in samples if s.kind == "send"])
            )
        for key, shown, group in groups:
            per[key].append(stats := Stats.of(group))
            bad = sum(1 for s in group if s.status != 200)
            vs = ""
            if app == "bridge":
                vs = f"{stats.p99 / per['bare'][-1].p99:14.2f}  "
                vs += f"{stats.p99 / per['bare-pbr'][-1].p99:18.2f}"
            print(f"{shown:<16}{fmt(stats)}  {bad:7d}  {vs}")
    best = {key: Stats(v[0].n, min(s.p50 for s in v), min(s.p99 for s in v),
                       min(s.max for s in v)) for key, v in per.items()}  # fmt: skip
    print(f"\nbest of {len(per['bare'])} rounds (lowest of each figure, per app):")
    for key, stats in best.items():
        print(f"{key:<16}{fmt(stats)}")
    ratio, p99 = best["bridge"].p99 / best["bare"].p99, best["bridge"].p99
    same_mode = best["bridge"].p99 / best["bare-pbr"].p99
    print(f"bridge p99 / bare-pbr p99 = {same_mode:.2f} (same bolt mode as the bridge; not judged)")
    non_200 = sum(1 for _, samples in runs for s in samples if s.status != 200)
    return [
        (
            f"bridge p99 / bare p99 (bolt default mode) = {ratio:.2f}",
            f"<= {RATIO_TARGET}",
            ratio <= RATIO_TARGET,
        ),
        (f"bridge p99 = {p99:.1f} ms", f"< {P99_TARGET_MS:.0f} ms", p99 < P99_TARGET_MS),
        (f"non-200 acks = {non_200}", "= 0", non_200 == 0),
    ]


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Slack ack latency: bridge vs bare bolt app.")
    parser.add_argument("--requests", type=int, default=200, help="slash commands per run")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    parser.add_argument(
        "--rounds", type=int, default=3, help="bare, bare-pbr, bridge runs, alternated"
    )
    parser.add_argument("--warmup", type=int, default=20, help="requests per app first")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    sys.exit(asyncio.run(main(args.requests, args.concurrency, args.rounds, args.warmup)))
