"""Why a recipient ended unknown after an interruption says what happened: a restart of this
bridge, or another replica taking the send over (a takeover is not a restart: nobody should go
looking for one). In a whole bridge (SQLite, sandbox Slack, TalkNTalk emulator)."""

from __future__ import annotations

from bot.send.records import group_id_of
from bot.store import RESTARTED_REASON, TAKEN_OVER_REASON, RecipientStatus
from bot.store.leases import Lease
from tests.bot.bridge_kit import Bridge
from tests.bot.store_fixtures import new_request, recipients


async def interrupted(bridge: Bridge, request_id: str) -> None:
    """A send of three whose first call went out and whose owner then stopped: one in flight."""
    store = bridge.runtime.store
    to = recipients(request_id, 3)
    await store.create_request(new_request(request_id), to, f"test:{request_id}")
    await store.attempt_started(request_id, to[:1], 1)


async def unknown_reasons(bridge: Bridge, request_id: str) -> list[str | None]:
    rows = await bridge.runtime.store.recipients(request_id)
    assert [r.status for r in rows[1:]] == [RecipientStatus.SENT] * 2  # the rest, sent once
    return [r.reason for r in rows if r.status is RecipientStatus.UNKNOWN]


async def test_a_takeover_says_another_replica_took_over(bridge: Bridge) -> None:
    await interrupted(bridge, "RTAKEN01")
    record = await bridge.runtime.store.get_request("RTAKEN01")
    assert record is not None
    lease = Lease(group_id_of(record), bridge.runtime.service.ownership.replica_id, 1)
    await bridge.runtime.service._recovery.take_over(lease)  # what the lease watcher calls
    await bridge.idle()
    assert await unknown_reasons(bridge, "RTAKEN01") == [TAKEN_OVER_REASON]
    assert "restarted" not in TAKEN_OVER_REASON
    assert "another replica took over this send" in TAKEN_OVER_REASON


async def test_a_restart_still_says_the_bridge_restarted(bridge: Bridge) -> None:
    await interrupted(bridge, "RBOOTED1")
    assert await bridge.runtime.service.recover() == 1  # what start-up runs
    await bridge.idle()
    assert await unknown_reasons(bridge, "RBOOTED1") == [RESTARTED_REASON]
