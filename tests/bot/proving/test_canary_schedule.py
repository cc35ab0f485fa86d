"""When a canary's period starts, and how a test's record is judged and advised on — plain
values, no I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.proving.schedule import period_start
from bot.proving.verdicts import Result, Verdict, advice, judge
from bot.values import RecipientRecord, RecipientStatus
from config.settings import Canary

LONDON = ZoneInfo("Europe/London")


def canary(every: timedelta, at: time | None = None, zone: ZoneInfo = LONDON) -> Canary:
    return Canary("oncall-sms", "+254700000099", every, at, zone, timedelta(minutes=5), "C0OPS")


def test_a_daily_time_stays_on_the_wall_clock_across_dst() -> None:
    daily = canary(timedelta(days=1), time(9))
    # Saturday 28 March 2026, GMT: 09:00 is 09:00 UTC.
    assert period_start(daily, datetime(2026, 3, 28, 9, 30, tzinfo=UTC)) == datetime(
        2026, 3, 28, 9, 0, tzinfo=UTC
    )
    # Before 09:00 the period is still yesterday's.
    assert period_start(daily, datetime(2026, 3, 28, 8, 59, tzinfo=UTC)) == datetime(
        2026, 3, 27, 9, 0, tzinfo=UTC
    )
    # Sunday 29 March, BST from 01:00 UTC: 09:00 London is 08:00 UTC.
    assert period_start(daily, datetime(2026, 3, 29, 8, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 8, 0, tzinfo=UTC
    )


def test_without_at_periods_count_from_midnight_utc() -> None:
    six_hours = canary(timedelta(hours=6))
    assert period_start(six_hours, datetime(2026, 11, 24, 13, 7, tzinfo=UTC)) == datetime(
        2026, 11, 24, 12, 0, tzinfo=UTC
    )


def test_every_other_day_at_a_time_keeps_its_own_days() -> None:
    two_days = canary(timedelta(days=2), time(9), ZoneInfo("UTC"))
    starts = {
        period_start(two_days, datetime(2026, 11, 20, 12, tzinfo=UTC) + timedelta(hours=h))
        for h in range(0, 96, 3)
    }
    assert len(starts) in (2, 3)
    assert all(s.hour == 9 for s in starts)
    ordered = sorted(starts)
    assert all(b - a == timedelta(days=2) for a, b in itertools.pairwise(ordered))


def record(
    status: RecipientStatus, reason: str | None = None, code: str | None = None
) -> RecipientRecord:
    return RecipientRecord(
        "RABCDEFGH", 1, "+254700000099", "RABCDEFGH-1", status, None, reason, code, None, 1,
        datetime(2026, 11, 24, tzinfo=UTC),
    )  # fmt: skip


def test_a_canary_on_a_receipt_channel_passes_only_when_delivered_in_time() -> None:
    sent = record(RecipientStatus.SENT)
    assert (
        judge(sent, overdue=False, receipts=True, within="5m", strict=True).result is Result.WAITING
    )
    late = judge(sent, overdue=True, receipts=True, within="5m", strict=True)
    assert (late.result, late.code) == (Result.FAILED, "not_delivered")
    assert (
        judge(
            record(RecipientStatus.DELIVERED), overdue=True, receipts=True, within="5m", strict=True
        ).result
        is Result.DELIVERED
    )
    # Without receipts, the provider's acceptance is the pass.
    assert (
        judge(sent, receipts=False, overdue=False, within="5m", strict=True).result is Result.SENT
    )
    # A person's own test is not failed for a missing report: it says so.
    mine = judge(sent, receipts=True, overdue=True, within="2m", strict=False)
    assert (mine.result, mine.reason) == (Result.SENT, "no delivery report within 2m")
    unknown = judge(
        record(RecipientStatus.UNKNOWN), overdue=False, receipts=True, within="5m", strict=True
    )
    assert unknown.result is Result.FAILED
    assert "may or may not have gone" in (unknown.reason or "")


def test_each_failure_kind_gets_its_fix() -> None:
    def fix(reason: str, code: str | None = None, status: int | None = None) -> str:
        return advice(Verdict(Result.FAILED, reason, code, status), "tnt", "oncall-sms")

    assert fix("wallet balance too low — top up", "insufficient_balance", 402).startswith(
        "Top up the wallet of the `tnt` account"
    )
    assert "sender id was refused" in fix("SMS rejected: sender_id not accepted")
    assert "API key" in fix("API key missing or invalid", status=401)
    assert "Reconnect the WhatsApp phone" in fix("the WhatsApp phone is not connected")
    assert "/webhooks/tnt" in fix("not delivered", "not_delivered")
    assert "status page" in fix("timed out", "unknown")
    assert "test number is valid" in fix("invalid number")
