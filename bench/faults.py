"""Fault benchmark: 1,000 recipients through a misbehaving TalkNTalk, and the promises checked.

Why: README's opening promise — nobody gets a message twice because a provider was slow or broken,
and every recipient's outcome is recorded. Unit tests inject one fault at a time; this drives the
real SendService + SQLiteStore + Dispatcher + adapter through a seeded mix of 429s, 500s, hangs and
dropped connections (each before and after the emulator "delivers"), then compares what the send
record says with what the emulator really delivered.

    .venv/bin/python bench/faults.py [--recipients 1000] [--fault-rate 0.2] [--runs 3] [--seed 1]

Exit status 1 when a promise is broken in any run:
* a recipient recorded ``sent`` was not delivered exactly once, or one recorded ``failed`` was
  delivered (its Retry button would send it twice);
* anyone outside ``unknown`` received the message twice (``unknown`` may have it once);
* a recipient has no outcome (still pending or in flight), or the request is not done.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bridge_sandbox.emulators.common import Fault, RunningServer, serve
from bridge_sandbox.emulators.talkntalk import TalkNTalkState, create_app

from bot.accounts import open_accounts
from bot.dispatch import Dispatcher, RetryPolicy
from bot.plan import Planner
from bot.requests import SendRequest
from bot.send.service import SendService
from bot.store import open_store, utcnow
from bot.values import Origin, Surface
from config import load
from providers.base import Message

KEY = "bench-faults-tnt-key"
CONFIG = """\
defaults:
  country: KE
  confirm_over: 100000
  max_recipients: {cap}
providers:
  tnt:
    type: talkntalk
    api_key: ${{BENCH_TNT_KEY}}
    base_url: ${{BENCH_TNT_URL}}
    timeout_seconds: {timeout}
    connect_timeout_seconds: 1
    rate_per_minute: 10000000
    max_concurrency: {concurrency}
senders:
  bench: [U0BENCH001]
channels:
  bench-sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allowed_senders: [bench]
    allow_adhoc: true
"""


def fault_mix(rate: float, retry_after: float, stall: float) -> list[tuple[float, Fault]]:
    """``rate`` of all calls answered by a fault, spread over the kinds a provider really shows.

    ``process=True``: the message reached the phone before the provider misbehaved. A hang is a
    stall of ``stall`` seconds (well past the bridge's timeout) after which the provider either
    delivers late or answers 504 having delivered nothing — from the bridge's side a hang; it
    ends so the benchmark can count late deliveries and leaves no handler pending forever.
    """
    shares = [
        (0.25, Fault(status=429, headers={"Retry-After": f"{retry_after:g}"},
                     body={"detail": "Rate limit exceeded"})),
        (0.125, Fault(status=500, body={"detail": "internal error"})),
        (0.125, Fault(status=500, body={"detail": "internal error"}, process=True)),
        (0.125, Fault(delay=stall, status=504, body={"detail": "gateway timeout"})),
        (0.125, Fault(delay=stall)),  # delivered late, answered to nobody
        (0.125, Fault(drop=True)),
        (0.125, Fault(drop=True, process=True)),
    ]  # fmt: skip
    return [(rate * share, fault) for share, fault in shares]


@dataclass
class RunResult:
    seed: int
    outcomes: Counter[str]
    twice: int  # recipients the emulator delivered to more than once
    twice_outside_unknown: int
    sent_not_once: int  # recorded sent, delivered 0 or 2+ times
    failed_but_delivered: int
    no_outcome: int
    unknown_delivered: int  # of the unknown, how many the provider really delivered (once)
    request_state: str
    http_attempts: int
    chaos_faults: int
    retried_429: int
    wall: float

    @property
    def broken(self) -> list[str]:
        problems = {
            "delivered twice outside unknown": self.twice_outside_unknown,
            "sent but not delivered exactly once": self.sent_not_once,
            "failed but delivered": self.failed_but_delivered,
            "no recorded outcome": self.no_outcome,
        }
        found = [f"{name}: {n}" for name, n in problems.items() if n]
        if self.request_state != "done":
            found.append(f"request left {self.request_state}")
        return found


async def one_run(args: argparse.Namespace, seed: int, workdir: Path) -> RunResult:
    state = TalkNTalkState(api_key=KEY, latency=args.latency)
    stall = max(1.0, 3 * args.timeout)
    state.set_chaos(fault_mix(args.fault_rate, args.retry_after, stall), seed=seed)
    server: RunningServer = await serve(create_app(state))
    try:
        config = workdir / f"bridge-{seed}.yaml"
        config.write_text(
            CONFIG.format(cap=args.recipients, timeout=args.timeout, concurrency=args.concurrency),
            encoding="utf-8",
        )
        settings = load(config, env={"BENCH_TNT_KEY": KEY, "BENCH_TNT_URL": server.url})
        numbers = tuple(f"+2547{i:08d}" for i in range(args.recipients))
        async with (
            open_store(workdir / f"bench-{seed}.db") as store,
            open_accounts(settings.providers) as accounts,
        ):
            dispatcher = Dispatcher(accounts, recorder=store, retry=RetryPolicy(base_delay=0.05))
            planner = Planner(settings, dispatcher)
            service = SendService(settings, planner, store, dispatcher, None, clock=utcnow)
            request = SendRequest(
                channel="bench-sms", to=numbers, message=Message(text="Bench: faults drill")
            )
            plan = service.plan(request, sender=None)
            started = time.perf_counter()
            await service.submit(
                [plan], Origin(Surface.CLI, None), idempotency_key=f"bench:{seed}", confirmed=True
            )
            await service.wait_idle()
            wall = time.perf_counter() - started
            record = await store.get_request(plan.request_id)
            recorded = await store.recipients(plan.request_id)
        await asyncio.sleep(stall + 0.2)  # late deliveries land before they are counted
    finally:
        await server.close()
    delivered = Counter(d.recipient for d in state.deliveries)
    status = {r.address.lstrip("+"): r.status.value for r in recorded}
    outcomes = Counter(status.values())
    return RunResult(
        seed=seed,
        outcomes=outcomes,
        twice=sum(1 for n in delivered.values() if n > 1),
        twice_outside_unknown=sum(
            1 for num, n in delivered.items() if n > 1 and status.get(num) != "unknown"
        ),
        sent_not_once=sum(1 for num, s in status.items() if s == "sent" and delivered[num] != 1),
        failed_but_delivered=sum(
            1 for num, s in status.items() if s == "failed" and delivered[num]
        ),
        no_outcome=sum(1 for s in status.values() if s in ("pending", "in_flight"))
        + (args.recipients - len(status)),
        unknown_delivered=sum(1 for num, s in status.items() if s == "unknown" and delivered[num]),
        request_state=record.state.value if record else "missing",
        http_attempts=len(state.requests),
        chaos_faults=state.chaos_applied,
        retried_429=sum(r.attempts - 1 for r in recorded),
        wall=wall,
    )


def show(result: RunResult, recipients: int) -> None:
    o = result.outcomes
    print(
        f"seed {result.seed}: {recipients} recipients -> sent {o['sent']}, failed {o['failed']}, "
        f"unknown {o['unknown']} ({result.unknown_delivered} of them really delivered); "
        f"delivered twice {result.twice} "
        f"(outside unknown {result.twice_outside_unknown}); no outcome {result.no_outcome}; "
        f"HTTP attempts {result.http_attempts} ({result.chaos_faults} answered by a fault, "
        f"{result.retried_429} retries after 429); "
        f"wall {result.wall:.2f} s -> {'; '.join(result.broken) or 'promises kept'}"
    )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--retry-after", type=float, default=0.05, help="seconds, on 429s")
    parser.add_argument("--timeout", type=float, default=0.3, help="provider timeout_seconds")
    parser.add_argument("--latency", type=float, default=0.01, help="emulator seconds/request")
    parser.add_argument("--concurrency", type=int, default=32, help="account max_concurrency")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name})")  # figures are per Python
    broken = False
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        for seed in range(args.seed, args.seed + args.runs):
            result = await one_run(args, seed, Path(tmp))
            show(result, args.recipients)
            broken = broken or bool(result.broken)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
