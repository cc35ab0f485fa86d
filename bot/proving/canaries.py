"""Canaries: each listed channel's path tested on a schedule, judged, announced when it fails,
and shown in /metrics.

Why a tick and rows in the store: every replica ticks, but a period's test is sent only by the
replica whose insert of (canary, period) succeeds, and judged by whichever replica first finds
its outcome in the send record (a compare-and-set), so a replica that dies between sending and
judging loses nothing. The send goes through the send service (recorded, deduplicated by the
key ``canary:NAME:PERIOD``, receipted) like a page's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.paging.targets import has_receipts
from bot.policy import Rejection
from bot.proving.schedule import period_start
from bot.proving.verdicts import Result, Verdict, advice, judge
from bot.send.service import SendService
from bot.slack.canary import canary_failed_text, canary_recovered_text
from bot.store.canaries_sql import CanaryRun
from bot.tasks import stop_task
from bot.values import Origin, Surface
from config import Settings
from config.durations import format_duration
from config.settings import Canary

log = logging.getLogger(__name__)
RESEND_AFTER = timedelta(minutes=1)  # a run claimed but never recorded as sent is sent again


def canary_text(channel: str) -> str:
    return f"chatops-bridge canary for {channel}: a scheduled test of this path. No reply needed."


@dataclass(frozen=True)
class Judged:
    canary: Canary
    verdict: Verdict
    request_id: str | None

    @property
    def ok(self) -> bool:
        return self.verdict.result in (Result.SENT, Result.DELIVERED)


class Canaries:
    """Sends each canary once per period, judges it, announces failures, sets the gauges."""

    def __init__(
        self,
        settings: Settings,
        service: SendService,
        client: AsyncWebClient | None,
        *,
        clock: Callable[[], datetime],
        tick: float = 1.0,
    ) -> None:
        self.settings = settings
        self.service = service
        self.store = service.store
        self.client = client
        self.clock = clock
        self.tick_seconds = tick
        self._loop: asyncio.Task[None] | None = None

    async def send(self, canary: Canary, key: str) -> str | Verdict:
        """Record and start the test send; its request id, or the planner's refusal."""
        try:
            plan = self.service.planner.plan_page(
                canary.channel, canary.to, canary_text(canary.channel)
            )
        except Rejection as exc:
            return Verdict(Result.FAILED, exc.plain, "refused")
        origin = Origin(Surface.PAGE, None, title=f"Canary {canary.channel}")
        submission = await self.service.submit([plan], origin, idempotency_key=key, confirmed=True)
        return submission.request_ids[0]

    async def verdict(self, canary: Canary, request_id: str, since: datetime) -> Verdict:
        recipients = await self.store.recipients(request_id)
        channel = self.settings.channels.get(canary.channel)
        return judge(
            recipients[0] if recipients else None,
            receipts=channel is not None and has_receipts(self.settings, channel),
            overdue=self.clock() >= since + canary.within,
            within=format_duration(canary.within),
            strict=True,
        )

    async def tick(self) -> None:
        now = self.clock()
        for canary in self.settings.canaries.values():
            period = period_start(canary, now)
            if await self.store.claim_canary(canary.channel, period, now):
                await self._sent(canary, period)
        for run in await self.store.unjudged_canaries():
            await self._judge(run)
        await self.refresh_metrics()

    async def _sent(self, canary: Canary, period: datetime) -> None:
        key = f"canary:{canary.channel}:{period.isoformat()}"
        sent = await self.send(canary, key)
        if isinstance(sent, Verdict):
            await self._judged(canary, period, Judged(canary, sent, None))
        else:
            await self.store.canary_sent(canary.channel, period, sent)

    async def _judge(self, run: CanaryRun) -> None:
        canary = self.settings.canaries.get(run.canary)
        now = self.clock()
        if canary is None:  # removed from the config: closed without a word
            await self.store.judge_canary(run.canary, run.period, False, "removed", now)
            return
        if run.request_id is None:
            if now >= run.claimed_at + RESEND_AFTER:  # its replica died before recording it
                await self._sent(canary, run.period)
            return
        verdict = await self.verdict(canary, run.request_id, run.claimed_at)
        if verdict.final:
            await self._judged(canary, run.period, Judged(canary, verdict, run.request_id))

    async def _judged(self, canary: Canary, period: datetime, judged: Judged) -> None:
        reason = judged.verdict.reason
        before = (await self.store.last_canaries()).get(canary.channel)
        won = await self.store.judge_canary(canary.channel, period, judged.ok, reason, self.clock())
        if won and not judged.ok:
            log.warning("canary for %s failed: %s", canary.channel, reason)
            await self.announce(judged)
        elif won and before is not None and not before[0].ok:
            # The last judged run failed and was announced: say the path works again, once.
            log.info("canary for %s passed again", canary.channel)
            await self.announce_recovered(judged, before[0].reason)

    def advice(self, judged: Judged) -> str:
        channel = self.settings.channels.get(judged.canary.channel)
        account = channel.provider_name if channel is not None else "its"
        return advice(judged.verdict, account, judged.canary.channel)

    async def announce(self, judged: Judged) -> None:
        if self.client is None:
            return
        canary = judged.canary
        text = canary_failed_text(
            canary.channel,
            canary.to,
            judged.verdict.reason or "no reason given",
            self.advice(judged),
            judged.request_id,
        )
        try:
            await self.client.chat_postMessage(channel=canary.announce_in, text=text)
        except SlackApiError as exc:
            log.warning("could not announce a failed canary: %s", exc.response.get("error"))

    async def announce_recovered(self, judged: Judged, last_reason: str | None) -> None:
        if self.client is None:
            return
        canary = judged.canary
        text = canary_recovered_text(canary.channel, canary.to, last_reason, judged.request_id)
        try:
            await self.client.chat_postMessage(channel=canary.announce_in, text=text)
        except SlackApiError as exc:
            log.warning("could not announce a recovered canary: %s", exc.response.get("error"))

    async def refresh_metrics(self) -> None:
        for name, (run, last_ok) in (await self.store.last_canaries()).items():
            if name not in self.settings.canaries:
                continue
            metrics.CHANNEL_HEALTHY.labels(name).set(1 if run.ok else 0)
            if last_ok is not None:
                metrics.CHANNEL_LAST_OK.labels(name).set(last_ok.timestamp())

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("a canary tick failed; the next one tries again")
            await asyncio.sleep(self.tick_seconds)

    def start_loop(self) -> None:
        if self._loop is None and self.settings.canaries:
            self._loop = asyncio.create_task(self._run(), name="canaries")

    async def stop(self) -> None:
        loop, self._loop = self._loop, None
        await stop_task(loop)
