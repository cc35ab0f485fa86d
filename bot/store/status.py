"""How a recipient's status may change: pure rules shared by every store backend.

Why a separate module: the rules are the promise ("never backwards, never twice"), so they are
written once, tested on their own, and a PostgreSQL backend applies exactly the same ones.
"""

from __future__ import annotations

from bot.store.base import STATUS_RANK, RecipientStatus

S = RecipientStatus

NOT_YET_DECIDED = frozenset({S.PENDING, S.IN_FLIGHT})

# What a provider's delivery receipt can say about a message.
RECEIPT_STATUSES = frozenset({S.SENT, S.DELIVERED, S.READ, S.FAILED})


def receipt_status(status: RecipientStatus, provider_message_id: str | None, ref: str | None) -> S:
    """The status a receipt may set, refusing what no receipt can say (both stores check it)."""
    status = S(status)
    if status not in RECEIPT_STATUSES:
        raise ValueError(f"a receipt cannot say {status.value!r}")
    if not provider_message_id and not ref:
        raise ValueError("a receipt needs a provider message id or a ref")
    return status


def after_attempt(current: RecipientStatus) -> RecipientStatus:
    """An attempt is starting: only a recipient not yet decided becomes in flight."""
    return S.IN_FLIGHT if current in NOT_YET_DECIDED else current


# ``after_attempt`` as SQL, for a store that marks a whole batch in flight in one statement.
AFTER_ATTEMPT_SQL = (
    "CASE WHEN status IN ("
    + ", ".join(f"'{s.value}'" for s in sorted(NOT_YET_DECIDED, key=lambda s: s.value))
    + f") THEN '{S.IN_FLIGHT.value}' ELSE status END"
)


def after_outcome(current: RecipientStatus, new: RecipientStatus) -> RecipientStatus:
    """The dispatcher's outcome for one recipient.

    It decides a recipient that was pending or in flight. It also replaces ``unknown`` with a
    definite sent/failed (the dispatcher knows better than a crash-time guess), but never replaces
    a receipt's verdict: a receipt that arrived first (matched by ref) is newer news.
    """
    if current in NOT_YET_DECIDED:
        return new
    if current is S.UNKNOWN and new in (S.SENT, S.FAILED):
        return new
    return new if STATUS_RANK[new] > STATUS_RANK[current] else current


def after_receipt(current: RecipientStatus, new: RecipientStatus) -> RecipientStatus:
    """A delivery receipt for one recipient.

    Monotonic on ``STATUS_RANK``, with two moves within the sent/unknown/failed rung: a receipt's
    ``failed`` beats sent or unknown (the provider accepted it, then could not deliver), and its
    ``sent`` resolves an ``unknown`` (the provider confirms it did go out). Nothing moves a
    delivered or read message back.
    """
    if new not in RECEIPT_STATUSES:
        raise ValueError(f"a receipt cannot say {new.value!r}")
    if new is S.FAILED:
        return S.FAILED if STATUS_RANK[current] <= STATUS_RANK[S.FAILED] else current
    if new is S.SENT and current is S.UNKNOWN:
        return S.SENT
    return new if STATUS_RANK[new] > STATUS_RANK[current] else current
