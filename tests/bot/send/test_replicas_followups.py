"""Follow-ups across real ``python -m bot serve`` replicas on one PostgreSQL: a held send asked on
one replica is confirmed on another (or on both at once) and sends once; a delivery receipt for
a send made by one replica lands on another and the owner's root message shows it.

Skipped without ``BRIDGE_TEST_POSTGRES_URL`` like every PostgreSQL test (``store_backends``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from bridge_sandbox.slack.records import Ephemeral

from bot.slack import ids
from providers.talkntalk_receipts import talkntalk_signature
from tests.bot.crash_kit import ALICE, CROWD
from tests.bot.replica_kit import Replica, ReplicaRig, replica_config, start_replica_rig
from tests.bot.send.test_replicas import NUMBERS, TEXT, all_done, roots
from tests.bot.slack_steps import ephemeral_click
from tests.bot.store_backends import PostgresBackend

TNT_SECRET = "tnt-webhook-secret-REPLICAS-2"


@pytest.fixture
async def rig(
    tmp_path: Path, postgres_backend: PostgresBackend, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ReplicaRig]:
    """Replicas that hold sends over 10 recipients and take TalkNTalk receipts."""
    monkeypatch.setenv("TNT_WEBHOOK_SECRET", TNT_SECRET)  # the replicas inherit it
    config = replica_config(CROWD, confirm_over=10).replace(
        "    base_url: ${TNT_URL}\n",
        "    base_url: ${TNT_URL}\n    webhook_secret: ${TNT_WEBHOOK_SECRET}\n",
    )
    running = await start_replica_rig(tmp_path, postgres_backend.target, config, latency=0.05)
    try:
        yield running
    finally:
        await running.close()


async def held_prompt(rig: ReplicaRig, replica: Replica) -> Ephemeral:
    """``/send`` on ``replica`` to 20 people (over confirm_over): its Send/Cancel prompt."""
    assert await rig.slash(replica, TEXT) == 200
    return await rig.slack.state.wait_for(
        lambda s: next((e for e in s.ephemerals if e.user == ALICE and e.blocks), None),
        timeout=30,
    )


@pytest.mark.parametrize("clicked_on", ["other", "both"])
async def test_a_held_send_asked_on_one_replica_and_confirmed_on_another_sends_once(
    rig: ReplicaRig, clicked_on: str
) -> None:
    asked, other = await rig.start(2)
    prompt = await held_prompt(rig, asked)
    await rig.when(
        "SELECT state FROM requests",
        lambda rows: [r["state"] for r in rows] == ["held"],
        what="one held request",
    )
    assert rig.requested() == {}  # held: nothing before the click
    where = [other] if clicked_on == "other" else [asked, other]
    clicks = [ephemeral_click(rig.slack.state, prompt, ids.CONFIRM_SEND) for _ in where]
    statuses = await asyncio.gather(*(rig.post(r, c) for r, c in zip(where, clicks, strict=True)))
    assert statuses == [200] * len(where)
    await all_done(rig)
    assert set(rig.requested()) == NUMBERS
    assert set(rig.requested().values()) == {1}
    assert set(rig.delivered().values()) == {1}
    [root] = roots(rig)
    await rig.slack.state.wait_for(lambda s: "sent 20/20" in root.text, timeout=30)


async def receipt(replica: Replica, message_id: str) -> tuple[int, object]:
    body = json.dumps(
        {
            "event": "sms.delivered",
            "timestamp": "2026-05-20T11:31:02+03:00",
            "data": {"id": message_id, "mobile": "254700000100", "status": "delivered"},
        }
    ).encode()
    headers = {
        "X-TalkNTalk-Signature": "sha256=" + talkntalk_signature(TNT_SECRET, body),
        "X-TalkNTalk-Event": "sms.delivered",
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{replica.url}/webhooks/tnt", data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_a_receipt_for_one_replicas_send_arriving_at_another_shows_delivered(
    rig: ReplicaRig,
) -> None:
    rig.config_text = rig.config_text.replace("confirm_over: 10", "confirm_over: 50")
    sender, other = await rig.start(2)
    assert await rig.slash(sender, TEXT) == 200
    await all_done(rig)
    [root] = roots(rig)
    await rig.slack.state.wait_for(lambda s: "sent 20/20" in root.text, timeout=30)
    assert "delivered" not in root.text
    rows = await rig.fetch("SELECT provider_message_id FROM recipients")
    assert len(rows) == 20
    for row in rows:
        status, answer = await receipt(other, str(row["provider_message_id"]))
        assert (status, answer) == (200, {"ok": True, "applied": 1, "events": 1})
    await rig.when(
        "SELECT status FROM recipients",
        lambda rows: {r["status"] for r in rows} == {"delivered"},
        what="every recipient delivered",
    )
    await rig.slack.state.wait_for(lambda s: "delivered 20" in root.text, timeout=30)
    assert "sent 20/20" in root.text
    assert len(roots(rig)) == 1
