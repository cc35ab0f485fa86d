"""Three replicas, one account: is TalkNTalk's 300/min shared, reached, and never exceeded?

Why: each replica paced its accounts on its own, so three replicas sent three times the limit
(and met 429s). On PostgreSQL they claim slots from one row per account (``bot.pacer``); this
measures what they achieve together against the emulator's sliding window, and exits 1 when a
target is missed (>= 0.95 of the limit together, 0 x 429).

    BRIDGE_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/replicas_rate.py [--per-replica 300] [--unshared]

The emulator runs in this process; each replica is a child process (``--child SPEC``) with its
own PostgreSQL pool and its own Dispatcher over ``open_accounts(..., claimer=...)`` — the wiring
``python -m bot serve`` and ``send`` use. The children connect first, then all start on one
signal. The limit runs 10x faster than the documented one: 100 per 2 s sliding window (= 3000/min,
the documented 300/min as 100 per 20 s), so a run takes seconds instead of minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bridge_sandbox.emulators.suite import start_suite

from bot.accounts import RATE_HEADROOM, open_accounts
from bot.dispatch import Dispatcher
from bot.pacer import SharedPacer
from bot.store import open_store
from bot.values import Plan
from providers import TalkNTalkConfig
from providers.base import Message, OutcomeStatus, Recipient, Route, Service

SCRIPT = Path(__file__).resolve()
URL_ENV = "BRIDGE_BENCH_POSTGRES_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
KEY, KEY_ENV = "bench-tnt-key", "BENCH_TNT_KEY"  # the key goes by environment, not argv
REPLICAS, LIMIT, WINDOW, LATENCY = 3, 100, 2.0, 0.05
PER_MINUTE = round(LIMIT * 60 / WINDOW)


async def child(spec: dict[str, Any]) -> dict[str, Any]:
    """One replica: open the store and the account, say ready, send on "go", report."""
    config = TalkNTalkConfig.model_validate(
        {"type": "talkntalk", "api_key": os.environ[KEY_ENV], "base_url": spec["url"],
         "rate_per_minute": PER_MINUTE, "max_concurrency": 16}
    )  # fmt: skip
    base = spec["replica"] * 100_000
    recipients = tuple(Recipient(address=f"+2547{base + i:08d}") for i in range(spec["n"]))
    plan = Plan(f"bench{spec['replica']}", f"bench{spec['replica']}", "tnt",
                Route(service=Service.SMS, sender_id="ACME"),
                Message(text="Bench: shared rate limit."), recipients)  # fmt: skip
    async with (
        open_store(spec["db"]) as store,
        open_accounts(
            {"tnt": config}, claimer=None if spec["unshared"] else store.slot_claimer()
        ) as accounts,
    ):
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        started = time.monotonic()
        outcomes = await Dispatcher(accounts).run(plan)
        wall = time.monotonic() - started
        limiter = accounts["tnt"].limiter
        statements = limiter.statements if isinstance(limiter, SharedPacer) else 0
    return {
        "wall": wall,
        "outcomes": dict(Counter(o.status.value for o in outcomes)),
        "retries": sum(o.attempts - 1 for o in outcomes),  # each extra attempt met a 429
        "statements": statements,
    }


def peak_in_window(times: list[float], window: float) -> int:
    peak, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


async def main(url: str, per_replica: int, unshared: bool) -> int:
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name})")  # figures are per Python
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs (timings need a quiet machine)")
    schema = f"bench_rate_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url, timeout=10)
    await admin.execute(f"CREATE SCHEMA {schema}")
    db = f"{url}{'&' if '?' in url else '?'}search_path={schema}"
    suite = await start_suite(talkntalk_key=KEY)
    state = suite.talkntalk
    state.latency, state.rate_limit, state.rate_window = LATENCY, LIMIT, WINDOW
    children: list[asyncio.subprocess.Process] = []
    try:
        async with open_store(db):  # migrate once, before the replicas race to
            pass
        for replica in range(REPLICAS):
            spec = {"url": suite.url("talkntalk"), "db": db, "n": per_replica, "replica": replica,
                    "unshared": unshared}  # fmt: skip
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(SCRIPT), "--child", json.dumps(spec),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env={**os.environ, KEY_ENV: KEY},
            )  # fmt: skip
            children.append(proc)
        for proc in children:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if line.strip() != b"ready":
                raise RuntimeError(f"a replica did not start: {line!r}")
        go = time.monotonic()
        for proc in children:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        results = []
        for proc in children:
            out, _ = await asyncio.wait_for(proc.communicate(), 600)
            if proc.returncode != 0:
                raise RuntimeError(f"a replica exited {proc.returncode}")
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
    finally:
        for proc in children:
            if proc.returncode is None:
                proc.kill()
        await suite.close()
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()

    total = REPLICAS * per_replica
    times = sorted(d.at for d in state.deliveries)
    span = times[-1] - go if times else float("inf")
    achieved = len(times) / span * 60
    steady = (len(times) - 1) / (times[-1] - times[0]) * 60 if len(times) > 1 else 0.0
    sent = sum(r["outcomes"].get(OutcomeStatus.SENT.value, 0) for r in results)
    retries = sum(r["retries"] for r in results)
    statements = sum(r["statements"] for r in results)
    print(f"{REPLICAS} replicas x {per_replica} SMS through one TalkNTalk account; the emulator "
          f"allows {LIMIT} per {WINDOW:g} s sliding window (= {PER_MINUTE}/min, the documented "
          f"300/min at 10x speed); accounts paced at {RATE_HEADROOM:g} of it, {LATENCY * 1000:.0f}"
          f" ms/request, max_concurrency 16 each")  # fmt: skip
    print(
        f"  go -> last delivery {span:.2f} s: {achieved:.0f}/min together "
        f"({achieved / PER_MINUTE:.3f} of the limit; first to last delivery {steady:.0f}/min)"
    )
    print(f"  peak {peak_in_window(times, WINDOW)} in any {WINDOW:g} s window (limit {LIMIT})")
    print(
        f"  429s: emulator {state.throttled}, replicas' extra attempts {retries}; "
        f"sent {sent}/{total}; slot statements {statements} for {total} requests"
    )
    print(f"  per replica: {[r['outcomes'] for r in results]}")
    checks = [
        ("combined rate / limit", achieved / PER_MINUTE, ">= 0.95", achieved / PER_MINUTE >= 0.95),
        ("429s (emulator)", state.throttled, "= 0", state.throttled == 0),
        ("429s (extra attempts)", retries, "= 0", retries == 0),
        ("all sent", sent, f"= {total}", sent == total),
    ]
    print()
    for metric, value, target, ok in checks:
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{metric:<24} {shown:>8}  {target:<8} {'PASS' if ok else 'FAIL'}")
    failed = [c for c in checks if not c[3]]
    print(f"\n{'FAIL' if failed else 'PASS'}: {len(checks) - len(failed)}/{len(checks)} met")
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Three replicas sharing one account's limit.")
    parser.add_argument("--per-replica", type=int, default=300, help="SMS each replica sends")
    parser.add_argument(
        "--unshared", action="store_true", help="pace each replica in memory (as before v4)"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(json.loads(args.child)))))
    else:
        url = os.environ.get(URL_ENV, DEFAULT_URL)
        sys.exit(asyncio.run(main(url, args.per_replica, args.unshared)))
