"""``python -m bot send --test PERSON`` and ``python -m bot check --live`` from a terminal.

Why judged by the provider's acceptance here: delivery reports reach a running bridge's webhook,
not this process, so a terminal that waited for them would report a working path as failed. The
sends are real and recorded like any other (``Surface.CLI`` and ``Surface.PAGE``).
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterable
from typing import TextIO

from bot.accounts import Account, open_accounts
from bot.dispatch import Dispatcher
from bot.plan import Planner
from bot.proving.canaries import Canaries, Judged
from bot.proving.phone_test import PhoneTests
from bot.proving.verdicts import Result, Verdict, judge
from bot.send.service import SendService
from bot.store import Store, utcnow
from bot.values import Surface
from config import Settings
from config.durations import format_duration
from config.numbers import mask_address
from providers import AnyProviderConfig

_MARK = {Result.SENT: "sent", Result.DELIVERED: "delivered", Result.FAILED: "FAILED"}


def _service(settings: Settings, store: Store, accounts: dict[str, Account]) -> SendService:
    dispatcher = Dispatcher(accounts, recorder=store)
    planner = Planner(settings, dispatcher)
    return SendService(settings, planner, store, dispatcher, None, clock=utcnow)


def _accounts(settings: Settings, channels: Iterable[str]) -> dict[str, AnyProviderConfig]:
    names = {settings.channels[c].provider_name for c in channels if c in settings.channels}
    return {name: settings.provider(name) for name in names}


async def run_phone_test(
    person_name: str,
    settings: Settings,
    store: Store,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """0: every way accepted the test; 1: one failed; 2: nothing to test."""
    person = settings.people.get(person_name)
    if person is None:
        known = ", ".join(settings.people) or "none"
        err.write(f"error: --test: there is nobody called {person_name!r} in people: {known}\n")
        return 2
    configs = _accounts(settings, settings.channels)
    async with open_accounts(configs, claimer=store.slot_claimer()) as accounts:
        service = _service(settings, store, dict(accounts))
        tests = PhoneTests(settings, service, utcnow, poll=0.1, await_receipts=False)
        if not tests.methods(person):
            err.write(f"error: --test: no channel reaches {person.name}\n")
            return 2
        key = f"cli-test:{secrets.token_hex(8)}"
        started = await tests.start(person, None, Surface.CLI, key, None)
        await service.wait_idle()
        results = await tests.follow(started)
        await service.stop()
    for result in results:
        verdict, method = result.verdict, result.method
        why = f" — {verdict.reason}" if verdict.reason else ""
        out.write(
            f"{_MARK.get(verdict.result, 'waiting'):<10}{method.channel:<16}"
            f"{mask_address(method.address)}{why}\n"
        )
    out.write("Delivery reports, where the account sends them, reach the running bridge.\n")
    return 1 if any(r.verdict.result is Result.FAILED for r in results) else 0


async def run_live(
    settings: Settings, store: Store, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
) -> int:
    """Every canary once, now: 0 when each provider accepted its test, 1 otherwise."""
    if not settings.canaries:
        out.write("No canaries in the config: nothing sent.\n")
        return 0
    out.write(f"Sending {len(settings.canaries)} canary test message(s) for real…\n")
    configs = _accounts(settings, settings.canaries)
    async with open_accounts(configs, claimer=store.slot_claimer()) as accounts:
        service = _service(settings, store, dict(accounts))
        canaries = Canaries(settings, service, None, clock=utcnow)
        sent: dict[str, str | Verdict] = {}
        for name, canary in settings.canaries.items():
            sent[name] = await canaries.send(canary, f"canary-live:{name}:{secrets.token_hex(8)}")
        await service.wait_idle()
        failed = 0
        for name, canary in settings.canaries.items():
            outcome = sent[name]
            if isinstance(outcome, Verdict):
                verdict, request_id = outcome, None
            else:
                recipients = await store.recipients(outcome)
                verdict = judge(
                    recipients[0] if recipients else None,
                    receipts=False,
                    overdue=True,
                    within=format_duration(canary.within),
                    strict=True,
                )
                request_id = outcome
            judged = Judged(canary, verdict, request_id)
            if judged.ok:
                out.write(f"ok        {name:<16}accepted by the provider ({request_id})\n")
            else:
                failed += 1
                out.write(f"FAILED    {name:<16}{verdict.reason}\n")
                out.write(f"{'':26}fix: {canaries.advice(judged)}\n")
        await service.stop()
    return 1 if failed else 0
