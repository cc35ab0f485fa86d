"""kill -9 one of three replicas mid-way through a 3,000-recipient send: is it taken over, and
does everyone get the message exactly once?

Why: a replica that dies mid-incident must be replaced (issue 9). This starts three real
``python -m bot serve`` replicas on one PostgreSQL schema (``tests/bot/replica_kit.py``, the
rig the multi-replica tests use: sandbox Slack and a TalkNTalk emulator in this process), sends
one SMS to 3,000 recipients from Slack, SIGKILLs the replica that owns it once half are
delivered, and prints the time from the kill to the takeover (the lease's epoch moving on),
recipients sent twice outside ``unknown`` and recipients with no outcome. Exits 1 on a miss.

    BRIDGE_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/takeover.py [--recipients 3000] [--takeover-after 2s]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from tests.bot.replica_kit import replica_config, start_replica_rig

URL_ENV = "BRIDGE_BENCH_POSTGRES_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
TERMINAL = {"sent", "failed", "unknown", "delivered", "read"}


async def main(url: str, total: int, takeover_after: str) -> int:
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name})")  # figures are per Python
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs")
    numbers = [f"+2547{i:08d}" for i in range(total)]
    config = replica_config(
        numbers, confirm_over=total + 1, concurrency=16, takeover_after=takeover_after
    )
    schema = f"bench_takeover_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url, timeout=10)
    await admin.execute(f"CREATE SCHEMA {schema}")
    db = f"{url}{'&' if '?' in url else '?'}search_path={schema}"
    with tempfile.TemporaryDirectory() as tmp:
        rig = await start_replica_rig(Path(tmp), db, config, latency=0.05)
        try:
            replicas = await rig.start(3)
            if await rig.slash(replicas[0], "crowd-sms Bench: takeover after kill -9") != 200:
                raise RuntimeError("the slash command was refused")
            [lease] = await rig.when(
                "SELECT owner FROM send_leases", lambda r: len(r) == 1, timeout=120, what="lease"
            )
            owner = next(r for r in replicas if r.replica_id == lease["owner"])
            await rig.slack.state.wait_for(
                lambda _: len(rig.tnt.deliveries) >= total // 2, timeout=600
            )
            if await owner.process.kill() != -signal.SIGKILL:
                raise RuntimeError("the owner was not killed")
            killed = time.monotonic()
            at_kill = Counter(r["status"] for r in await rig.fetch("SELECT status FROM recipients"))
            await rig.when(
                "SELECT epoch FROM send_leases",
                lambda r: not r or r[0]["epoch"] > 1,
                timeout=300,
                what="takeover",
            )
            takeover = time.monotonic() - killed
            await rig.when(
                "SELECT state, reported_at FROM requests",
                lambda r: bool(r) and r[0]["state"] == "done" and r[0]["reported_at"] is not None,
                timeout=600,
                what="the send finished and reported",
            )
            finished = time.monotonic() - killed
            rows = await rig.fetch("SELECT address, status FROM recipients")
            requested = rig.requested()
            roots = [m for m in rig.slack.state.messages.get("C0INCIDENT", []) if not m.is_reply]
        finally:
            await rig.close()
            await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            await admin.close()
    final = {str(r["address"]).lstrip("+"): str(r["status"]) for r in rows}
    twice = sum(1 for n, s in final.items() if s != "unknown" and requested[n] > 1)
    no_outcome = sum(1 for s in final.values() if s not in TERMINAL)
    print(
        f"3 replicas, {total} SMS from one /send, 50 ms provider, max_concurrency 16, "
        f"takeover_after {takeover_after}; the owner SIGKILLed at {total // 2} delivered"
    )
    print(f"  at the kill: {dict(at_kill)}")
    print(f"  final: {dict(Counter(final.values()))}; root messages: {len(roots)}")
    print(f"  kill -> takeover {takeover:.2f} s; kill -> finished and reported {finished:.2f} s")
    checks = [
        ("recipients sent twice (outside unknown)", twice, twice == 0),
        ("recipients with no outcome", no_outcome, no_outcome == 0),
        ("root messages", len(roots), len(roots) == 1),
    ]
    print()
    for metric, value, ok in checks:
        print(f"{metric:<42} {value:>6}  {'PASS' if ok else 'FAIL'}")
    return 0 if all(ok for *_, ok in checks) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="kill -9 one of three replicas mid-send.")
    parser.add_argument("--recipients", type=int, default=3000)
    parser.add_argument("--takeover-after", default="2s", help="defaults.takeover_after")
    args = parser.parse_args()
    url = os.environ.get(URL_ENV, DEFAULT_URL)
    sys.exit(asyncio.run(main(url, args.recipients, args.takeover_after)))
