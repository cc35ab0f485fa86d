"""Stored rows -> record types, once for both backends.

Why one place: SQLite and PostgreSQL store the same columns and differ only in how a timestamp
comes back (ISO text vs ``timestamptz``), so each backend passes its own reader.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.store.base import RecipientRecord, RecipientStatus, RequestRecord, RequestState, Surface
from bot.store.sql import Row
from providers.base import Message, Route

ReadTime = Callable[[Any], datetime]


def request_record(row: Row, when: ReadTime) -> RequestRecord:
    finished = row["finished_at"]
    return RequestRecord(
        request_id=row["request_id"],
        created_at=when(row["created_at"]),
        updated_at=when(row["updated_at"]),
        finished_at=when(finished) if finished else None,
        surface=Surface(row["surface"]),
        user_id=row["user_id"],
        slack_channel=row["slack_channel"],
        thread_ts=row["thread_ts"],
        channel=row["channel"],
        account=row["account"],
        route=Route.model_validate_json(row["route"]),
        message=Message.model_validate_json(row["message"]),
        state=RequestState(row["state"]),
        idempotency_key=row["idempotency_key"],
        parent_request_id=row["parent_request_id"],
        broadcast_id=row["broadcast_id"],
        report_channel=row["report_channel"],
        report_ts=row["report_ts"],
        title=row["title"],
        response_url=row["response_url"],
        total=int(row["total"]),
        provider_count=row["provider_count"],
        reported=row["reported_at"] is not None,
    )


def recipient_record(row: Row, when: ReadTime) -> RecipientRecord:
    return RecipientRecord(
        request_id=row["request_id"],
        idx=int(row["idx"]),
        address=row["address"],
        ref=row["ref"],
        status=RecipientStatus(row["status"]),
        provider_message_id=row["provider_message_id"],
        reason=row["reason"],
        code=row["code"],
        http_status=row["http_status"],
        attempts=int(row["attempts"]),
        updated_at=when(row["updated_at"]),
    )
