"""Restart recovery: resume what a crash or a shutdown interrupted, and write the final reports
it cut off.

Why its own module: it runs once, at start-up, before anything new is accepted, and it is where
"never sent twice" is hardest (in flight becomes unknown, only the never-attempted are sent).
"""

from __future__ import annotations

import logging

from bot.report import Reporter
from bot.send.live import LiveSends
from bot.send.records import group_for, group_id_of, plan_from_record, request_or_reject
from bot.send.run import Runner
from bot.store.base import Store
from bot.values import RequestRecord, RequestState

log = logging.getLogger(__name__)


class Recovery:
    """Resumes interrupted sends through the runner; ``live`` tells what it already resumed."""

    def __init__(
        self, store: Store, runner: Runner, reporter: Reporter | None, live: LiveSends
    ) -> None:
        self.store = store
        self.runner = runner
        self.reporter = reporter
        self.live = live

    async def recover(self) -> int:
        """Resume what a crash interrupted: in-flight -> unknown, pending sent. Returns count."""
        groups: dict[str, list[RequestRecord]] = {}
        for record in await self.store.unfinished_requests():
            if record.state is RequestState.HELD:
                continue
            groups.setdefault(group_id_of(record), []).append(record)
        for records in groups.values():
            plans = []
            for record in records:
                result = await self.store.recover(record.request_id)
                plans.append(await plan_from_record(self.store, result.request, result.to_send()))
                log.info(
                    "resuming an interrupted send",
                    extra={
                        "request_id": record.request_id,
                        "pending": len(result.pending),
                        "marked_unknown": len(result.marked_unknown),
                    },
                )
            fresh = [await request_or_reject(self.store, r.request_id) for r in records]
            await self.runner.start(fresh, plans)
        await self._finish_unreported()
        return len(groups)

    async def _finish_unreported(self) -> None:
        """Requests that finished sending but whose final report a crash cut off."""
        groups: dict[str, list[RequestRecord]] = {}
        for record in await self.store.unreported_requests():
            groups.setdefault(group_id_of(record), []).append(record)
        for records in groups.values():
            live = self.live.request_ids()
            if any(r.request_id in live for r in records):
                continue  # part of a group resumed above: its run reports it
            group = group_for(records)
            if self.reporter is not None and group.channel is not None:
                await self.reporter.open(group, live=False)
            await self.runner.report(group, [r.request_id for r in records])
