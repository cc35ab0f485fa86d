"""The paging engine on its own: ``next_move`` and ``Engine`` over the real SQLite store (a temp
file), the real planner (policy and the provider's local checks), and a clock the test moves.

Why no bridge: the end-to-end paging tests (``test_paging_*.py``) boot Slack, the emulators and
a scheduler loop; here each move and each edge is driven one call at a time. The only stand-in
is the engine's send seam (``PageSends``): ``RecordingSends`` records each send in the store as
``SendService.submit`` does (same request row, same idempotency key) and sends nothing, so the
test decides what became of it (failed, delivered, still out) through the store's own writes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

import config
from bot.accounts import open_accounts
from bot.dispatch import Dispatcher
from bot.paging.engine import LEASE, Engine, Move, next_move
from bot.paging.states import PageState, state_of
from bot.plan import Planner
from bot.store import SQLiteStore
from bot.store.base import NewRequest, Store
from bot.store.pages_base import NewPage, PageRecord
from bot.values import Origin, Plan, RecipientStatus, Submission
from config import Settings
from providers.base import Outcome, OutcomeStatus
from tests.bot.paging_kit import Clock

START = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
ALICE_SMS = "+254712345678"
ALICE_WA = "+254712345679"
BOB_SMS = "+254700000002"

CONFIG = """\
defaults:
  country: KE
providers:
  tnt:
    type: talkntalk
    api_key: ${TNT_KEY}
    webhook_secret: ${TNT_SECRET}
  quiet:
    type: talkntalk
    api_key: ${QUIET_KEY}
people:
  alice: {phone: "+254712345678", whatsapp: "+254712345679"}
  bob: {phone: "+254700000002"}
channels:
  sms:
    provider: tnt
    service: sms
    sender_id: ACME
    allow_adhoc: true
    allowed_senders: [U0SRE0001]
  wa:
    provider: tnt
    service: whatsapp
    session_id: 3fa85f64-5717-4562-b3fc-2c963f66afa6
    allow_adhoc: true
    allowed_senders: [U0SRE0001]
  sms-quiet:
    provider: quiet
    service: sms
    sender_id: ACME
    allow_adhoc: true
    allowed_senders: [U0SRE0001]
escalations:
  db:
    allowed_senders: [U0SRE0001]
    steps:
      - {notify: [alice], via: [sms, wa], wait: 5m}
      - {notify: [bob], via: [sms], wait: 10m}
    repeat: 1
    fallback_after: 2m
  quiet:
    allowed_senders: [U0SRE0001]
    steps:
      - {notify: [alice], via: [sms-quiet, wa], wait: 5m}
    fallback_after: 2m
"""


@dataclass(frozen=True)
class Sent:
    key: str
    channel: str
    address: str
    request_id: str


class RecordingSends:
    """The engine's ``PageSends``: records each send in the store as ``SendService`` does
    (one request per key, the second submit of a key gets the first's id back) and keeps what
    was asked, in order. Nothing leaves the process."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sent: list[Sent] = []

    async def submit(
        self, plans: Sequence[Plan], origin: Origin, *, idempotency_key: str, confirmed: bool
    ) -> Submission:
        (plan,) = plans
        new = NewRequest(
            request_id=plan.request_id,
            surface=origin.surface,
            user_id=origin.user_id,
            channel=plan.channel,
            account=plan.account,
            route=plan.route,
            message=plan.message,
            title=origin.title,
        )
        record, created = await self.store.create_request(new, plan.recipients, idempotency_key)
        if created:
            address = plan.recipients[0].address
            self.sent.append(Sent(idempotency_key, plan.channel, address, record.request_id))
        return Submission(record.request_id, (record.request_id,), created, 1)

    def to(self) -> list[tuple[str, str]]:
        return [(s.channel, s.address) for s in self.sent]


@dataclass
class Kit:
    settings: Settings
    store: Store
    sends: RecordingSends
    clock: Clock
    engine: Engine

    async def start(self, escalation: str = "db") -> PageRecord:
        new = NewPage("PTEST0001", escalation, "DB down", "U0SRE0001", None, self.clock())
        page = await self.store.create_page(new)
        assert await self.engine.run_due(page)
        return await self.page()

    async def page(self) -> PageRecord:
        page = await self.store.get_page("PTEST0001")
        assert page is not None
        return page

    async def tick(self) -> int:
        """The scheduler's moves (its fallback pass is ``fall_back``): run what is due."""
        moved = 0
        for page in await self.store.due_pages(self.clock()):
            moved += await self.engine.run_due(page)
        return moved

    async def fall_back(self) -> None:
        """The scheduler's fallback pass over the active pages."""
        for page in await self.store.active_pages():
            await self.engine.fallbacks(page)

    async def events(self) -> list[str]:
        return [e.text for e in await self.store.page_events("PTEST0001")]

    async def outcome(self, sent: Sent, status: OutcomeStatus, reason: str | None = None) -> None:
        """What the provider answered for a send, written as the send path writes it."""
        (recipient,) = await self.store.recipients(sent.request_id)
        sent_to = recipient.to_recipient()
        await self.store.attempt_started(sent.request_id, [sent_to], 1)
        await self.store.outcomes_recorded(
            sent.request_id,
            [Outcome(recipient=sent_to, status=status, reason=reason, provider_message_id="m1")],
        )


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    path = tmp_path / "bridge.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    env = {"TNT_KEY": "k1", "TNT_SECRET": "receipts-secret-0001", "QUIET_KEY": "k2"}
    settings = config.load(path, env, now=START)
    clock = Clock(START)
    async with (
        SQLiteStore(tmp_path / "bridge.db") as store,
        open_accounts(settings.providers) as accounts,
    ):
        planner = Planner(settings, Dispatcher(accounts))
        sends = RecordingSends(store)
        engine = Engine(settings, store, planner, sends, clock, None, "/send")
        yield Kit(settings, store, sends, clock, engine)


# --- next_move: the order of moves, from the record alone -------------------------------------


def _at(round_: int, step: int) -> PageRecord:
    """A page record at (round, step); ``next_move`` reads nothing else."""
    return PageRecord(
        page_id="P1",
        escalation="db",
        text="t",
        sender=None,
        slack_channel=None,
        root_ts=None,
        state="active",
        round=round_,
        step=step,
        next_at=None,
        version=0,
        created_at=START,
        acknowledged_by=None,
        acknowledged_at=None,
        ended_at=None,
    )


async def test_next_move_walks_the_steps_then_repeats_then_ends(kit: Kit) -> None:
    db = kit.settings.escalations["db"]  # 2 steps, repeat: 1
    assert next_move(_at(0, -1), db) == Move(0, 0)  # not started: the first step
    assert next_move(_at(0, 0), db) == Move(0, 1)
    assert next_move(_at(0, 1), db) == Move(1, 0)  # past the last step: repeat
    assert next_move(_at(1, 0), db) == Move(1, 1)
    assert next_move(_at(1, 1), db) == Move(1, 1, end=True)  # no repeats left


# --- the engine's moves ------------------------------------------------------------------------


async def test_first_step_pages_now_and_is_due_again_after_its_wait(kit: Kit) -> None:
    page = await kit.start()
    assert kit.sends.to() == [("sms", ALICE_SMS)]
    assert kit.sends.sent[0].key == "page:PTEST0001:0:0:alice:0"
    assert (page.state, page.round, page.step) == (PageState.ACTIVE, 0, 0)
    assert page.next_at == START + timedelta(minutes=5)
    assert await kit.events() == ["paged {alice} by sms"]


async def test_next_step_runs_only_once_its_wait_is_over(kit: Kit) -> None:
    await kit.start()
    kit.clock.advance(timedelta(minutes=4, seconds=59))
    assert await kit.tick() == 0
    assert kit.sends.to() == [("sms", ALICE_SMS)]
    kit.clock.advance(timedelta(seconds=1))
    assert await kit.tick() == 1
    assert kit.sends.to() == [("sms", ALICE_SMS), ("sms", BOB_SMS)]
    page = await kit.page()
    assert (page.round, page.step) == (0, 1)
    assert page.next_at == START + timedelta(minutes=15)  # the last step's own wait: 10m
    assert (await kit.events())[-2:] == ["escalated to step 2", "paged {bob} by sms"]


async def test_after_the_last_step_the_page_repeats_from_step_one(kit: Kit) -> None:
    await kit.start()
    kit.clock.advance(timedelta(minutes=5))
    await kit.tick()
    kit.clock.advance(timedelta(minutes=10))
    assert await kit.tick() == 1
    page = await kit.page()
    assert (page.state, page.round, page.step) == (PageState.ACTIVE, 1, 0)
    assert kit.sends.sent[-1].key == "page:PTEST0001:1:0:alice:0"
    assert kit.sends.to()[-1] == ("sms", ALICE_SMS)
    assert "nobody answered: repeat 1" in await kit.events()


async def test_after_the_last_repeat_the_page_ends_unanswered(kit: Kit) -> None:
    await kit.start()
    for wait in (5, 10, 5, 10):
        kit.clock.advance(timedelta(minutes=wait))
        assert await kit.tick() == 1
    assert len(kit.sends.sent) == 4  # two rounds of two steps
    page = await kit.page()
    assert state_of(page) is PageState.ENDED
    assert page.ended_at == START + timedelta(minutes=30)
    assert (await kit.events())[-1] == "ended unanswered"
    kit.clock.advance(timedelta(hours=1))
    assert await kit.tick() == 0
    assert len(kit.sends.sent) == 4


async def test_an_acknowledged_page_makes_no_more_moves(kit: Kit) -> None:
    await kit.start()
    assert await kit.store.acknowledge_page("PTEST0001", "slack:U0SRE0001", kit.clock())
    kit.clock.advance(timedelta(hours=1))
    assert await kit.tick() == 0
    assert kit.sends.to() == [("sms", ALICE_SMS)]


async def test_an_ack_committed_between_claim_and_move_stops_the_page_there(kit: Kit) -> None:
    """The claim was taken while the page was active, so the move's sends go; the ack wins
    the record: the page is not advanced, nothing is due after it, and no step follows."""
    await kit.start()
    kit.clock.advance(timedelta(minutes=5))
    (due,) = await kit.store.due_pages(kit.clock())
    real = kit.store

    class AckAfterClaim:
        """The real store, but an ack lands the moment the move is claimed."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        async def claim_page(
            self, page_id: str, version: int, now: datetime, until: datetime
        ) -> PageRecord | None:
            claimed = await real.claim_page(page_id, version, now, until)
            assert await real.acknowledge_page(page_id, "slack:U0BOB", now)
            return claimed

    kit.engine.store = cast(Store, AckAfterClaim())
    assert await kit.engine.run_due(due)
    kit.engine.store = real
    page = await kit.page()
    assert (page.state, page.acknowledged_by) == (PageState.ACKNOWLEDGED, "slack:U0BOB")
    assert (page.round, page.step) == (0, 0)  # the move did not commit
    assert kit.sends.to() == [("sms", ALICE_SMS), ("sms", BOB_SMS)]
    kit.clock.advance(timedelta(hours=1))
    assert await kit.tick() == 0
    assert len(kit.sends.sent) == 2


async def test_a_move_claimed_by_another_process_is_not_run_twice(kit: Kit) -> None:
    await kit.start()
    kit.clock.advance(timedelta(minutes=5))
    (due,) = await kit.store.due_pages(kit.clock())
    other = await kit.store.claim_page(due.page_id, due.version, kit.clock(), kit.clock() + LEASE)
    assert other is not None
    assert not await kit.engine.run_due(due)
    assert kit.sends.to() == [("sms", ALICE_SMS)]


# --- fallback between a step's channels --------------------------------------------------------


async def test_a_failed_send_falls_back_to_the_next_channel(kit: Kit) -> None:
    await kit.start()
    await kit.outcome(kit.sends.sent[0], OutcomeStatus.FAILED, "number barred")
    await kit.fall_back()
    assert kit.sends.to() == [("sms", ALICE_SMS), ("wa", ALICE_WA)]
    assert kit.sends.sent[1].key == "page:PTEST0001:0:0:alice:1"
    events = await kit.events()
    assert "paging {alice} by sms failed: number barred" in events
    assert events[-1] == "{alice}: fell back to wa"
    await kit.fall_back()  # the fallback is taken once
    assert len(kit.sends.sent) == 2


async def test_not_delivered_within_fallback_after_falls_back_on_a_channel_with_receipts(
    kit: Kit,
) -> None:
    await kit.start()
    await kit.outcome(kit.sends.sent[0], OutcomeStatus.SENT)  # accepted, no receipt yet
    kit.clock.advance(timedelta(minutes=1, seconds=59))
    await kit.fall_back()
    assert kit.sends.to() == [("sms", ALICE_SMS)]
    kit.clock.advance(timedelta(seconds=1))  # fallback_after: 2m
    await kit.fall_back()
    assert kit.sends.to() == [("sms", ALICE_SMS), ("wa", ALICE_WA)]


async def test_a_delivered_send_does_not_fall_back(kit: Kit) -> None:
    await kit.start()
    first = kit.sends.sent[0]
    await kit.outcome(first, OutcomeStatus.SENT)
    (recipient,) = await kit.store.recipients(first.request_id)
    applied = await kit.store.apply_status(
        "tnt", status=RecipientStatus.DELIVERED, event_key="dlr-1", ref=recipient.ref
    )
    assert applied is not None
    kit.clock.advance(timedelta(minutes=3))
    await kit.fall_back()
    assert kit.sends.to() == [("sms", ALICE_SMS)]


async def test_no_fallback_on_time_where_the_channel_has_no_receipts(kit: Kit) -> None:
    await kit.start("quiet")
    await kit.outcome(kit.sends.sent[0], OutcomeStatus.SENT)
    kit.clock.advance(timedelta(minutes=4))  # past fallback_after, before the next step
    await kit.fall_back()
    assert kit.sends.to() == [("sms-quiet", ALICE_SMS)]


async def test_a_failure_on_the_last_channel_is_told_not_fallen_back(kit: Kit) -> None:
    await kit.start()
    kit.clock.advance(timedelta(minutes=5))
    await kit.tick()  # step 2: bob, by sms only
    bob = kit.sends.sent[1]
    await kit.outcome(bob, OutcomeStatus.FAILED, "unreachable")
    await kit.fall_back()
    assert len(kit.sends.sent) == 2
    assert (await kit.events())[-1] == "paging {bob} by sms failed: unreachable"
