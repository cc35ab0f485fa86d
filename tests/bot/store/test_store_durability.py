"""Nothing committed is lost: crashes, kill -9, cancelled callers and many concurrent writers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.store import RESTARTED_REASON, RecipientStatus, RequestState, StoreError
from tests.bot.store_backends import Backend
from tests.bot.store_fixtures import ACCOUNT, new_request, recipients, sent

REPO = Path(__file__).resolve().parents[3]
S = RecipientStatus

# Runs in a child process: records a request part-way, then dies without closing anything.
CHILD = """
import asyncio, os, signal, sys
from bot.store import RecipientStatus, open_store
from tests.bot.store_fixtures import new_request, recipients, sent

async def main(target: str, how: str) -> None:
    store = open_store(target)
    await store.open()
    to = recipients("RKILL", 10)
    await store.create_request(new_request("RKILL"), to, "slack:kill")
    await store.attempt_started("RKILL", to[:3], 1)
    await store.outcomes_recorded("RKILL", [sent(r, "m-" + r.ref) for r in to[:3]])
    await store.attempt_started("RKILL", to[3:5], 1)  # these two are "on the wire"
    await store.apply_status(
        "tnt", provider_message_id="m-late", status=RecipientStatus.DELIVERED, event_key="e1"
    )
    print("committed", flush=True)
    if how == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(0)

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize("how", ["os_exit", "sigkill"])
async def test_an_abrupt_end_keeps_every_committed_row(backend: Backend, how: str) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CHILD, backend.target, how,
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(child.communicate(), timeout=60)
    assert out.decode().strip() == "committed", err.decode()
    assert child.returncode == (-9 if how == "sigkill" else 0)

    async with backend.store() as store:
        counts = await store.counts("RKILL")
        assert (counts["sent"], counts["in_flight"], counts["pending"]) == (3, 2, 5)
        _, created = await store.create_request(
            new_request("RAGAIN"), recipients("RAGAIN", 1), "slack:kill"
        )
        assert not created  # the Slack retry after the crash is still one request
        assert [r.request_id for r in await store.unfinished_requests()] == ["RKILL"]
        result = await store.recover("RKILL")
        assert [r.idx for r in result.marked_unknown] == [3, 4]
        assert [r.idx for r in result.pending] == [5, 6, 7, 8, 9]
        # The parked receipt survived too: it is applied when its send lands.
        more = recipients("RKILL", 10)[5:6]
        await store.outcomes_recorded("RKILL", [sent(more[0], "m-late")])
        assert (await store.recipients("RKILL"))[5].status is S.DELIVERED


async def test_recover_after_a_crash_marks_in_flight_unknown_and_lists_pending(
    backend: Backend,
) -> None:
    to = recipients("R1", 6)
    async with backend.store() as store:
        await store.create_request(new_request("R1"), to, None)
        await store.attempt_started("R1", to[:4], 1)
        await store.outcomes_recorded("R1", [sent(to[0], "m0")])
        await store.attempt_started("R1", to[1:3], 2)  # a retry of two of them
        # ... and the process dies here: no outcomes for 1-3, nothing at all for 4-5.
    async with backend.store() as store:
        (unfinished,) = await store.unfinished_requests()
        assert unfinished.state is RequestState.SENDING
        result = await store.recover("R1")
        assert result.request.request_id == "R1"
        assert [r.idx for r in result.marked_unknown] == [1, 2, 3]
        assert {r.reason for r in result.marked_unknown} == {RESTARTED_REASON}
        assert result.pending_refs == ("R1-4", "R1-5")
        assert list(result.to_send()) == to[4:]
        stored = await store.recipients("R1")
        assert [r.status for r in stored] == [
            S.SENT,
            S.UNKNOWN,
            S.UNKNOWN,
            S.UNKNOWN,
            S.PENDING,
            S.PENDING,
        ]
        assert [r.attempts for r in stored] == [1, 2, 2, 1, 0, 0]
        assert (await store.recover("R1")).marked_unknown == ()  # running it twice is harmless
    attempts = await backend.fetch("SELECT idx, attempt FROM attempts ORDER BY idx, attempt")
    assert attempts == [(0, 1), (1, 1), (1, 2), (2, 1), (2, 2), (3, 1)]


async def test_an_attempt_is_recorded_before_its_outcome(backend: Backend) -> None:
    to = recipients("R1", 1)
    async with backend.store() as store:
        await store.create_request(new_request("R1"), to, None)
        await store.attempt_started("R1", to, 1)
        (recipient,) = await store.recipients("R1")
        assert (recipient.status, recipient.attempts) == (S.IN_FLIGHT, 1)
        record = await store.get_request("R1")
        assert record is not None
        assert record.state is RequestState.SENDING
        await store.outcomes_recorded("R1", [sent(to[0], "m1")])
        (recipient,) = await store.recipients("R1")
        assert (recipient.status, recipient.provider_message_id) == (S.SENT, "m1")


async def test_a_thousand_outcomes_from_fifty_tasks_are_all_kept(backend: Backend) -> None:
    to = recipients("R1", 1000)
    async with backend.store() as store:
        await store.create_request(new_request("R1"), to, None)

        async def worker(share: int) -> None:
            for recipient in to[share::50]:
                await store.attempt_started("R1", [recipient], 1)
                await store.outcomes_recorded("R1", [sent(recipient, "m-" + recipient.ref)])

        await asyncio.gather(*(worker(i) for i in range(50)))
    async with backend.store() as store:
        counts = await store.counts("R1")
        assert (counts["sent"], counts["total"]) == (1000, 1000)
        found = await store.find_recipient(ACCOUNT, provider_message_id="m-R1-999")
        assert found is not None
        assert found.idx == 999
    assert await backend.scalar("SELECT COUNT(*) FROM attempts") == 1000


async def test_a_cancelled_caller_does_not_cancel_its_write(backend: Backend) -> None:
    to = recipients("R1", 200)
    async with backend.store() as store:
        await store.create_request(new_request("R1"), to, None)
        # The dispatch is torn down while its outcomes are being written: the messages went
        # out, so their record must land anyway.
        writing = asyncio.create_task(store.outcomes_recorded("R1", [sent(r) for r in to]))
        await asyncio.sleep(0)
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
    async with backend.store() as store:
        assert (await store.counts("R1"))["sent"] == 200


async def test_two_connections_to_one_database_still_make_one_request_per_key(
    backend: Backend,
) -> None:
    async with backend.store() as one, backend.store() as two:
        results = await asyncio.gather(
            *(
                (one if i % 2 else two).create_request(
                    new_request(f"R{i}"), recipients(f"R{i}", 2), "shared-key"
                )
                for i in range(10)
            )
        )
    assert sum(created for _, created in results) == 1
    assert len({record.request_id for record, _ in results}) == 1


async def test_one_failing_write_among_concurrent_ones_undoes_only_itself(
    backend: Backend,
) -> None:
    # SQLite: concurrent writes share a commit, each in its own savepoint. PostgreSQL: each is
    # its own transaction.
    async with backend.store() as store:
        results = await asyncio.gather(
            store.create_request(new_request("R1"), recipients("R1", 2), "a"),
            store.create_request(new_request("R1"), recipients("R1", 5), "b"),  # same id
            store.create_request(new_request("R2"), recipients("R2", 3), "c"),
            return_exceptions=True,
        )
        assert isinstance(results[1], StoreError)
        assert [(await store.counts(r))["total"] for r in ("R1", "R2")] == [2, 3]
        _, created = await store.create_request(new_request("R3"), recipients("R3", 1), "b")
        assert created  # the failed write did not keep its key


async def test_a_receipt_racing_its_outcome_on_another_connection_is_never_lost(
    backend: Backend,
) -> None:
    # Two replicas: one records the send's outcome (with the provider's message id) while the
    # other takes the delivery receipt for that id. Whichever commits first, the receipt must
    # end applied — never parked with nobody left to claim it.
    count = 150
    to = recipients("R1", count)
    async with backend.store() as sender, backend.store() as webhook:
        await sender.create_request(new_request("R1"), to, None)
        await sender.attempt_started("R1", to, 1)

        async def one(recipient_idx: int) -> None:
            recipient = to[recipient_idx]
            await asyncio.gather(
                sender.outcomes_recorded("R1", [sent(recipient, f"m-{recipient_idx}")]),
                webhook.apply_status(
                    ACCOUNT,
                    provider_message_id=f"m-{recipient_idx}",
                    status=S.DELIVERED,
                    event_key=f"e-{recipient_idx}",
                ),
            )

        await asyncio.gather(*(one(i) for i in range(count)))
        counts = await sender.counts("R1")
    assert counts["delivered"] == count, counts
    assert await backend.scalar("SELECT COUNT(*) FROM receipts WHERE NOT matched") == 0
