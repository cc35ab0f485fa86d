"""Dispatcher benchmark: the real Dispatcher and adapters against the real emulators on loopback.

Why: the dispatcher's promises (use the account's concurrency, pace under a provider's limit
without a single 429, one request for a bulk API, bounded memory) are easy to break silently;
this prints the figures with PASS/FAIL against each target and exits 1 when one is missed.

    .venv/bin/python bench/dispatch.py [--concurrency 16] [--same-process]

The emulators run in this process (their state is read directly: latency, 429s, deliveries);
each send runs in a fresh child process (``--child SPEC``), as the bridge would against a remote
provider, so the emulator's CPU is not charged to the dispatcher and the child's peak RSS is
the dispatch's own. ``--same-process`` runs the sends on the emulators' event loop instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bridge_sandbox.emulators.common import EmulatorState
from bridge_sandbox.emulators.suite import EmulatorSuite, start_suite

from bot.accounts import RATE_HEADROOM, open_accounts
from bot.dispatch import Dispatcher
from bot.metrics import REGISTRY
from bot.values import Plan
from providers import AnyProviderConfig, AutoKonnectConfig, TalkNTalkConfig
from providers.base import Message, OutcomeStatus, Recipient, Route, Service

SCRIPT = Path(__file__).resolve()
KEYS = {"talkntalk": "bench-tnt-key", "autokonnect": "bench-ak-key"}
KEY_ENV = {"talkntalk": "BENCH_TNT_KEY", "autokonnect": "BENCH_AK_KEY"}  # not on argv
NO_LIMIT = 10_000_000  # requests/minute: so high that pacing never waits
LATENCY = 0.05  # seconds the emulator takes per request (scenarios 1-3)


@dataclass
class Check:
    """One figure against its target (``report``: shown, not judged)."""

    scenario: str
    metric: str
    value: float
    target: str = "report"
    ok: Callable[[float], bool] = lambda v: True
    fmt: str = "{:.3f}"

    @property
    def verdict(self) -> str:
        if self.target == "report":
            return "-"
        return "PASS" if self.ok(self.value) else "FAIL"


# --- the bridge side: one dispatch, in the child (or in-process with --same-process) ---------


def recipients(n: int) -> tuple[Recipient, ...]:
    return tuple(Recipient(address=f"+2547{i:08d}") for i in range(n))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


async def bridge_run(spec: dict[str, Any]) -> dict[str, Any]:
    """Open the account, dispatch one plan, and say how long, what came back, and peak RSS."""
    baseline = rss_mb()
    provider = spec["provider"]
    config: AnyProviderConfig
    fields = {
        "type": provider,
        "api_key": os.environ.get(KEY_ENV[provider], KEYS[provider]),
        "base_url": spec["url"],
        "rate_per_minute": spec["rate"],
        "max_concurrency": spec["concurrency"],
    }
    if provider == "talkntalk":
        config = TalkNTalkConfig.model_validate(fields)
        route = Route(service=Service.SMS, sender_id="ACME")
    else:
        config = AutoKonnectConfig.model_validate(fields)
        route = Route(service=Service.WABA, waba_id="123")
    message = Message(text="Bench: the database failed over; no action needed.")
    plan = Plan("bench", "bench", provider, route, message, recipients(spec["recipients"]))
    async with open_accounts({provider: config}) as accounts:
        started = time.perf_counter()
        outcomes = await Dispatcher(accounts).run(plan)  # all kept, as `bot send` keeps them
        wall = time.perf_counter() - started
    counts = dict(Counter(outcome.status.value for outcome in outcomes))
    retries = sum(o.attempts - 1 for o in outcomes)  # one recipient a call: each is a 429 seen
    return {"wall": wall, "outcomes": counts, "retries": retries,
            "baseline_mb": baseline, "peak_mb": rss_mb(),
            "claim_wait": attempt_record_wait(provider)}  # fmt: skip


def attempt_record_wait(account: str) -> float | None:
    """Mean seconds this process's calls through ``account`` waited for their attempt to be
    recorded (``bridge_attempt_record_seconds``); None if it made none. bench/store.py too."""
    label = {"provider": account}
    waited = REGISTRY.get_sample_value("bridge_attempt_record_seconds_sum", label)
    calls = REGISTRY.get_sample_value("bridge_attempt_record_seconds_count", label)
    return (waited or 0.0) / calls if calls else None


async def run_bridge(spec: dict[str, Any], *, child: bool) -> dict[str, Any]:
    """Run one dispatch in a fresh child process (the parent's loop keeps serving) or here."""
    if not child:
        return await bridge_run(spec)
    env = {**os.environ, **{KEY_ENV[p]: key for p, key in KEYS.items()}}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "--child", json.dumps(spec),
        stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"bench child exited {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


# --- the scenarios: emulators here, sends through run_bridge ---------------------------------


def fresh(state: EmulatorState, latency: float) -> None:
    state.reset()
    state.latency, state.rate_limit, state.rate_window = latency, None, 60.0


def all_sent(result: dict[str, Any], n: int) -> float:
    return float(result["outcomes"] == {OutcomeStatus.SENT.value: n})


def peak_in_window(times: Sequence[float], window: float) -> int:
    """Most accepted requests inside any sliding window, as the emulator counts them."""
    peak, start = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


async def concurrency(suite: EmulatorSuite, conc: int, child: bool) -> list[Check]:
    n, name = 1000, "1 concurrency"
    fresh(suite.talkntalk, LATENCY)
    spec = {"provider": "talkntalk", "url": suite.url("talkntalk"), "recipients": n,
            "rate": NO_LIMIT, "concurrency": conc}  # fmt: skip
    result = await run_bridge(spec, child=child)
    ideal = n * LATENCY / conc
    print(f"[1] {n} SMS via TalkNTalk, {LATENCY * 1000:.0f} ms/request, no rate limit, "
          f"max_concurrency={conc} (the account's bound on requests in flight): "
          f"wall {result['wall']:.2f} s, ideal "
          f"{n} x {LATENCY} / {conc} = {ideal:.2f} s, outcomes {result['outcomes']}")  # fmt: skip
    return [
        Check(name, "concurrency used", conc, fmt="{:.0f}"),
        Check(name, "wall time (s)", result["wall"], fmt="{:.2f}"),
        Check(name, "wall / ideal", result["wall"] / ideal, "<= 1.3", lambda v: v <= 1.3, "{:.2f}"),
        Check(name, "all sent", all_sent(result, n), "= 1", lambda v: v == 1, "{:.0f}"),
    ]  # fmt: skip


async def rate(suite: EmulatorSuite, child: bool) -> list[Check]:
    # The doc's 300/min, as a 20 s sliding window, is 100 per 20 s; ten times faster it is
    # 100 per 2 s = 3000/min: the same window shape and burst size, so 600 messages take ~12 s
    # instead of 2 minutes. The account is told the same (scaled) rate the provider enforces.
    n, limit, window, name = 600, 100, 2.0, "2 rate limit"
    per_minute = round(limit * 60 / window)
    state = suite.talkntalk
    fresh(state, LATENCY)
    state.rate_limit, state.rate_window = limit, window
    spec = {"provider": "talkntalk", "url": suite.url("talkntalk"), "recipients": n,
            "rate": per_minute, "concurrency": 16}  # fmt: skip
    result = await run_bridge(spec, child=child)
    achieved = n / result["wall"] * 60
    times = [d.at for d in state.deliveries]
    steady = (len(times) - 1) / (times[-1] - times[0]) * 60 if len(times) > 1 else 0.0
    print(f"[2] {n} SMS against the emulator's {limit} per {window:g} s sliding window "
          f"(= {per_minute}/min, the documented 300/min at 10x speed); account rate_per_minute="
          f"{per_minute}, paced at {RATE_HEADROOM:g} of it: wall {result['wall']:.2f} s, "
          f"achieved {achieved:.0f}/min (between first and last delivery {steady:.0f}/min), "
          f"peak {peak_in_window(times, window)} in any {window:g} s window, 429s: emulator "
          f"{state.throttled}, outcomes' extra attempts {result['retries']}, "
          f"outcomes {result['outcomes']}")  # fmt: skip
    return [
        Check(name, "achieved / limit", achieved / per_minute, ">= 0.95", lambda v: v >= 0.95),
        Check(name, "429s (emulator throttled)", state.throttled, "= 0", lambda v: v == 0,
              "{:.0f}"),
        Check(name, "429s (outcome attempts-1)", result["retries"], "= 0", lambda v: v == 0,
              "{:.0f}"),
        Check(name, "all sent", all_sent(result, n), "= 1", lambda v: v == 1, "{:.0f}"),
    ]  # fmt: skip


async def autokonnect(suite: EmulatorSuite, child: bool) -> list[Check]:
    n, name = 1000, "3 autokonnect"
    state = suite.autokonnect
    fresh(state, LATENCY)
    spec = {"provider": "autokonnect", "url": suite.url("autokonnect"), "recipients": n,
            "rate": None, "concurrency": 16}  # fmt: skip
    result = await run_bridge(spec, child=child)
    sends = [r for r in state.requests if not r.path.startswith("/_emulator")]
    print(f"[3] {n} WABA recipients via AutoKonnect, {LATENCY * 1000:.0f} ms/request: "
          f"{len(sends)} HTTP request(s), wall {result['wall']:.3f} s, emulator deliveries "
          f"{len(state.deliveries)}, outcomes {result['outcomes']}")  # fmt: skip
    return [
        Check(name, "HTTP requests", len(sends), "= 1", lambda v: v == 1, "{:.0f}"),
        Check(name, "wall time (s)", result["wall"]),
        Check(name, "all sent", all_sent(result, n), "= 1", lambda v: v == 1, "{:.0f}"),
    ]


async def memory(suite: EmulatorSuite) -> list[Check]:
    n, name = 10_000, "4 memory"
    fresh(suite.talkntalk, 0.0)
    spec = {"provider": "talkntalk", "url": suite.url("talkntalk"), "recipients": n,
            "rate": NO_LIMIT, "concurrency": 16}  # fmt: skip
    result = await run_bridge(spec, child=True)  # always a fresh process: its own peak
    base, peak = result["baseline_mb"], result["peak_mb"]
    print(f"[4] {n} SMS in a fresh process (emulator not counted): RSS after imports {base:.1f} "
          f"MB, peak {peak:.1f} MB (+{peak - base:.1f} MB for the dispatch), wall "
          f"{result['wall']:.2f} s, emulator deliveries {len(suite.talkntalk.deliveries)}, "
          f"outcomes {result['outcomes']}")  # fmt: skip
    return [
        Check(name, "RSS after imports (MB)", base, fmt="{:.1f}"),
        Check(name, "peak RSS (MB)", peak, "< 100", lambda v: v < 100, "{:.1f}"),
        Check(name, "all sent", all_sent(result, n), "= 1", lambda v: v == 1, "{:.0f}"),
    ]


def print_table(checks: Sequence[Check]) -> None:
    rows = [("scenario", "metric", "value", "target", "result")]
    rows += [(c.scenario, c.metric, c.fmt.format(c.value), c.target, c.verdict) for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    print()
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


async def main(conc: int, child: bool) -> int:
    print(f"Python {sys.version.split()[0]} ({sys.implementation.name})")  # figures are per Python
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} on {os.cpu_count()} CPUs (timings need a quiet machine)")
    suite = await start_suite(talkntalk_key=KEYS["talkntalk"], autokonnect_key=KEYS["autokonnect"])
    try:
        checks = await concurrency(suite, conc, child)
        checks += await rate(suite, child)
        checks += await autokonnect(suite, child)
        checks += await memory(suite)
    finally:
        await suite.close()
    print_table(checks)
    failed = [c for c in checks if c.verdict == "FAIL"]
    judged = [c for c in checks if c.verdict != "-"]
    print(
        f"\n{'FAIL' if failed else 'PASS'}: {len(judged) - len(failed)}/{len(judged)} targets met"
    )
    return 1 if failed else 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Dispatcher benchmark against the emulators.")
    parser.add_argument("--concurrency", type=int, default=16, help="account max_concurrency [1]")
    parser.add_argument(
        "--same-process", action="store_true", help="run the sends on the emulators' event loop"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)  # JSON spec of one bridge run
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    if args.child:
        print(json.dumps(asyncio.run(bridge_run(json.loads(args.child)))))
    else:
        sys.exit(asyncio.run(main(args.concurrency, child=not args.same_process)))
