"""A test of someone's phone: one short test message through each way they are paged, then
each way's result as the send record learns it (sent, delivered, failed with the reason).

Why through the send service: the test is a real send of the real path (planner checks, the
account's rate limit, the record, receipts), and a Slack retry of the same command meets the
same idempotency keys, so nobody gets the test twice. Time to wait for a receipt is judged on
the injected clock; the record is looked at every ``poll`` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.paging.targets import has_receipts
from bot.policy import Rejection
from bot.proving.methods import Method, methods_for
from bot.proving.verdicts import Result, Verdict, judge
from bot.send.service import SendService
from bot.values import Origin, Surface
from config import Settings
from config.durations import format_duration
from config.settings import Person

TEST_WAIT = timedelta(minutes=2)  # how long a test waits for a delivery report


def phone_test_text(person: Person, asker: str | None) -> str:
    """Short, says it is a test, asks for no answer (fits one SMS part)."""
    who = f" asked by {asker}" if asker and asker != person.name else ""
    return (
        f"Test from chatops-bridge for {person.name}{who}: pages reach you this way. "
        "No reply needed."
    )


@dataclass(frozen=True)
class MethodResult:
    method: Method
    request_id: str | None
    verdict: Verdict
    fresh: bool = True  # False: recorded by an earlier run of the same command (a Slack retry)


Changed = Callable[[Sequence[MethodResult]], Awaitable[None]]


class PhoneTests:
    """Starts a person's test and follows it to each method's result."""

    def __init__(
        self,
        settings: Settings,
        service: SendService,
        clock: Callable[[], datetime],
        *,
        poll: float = 1.0,
        wait: timedelta = TEST_WAIT,
        await_receipts: bool = True,
    ) -> None:
        self.settings = settings
        self.service = service
        self.clock = clock
        self.poll = poll
        self.wait = wait
        self.await_receipts = await_receipts  # False: the provider's acceptance is the result

    def methods(self, person: Person) -> list[Method]:
        return methods_for(self.settings, person)

    async def start(
        self, person: Person, asker: str | None, surface: Surface, key: str, user_id: str | None
    ) -> list[MethodResult]:
        """Record and start one send per method (``key`` makes a repeat of the command send
        nothing new); a method the planner refuses is failed with its words."""
        text = phone_test_text(person, asker)
        origin = Origin(surface, user_id, title=f"Phone test of {person.name}")
        results: list[MethodResult] = []
        for method in self.methods(person):
            try:
                plan = self.service.planner.plan_page(method.channel, method.address, text)
            except Rejection as exc:
                results.append(MethodResult(method, None, Verdict(Result.FAILED, exc.plain)))
                continue
            submission = await self.service.submit(
                [plan], origin, idempotency_key=f"{key}:{method.channel}", confirmed=True
            )
            request_id, fresh = submission.request_ids[0], submission.created
            results.append(MethodResult(method, request_id, Verdict(Result.WAITING), fresh))
        return results

    async def follow(
        self, results: Sequence[MethodResult], changed: Changed | None = None
    ) -> list[MethodResult]:
        """Look at the record until every method has its result; ``changed`` hears each change."""
        began = self.clock()
        current = list(results)
        while True:
            overdue = self.clock() >= began + self.wait
            updated = [await self._judged(r, overdue) for r in current]
            if updated != current:
                current = updated
                if changed is not None:
                    await changed(current)
            if all(r.verdict.final for r in current):
                return current
            await asyncio.sleep(self.poll)

    async def _judged(self, result: MethodResult, overdue: bool) -> MethodResult:
        if result.request_id is None or result.verdict.final:
            return result
        recipients = await self.service.store.recipients(result.request_id)
        channel = self.settings.channels.get(result.method.channel)
        receipts = (
            self.await_receipts and channel is not None and has_receipts(self.settings, channel)
        )
        verdict = judge(
            recipients[0] if recipients else None,
            receipts=receipts,
            overdue=overdue,
            within=format_duration(self.wait),
            strict=False,
        )
        return replace(result, verdict=verdict)
