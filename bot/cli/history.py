"""`python -m bot history [REQUEST_ID]`: recent sends, or one send's recipients, from the record.

It also says how far back the record reaches (its oldest request or page) and what
``defaults.keep_records`` removes, so "no such request" is not mistaken for "never sent".
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import TextIO

from bot.store.base import RecipientStatus, Store
from config.durations import format_duration

ORDER = [s.value for s in RecipientStatus]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("request_id", nargs="?", help="show this request's recipients")
    parser.add_argument("--limit", type=int, default=20, help="how many recent sends (20)")
    parser.add_argument("--user", default=None, help="only sends by this Slack user id")


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[k]} {k}" for k in ORDER if counts.get(k))


async def reach(store: Store, keep: timedelta | None) -> str:
    """How far back the record reaches, and the retention setting that decides it."""
    oldest = (await store.oldest_record()).oldest
    since = f"since {oldest:%Y-%m-%d %H:%M} UTC" if oldest else "empty"
    if keep is None:
        return f"The send record: {since}; kept forever (defaults.keep_records is not set)."
    return (
        f"The send record: {since}; finished sends and ended pages older than "
        f"{format_duration(keep)} are removed (defaults.keep_records)."
    )


async def run_history(
    args: argparse.Namespace,
    store: Store,
    out: TextIO = sys.stdout,
    keep: timedelta | None = None,
) -> int:
    if args.request_id:
        record = await store.get_request(args.request_id.strip().upper())
        if record is None:
            sys.stderr.write(
                f"error: no request {args.request_id} in the send record. "
                f"{await reach(store, keep)}\n"
            )
            return 1
        by = record.user_id or "terminal"
        out.write(
            f"{record.request_id}  {record.created_at:%Y-%m-%d %H:%M:%S}  {record.state.value}  "
            f"{record.message.type.value} to {record.channel} by {by}\n"
        )
        out.write(f"  {_counts(await store.counts(record.request_id))}\n")
        for r in await store.recipients(record.request_id):
            detail = r.provider_message_id or r.reason or ""
            out.write(f"  {r.status.value:<10} {r.address:<28} {detail}\n")
        return 0
    records = await store.recent_requests(args.user, args.limit)
    out.write(f"{await reach(store, keep)}\n")
    if not records:
        out.write("No sends recorded yet.\n")
    for record in records:
        counts = _counts(await store.counts(record.request_id))
        by = record.user_id or "terminal"
        out.write(
            f"{record.request_id}  {record.created_at:%Y-%m-%d %H:%M}  {record.channel:<16} "
            f"{record.state.value:<9} {by:<12} {counts}\n"
        )
    return 0
