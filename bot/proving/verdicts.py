"""What a test message's record says about its path: still waiting, sent, delivered, or failed
with the provider's reason — and, for a failure, what to do about it.

Why one judge for test-me and canaries: both read the same send record the same way; the only
difference is whether "accepted, never reported delivered" counts as a failure (a canary) or is
shown as it is (a person's own test, who can look at their phone).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.values import RecipientRecord, RecipientStatus


class Result(enum.StrEnum):
    WAITING = "waiting"  # no outcome yet, or accepted and a receipt may still come
    SENT = "sent"  # accepted by the provider (final where the account reports no delivery)
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Verdict:
    result: Result
    reason: str | None = None
    code: str | None = None
    http_status: int | None = None

    @property
    def final(self) -> bool:
        return self.result is not Result.WAITING


def judge(
    recipient: RecipientRecord | None,
    *,
    receipts: bool,
    overdue: bool,
    within: str,
    strict: bool,
) -> Verdict:
    """``receipts``: the account reports delivery; ``overdue``: the time to wait has passed;
    ``strict``: no delivery by then is a failure (canaries), else it stays "sent" (test-me)."""
    status = recipient.status if recipient is not None else RecipientStatus.PENDING
    if status in (RecipientStatus.DELIVERED, RecipientStatus.READ):
        return Verdict(Result.DELIVERED)
    if status is RecipientStatus.FAILED:
        assert recipient is not None
        reason = recipient.reason or "the provider gave no reason"
        return Verdict(Result.FAILED, reason, recipient.code, recipient.http_status)
    if status is RecipientStatus.UNKNOWN:
        return Verdict(
            Result.FAILED,
            "the provider did not answer in time: the message may or may not have gone",
            "unknown",
        )
    if status is RecipientStatus.SENT:
        if not receipts:
            return Verdict(Result.SENT)
        if overdue:
            if strict:
                return Verdict(
                    Result.FAILED,
                    f"accepted by the provider but not reported delivered within {within}",
                    "not_delivered",
                )
            return Verdict(Result.SENT, f"no delivery report within {within}")
        return Verdict(Result.WAITING, "waiting for the delivery report")
    if overdue:
        return Verdict(Result.FAILED, f"no answer from the provider within {within}", "no_answer")
    return Verdict(Result.WAITING)


def advice(verdict: Verdict, account: str, channel: str) -> str:
    """How to fix a failed path, in a line an on-call engineer can act on."""
    reason = (verdict.reason or "").lower()
    code = (verdict.code or "").lower()
    if (
        "balance" in reason
        or code in ("insufficient_balance", "e110")
        or verdict.http_status == 402
    ):
        return f"Top up the wallet of the `{account}` account: pages by {channel} fail until then."
    if "sender_id" in reason or "sender id" in reason:
        return (
            f"The sender id was refused: ask the provider to approve it, or set `{channel}`'s "
            "sender_id to one approved for your account."
        )
    if verdict.http_status == 401 or "api key" in reason or "api_key" in reason:
        return f"Check the `{account}` account's API key in the environment, then restart."
    if "not connected" in reason or "session" in reason:
        return "Reconnect the WhatsApp phone of the session in TalkNTalk."
    if code == "not_delivered":
        return (
            "Check the test number still works (and is on WhatsApp for a WhatsApp channel), and "
            f"that the `{account}` account posts receipts to /webhooks/{account}."
        )
    if code in ("unknown", "no_answer"):
        return "The provider may be down: check its status page; the next run tries again."
    if "number" in reason or "invalid" in reason or "recipient" in reason:
        return "Check the test number is valid and can receive messages on this channel."
    return "Read the provider's reason above; the next run tries again."
