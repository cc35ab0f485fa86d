"""Reading the send record back into what the other steps take: a Plan for the dispatcher, a
Group for the reporter.

Why apart: running, restart recovery and the follow-ups all resume sends from what was recorded,
and must rebuild them the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.policy import Rejection
from bot.report import Group
from bot.store.base import Store
from bot.values import Plan, RequestRecord
from providers.base import Recipient


def group_id_of(record: RequestRecord) -> str:
    """The group a request is reported under: its broadcast's, or its own."""
    return record.broadcast_id or record.request_id


def group_for(records: Sequence[RequestRecord], *, resumed: bool = False) -> Group:
    """The report group of a request, or of a broadcast's requests (first one first);
    ``resumed``: after a crash or a takeover (its root may be posted but not recorded)."""
    first = records[0]
    return Group(
        group_id=group_id_of(first),
        request_ids=tuple(r.request_id for r in records),
        channel=first.report_channel,
        thread_ts=first.thread_ts,
        title=first.title,
        root_ts=first.report_ts,
        response_url=first.response_url,
        resumed=resumed,
    )


async def request_or_reject(store: Store, request_id: str) -> RequestRecord:
    """The request, or a Rejection a person can read."""
    record = await store.get_request(request_id)
    if record is None:
        raise Rejection(f"There is no request {request_id}.")
    return record


async def plan_from_record(
    store: Store, record: RequestRecord, recipients: Sequence[Recipient] | None = None
) -> Plan:
    """The Plan to (re)start a recorded request: to ``recipients``, or to all of its own."""
    if recipients is None:
        recipients = [r.to_recipient() for r in await store.recipients(record.request_id)]
    return Plan(
        request_id=record.request_id,
        channel=record.channel,
        account=record.account,
        route=record.route,
        message=record.message,
        recipients=tuple(recipients),
    )
