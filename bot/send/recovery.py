"""Recovery: resume what a crash, a shutdown or a dead replica interrupted, and write the final
reports it cut off.

Why its own module: it is where "never sent twice" is hardest (in flight becomes unknown, only
the never-attempted are sent). It runs at start-up (SQLite: the one process on its file resumes
everything) and, on PostgreSQL, for each send the lease watcher takes over from a dead replica.
"""

from __future__ import annotations

import logging

from bot.report import Reporter
from bot.send.live import LiveSends
from bot.send.records import group_for, group_id_of, plan_from_record, request_or_reject
from bot.send.run import Runner
from bot.store.base import RESTARTED_REASON, TAKEN_OVER_REASON, Store
from bot.store.leases import Lease
from bot.values import Plan, RequestRecord, RequestState

log = logging.getLogger(__name__)

_RESUMABLE = (RequestState.ACCEPTED, RequestState.SENDING)


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
        """At start-up. SQLite: resume every interrupted send (this process is the only one on
        its file). PostgreSQL: only sends whose owner's lease lapsed — the others are some
        live replica's, and this replica's watcher takes them over if that one dies."""
        if self.runner.ownership.shared:
            await self.runner.ownership.tick()
            return 0
        groups: dict[str, list[RequestRecord]] = {}
        for record in await self.store.unfinished_requests():
            if record.state is RequestState.HELD:
                continue
            groups.setdefault(group_id_of(record), []).append(record)
        for records in groups.values():
            lease = await self.runner.ownership.acquire(group_id_of(records[0]))
            assert lease is not None  # one process: every lease is granted
            await self._resume(records, lease, RESTARTED_REASON)
        await self._finish_unreported()
        return len(groups)

    async def take_over(self, lease: Lease) -> None:
        """A send whose owner died (its lease lapsed, now ours): its unfinished requests are
        resumed and its root message (same ts) updated and finished here."""
        records = [
            r
            for r in await self.store.group_requests(lease.group_id)
            if r.state in _RESUMABLE or (r.state is RequestState.DONE and not r.reported)
        ]
        if not records:
            await self.runner.ownership.release(lease)  # finished and reported after all
            return
        await self._resume(records, lease, TAKEN_OVER_REASON)

    async def _resume(self, records: list[RequestRecord], lease: Lease, reason: str) -> None:
        """In flight -> unknown (``reason`` says why: this process restarted, or it took the
        send over from another replica), pending sent once; done-but-unreported requests are
        reported with the group (a send without anything left only writes its final report)."""
        plans: list[Plan] = []
        for record in records:
            if record.state not in _RESUMABLE:
                continue
            result = await self.store.recover(record.request_id, reason)
            plans.append(await plan_from_record(self.store, result.request, result.to_send()))
            log.info(
                "resuming an interrupted send",
                extra={
                    "request_id": record.request_id,
                    "pending": len(result.pending),
                    "marked_unknown": len(result.marked_unknown),
                    "epoch": lease.epoch,
                    "cause": "takeover" if reason == TAKEN_OVER_REASON else "restart",
                },
            )
        fresh = [await request_or_reject(self.store, r.request_id) for r in records]
        await self.runner.start(fresh, plans, lease=lease)

    async def _finish_unreported(self) -> None:
        """Requests that finished sending but whose final report a crash cut off."""
        groups: dict[str, list[RequestRecord]] = {}
        for record in await self.store.unreported_requests():
            groups.setdefault(group_id_of(record), []).append(record)
        for records in groups.values():
            live = self.live.request_ids()
            if any(r.request_id in live for r in records):
                continue  # part of a group resumed above: its run reports it
            group = group_for(records, resumed=True)
            lease = await self.runner.ownership.acquire(group.group_id)
            assert lease is not None
            group.lease = lease
            if self.reporter is not None and group.channel is not None:
                await self.reporter.open(group, live=False)
            await self.runner.report(group, [r.request_id for r in records])
