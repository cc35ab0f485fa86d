"""Recipient statuses never go backwards, and each receipt is applied once — even if it is early."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.store import RecipientStatus, Store
from bot.store.status import after_attempt, after_outcome, after_receipt
from providers.base import Outcome, OutcomeStatus
from tests.bot.store_backends import Backend
from tests.bot.store_fixtures import ACCOUNT, Clock, failed, new_request, recipients, sent

S = RecipientStatus


# --- the rules, on their own -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "receipt", "result"),
    [
        (S.SENT, S.DELIVERED, S.DELIVERED),
        (S.DELIVERED, S.READ, S.READ),
        (S.READ, S.DELIVERED, S.READ),  # a late "delivered" after "read"
        (S.DELIVERED, S.SENT, S.DELIVERED),
        (S.SENT, S.FAILED, S.FAILED),  # accepted, then undeliverable
        (S.UNKNOWN, S.FAILED, S.FAILED),
        (S.DELIVERED, S.FAILED, S.DELIVERED),  # never over delivered or read
        (S.READ, S.FAILED, S.READ),
        (S.UNKNOWN, S.SENT, S.SENT),  # the provider confirms what we could not know
        (S.UNKNOWN, S.DELIVERED, S.DELIVERED),
        (S.IN_FLIGHT, S.DELIVERED, S.DELIVERED),  # a receipt faster than the send's response
        (S.FAILED, S.SENT, S.FAILED),
    ],
)
def test_a_receipt_moves_a_status_only_upwards(
    current: RecipientStatus, receipt: RecipientStatus, result: RecipientStatus
) -> None:
    assert after_receipt(current, receipt) is result


@pytest.mark.parametrize(
    ("current", "outcome", "result"),
    [
        (S.PENDING, S.SENT, S.SENT),
        (S.IN_FLIGHT, S.FAILED, S.FAILED),
        (S.IN_FLIGHT, S.UNKNOWN, S.UNKNOWN),
        (S.DELIVERED, S.SENT, S.DELIVERED),  # a receipt (by ref) landed first
        (S.READ, S.FAILED, S.READ),
        (S.FAILED, S.SENT, S.FAILED),  # a receipt's failure is newer news than the response
        (S.UNKNOWN, S.SENT, S.SENT),
        (S.SENT, S.UNKNOWN, S.SENT),
    ],
)
def test_an_outcome_never_downgrades_what_a_receipt_said(
    current: RecipientStatus, outcome: RecipientStatus, result: RecipientStatus
) -> None:
    assert after_outcome(current, outcome) is result


@pytest.mark.parametrize("current", list(S))
def test_an_attempt_only_moves_undecided_recipients_in_flight(current: RecipientStatus) -> None:
    expected = S.IN_FLIGHT if current in (S.PENDING, S.IN_FLIGHT) else current
    assert after_attempt(current) is expected


# --- in the store -------------------------------------------------------------------------------


async def sent_request(store: Store, count: int = 1) -> None:
    to = recipients("R1", count)
    await store.create_request(new_request("R1"), to, None)
    await store.attempt_started("R1", to, 1)
    await store.outcomes_recorded("R1", [sent(r, f"msg-{r.ref}") for r in to])


async def status_of(store: Store, idx: int = 0) -> RecipientStatus:
    return (await store.recipients("R1"))[idx].status


async def test_receipts_move_a_message_to_delivered_then_read(store: Store) -> None:
    await sent_request(store)
    delivered = await store.apply_status(
        ACCOUNT, provider_message_id="msg-R1-0", status=S.DELIVERED, event_key="e1"
    )
    assert delivered is not None
    assert (delivered.request_id, delivered.idx, delivered.ref) == ("R1", 0, "R1-0")
    assert (delivered.previous, delivered.status, delivered.changed) == (S.SENT, S.DELIVERED, True)
    read = await store.apply_status(ACCOUNT, ref="R1-0", status=S.READ, event_key="e2")
    assert read is not None
    assert read.status is S.READ
    late = await store.apply_status(
        ACCOUNT, provider_message_id="msg-R1-0", status=S.DELIVERED, event_key="e3"
    )
    assert late is not None
    assert not late.changed
    assert await status_of(store) is S.READ
    assert (await store.counts("R1"))["read"] == 1


async def test_a_failed_receipt_is_kept_with_the_providers_reason(store: Store) -> None:
    await sent_request(store, 2)
    await store.apply_status(
        ACCOUNT, ref="R1-0", status=S.FAILED, event_key="f1", reason="handset off", code="30003"
    )
    await store.apply_status(ACCOUNT, ref="R1-1", status=S.FAILED, event_key="f2")
    first, second = await store.recipients("R1")
    assert (first.status, first.reason, first.code) == (S.FAILED, "handset off", "30003")
    assert second.status is S.FAILED
    assert second.reason is not None
    assert "could not be delivered" in second.reason


async def test_a_failed_receipt_never_undoes_delivered(store: Store) -> None:
    await sent_request(store)
    await store.apply_status(ACCOUNT, ref="R1-0", status=S.DELIVERED, event_key="d")
    applied = await store.apply_status(ACCOUNT, ref="R1-0", status=S.FAILED, event_key="f")
    assert applied is not None
    assert not applied.changed
    assert await status_of(store) is S.DELIVERED


async def test_a_repeated_receipt_changes_nothing(backend: Backend) -> None:
    async with backend.store() as store:
        await sent_request(store)
        first = await store.apply_status(ACCOUNT, ref="R1-0", status=S.FAILED, event_key="evt-1")
        # The provider re-posts the same event; meanwhile the message was delivered.
        await store.apply_status(ACCOUNT, ref="R1-0", status=S.DELIVERED, event_key="evt-2")
        again = await store.apply_status(ACCOUNT, ref="R1-0", status=S.FAILED, event_key="evt-1")
        assert first is not None
        assert again is None
        assert await status_of(store) is S.DELIVERED
    assert await backend.scalar("SELECT COUNT(*) FROM receipts") == 2


async def test_event_keys_are_per_account(store: Store) -> None:
    await sent_request(store)
    assert await store.apply_status(ACCOUNT, ref="R1-0", status=S.DELIVERED, event_key="1")
    # Another account's event 1 is a different event (and here matches no message: parked).
    assert await store.apply_status("kal", ref="R1-0", status=S.READ, event_key="1") is None
    assert await status_of(store) is S.DELIVERED


async def test_a_receipt_before_the_send_is_recorded_is_applied_when_it_lands(
    store: Store,
) -> None:
    to = recipients("R1", 1)
    await store.create_request(new_request("R1"), to, None)
    await store.attempt_started("R1", to, 1)
    # The webhook beats the provider's HTTP response: no recipient has "wamid.1" yet.
    for key, status in [("e-read", S.READ), ("e-delivered", S.DELIVERED)]:
        parked = await store.apply_status(
            ACCOUNT, provider_message_id="wamid.1", status=status, event_key=key
        )
        assert parked is None
    assert await store.find_recipient(ACCOUNT, provider_message_id="wamid.1") is None
    await store.outcomes_recorded("R1", [sent(to[0], "wamid.1")])
    assert await status_of(store) is S.READ
    assert (await store.counts("R1"))["read"] == 1
    assert await store.claim_parked(ACCOUNT, ["wamid.1"]) == []  # nothing left parked


async def test_a_receipt_for_another_accounts_message_stays_parked(store: Store) -> None:
    await store.apply_status("kal", provider_message_id="msg-R1-0", status=S.READ, event_key="x")
    await sent_request(store)  # account tnt records msg-R1-0
    assert await status_of(store) is S.SENT
    applied = await store.claim_parked("kal", ["msg-R1-0"])
    assert applied == []


async def test_parked_receipts_expire_after_their_ttl(backend: Backend) -> None:
    clock = Clock()
    async with backend.store(clock=clock, parked_ttl=timedelta(hours=1)) as store:
        await store.apply_status(
            ACCOUNT, provider_message_id="msg-R1-0", status=S.DELIVERED, event_key="old"
        )
        clock.advance(minutes=30)
        await store.apply_status(
            ACCOUNT, provider_message_id="msg-R1-1", status=S.DELIVERED, event_key="newer"
        )
        clock.advance(minutes=31)
        assert await store.prune_parked() == 1  # "old" is 61 minutes old
        await sent_request(store, 2)
        first, second = await store.recipients("R1")
    assert (first.status, second.status) == (S.SENT, S.DELIVERED)


async def test_a_receipt_by_ref_before_the_response_is_not_undone_by_it(
    store: Store,
) -> None:
    to = recipients("R1", 1)
    await store.create_request(new_request("R1"), to, None)
    await store.attempt_started("R1", to, 1)
    # Kaleyra echoes our ref, so its callback matches even before the response is recorded.
    applied = await store.apply_status(ACCOUNT, ref="R1-0", status=S.DELIVERED, event_key="k")
    assert applied is not None
    assert (applied.previous, applied.status) == (S.IN_FLIGHT, S.DELIVERED)
    await store.outcomes_recorded("R1", [sent(to[0], "kal-123")])
    (recipient,) = await store.recipients("R1")
    assert (recipient.status, recipient.provider_message_id) == (S.DELIVERED, "kal-123")


async def test_an_unknown_outcome_is_resolved_by_a_receipt(store: Store) -> None:
    to = recipients("R1", 1)
    await store.create_request(new_request("R1"), to, None)
    await store.attempt_started("R1", to, 1)
    unknown = Outcome(
        recipient=to[0], status=OutcomeStatus.UNKNOWN, reason="no answer after 15 s", attempts=1
    )
    await store.outcomes_recorded("R1", [unknown])
    assert await status_of(store) is S.UNKNOWN
    await store.apply_status(ACCOUNT, ref="R1-0", status=S.SENT, event_key="s")
    (recipient,) = await store.recipients("R1")
    assert (recipient.status, recipient.reason) == (S.SENT, None)


async def test_outcomes_never_downgrade_and_fill_in_what_they_know(store: Store) -> None:
    to = recipients("R1", 1)
    await store.create_request(new_request("R1"), to, None)
    await store.outcomes_recorded("R1", [sent(to[0], "m1", attempts=2)])
    await store.apply_status(ACCOUNT, provider_message_id="m1", status=S.READ, event_key="r")
    await store.outcomes_recorded("R1", [failed(to[0])])  # a stale duplicate
    (recipient,) = await store.recipients("R1")
    assert (recipient.status, recipient.reason, recipient.attempts) == (S.READ, None, 2)


async def test_find_recipient_by_message_id_or_ref_within_one_account(store: Store) -> None:
    await sent_request(store, 2)
    by_id = await store.find_recipient(ACCOUNT, provider_message_id="msg-R1-1")
    by_ref = await store.find_recipient(ACCOUNT, ref="R1-1")
    assert by_id is not None
    assert by_id == by_ref
    assert by_id.idx == 1
    assert await store.find_recipient("kal", provider_message_id="msg-R1-1") is None
    assert await store.find_recipient(ACCOUNT) is None


async def test_a_receipt_must_say_something_a_receipt_can_say(store: Store) -> None:
    with pytest.raises(ValueError, match="cannot say"):
        await store.apply_status(ACCOUNT, ref="R1-0", status=S.IN_FLIGHT, event_key="x")
    with pytest.raises(ValueError, match="message id or a ref"):
        await store.apply_status(ACCOUNT, status=S.READ, event_key="x")
