"""Record a notification, then start, update or end its group's page.

Why 202 waits for the store and nothing else: the source retries anything but a 2xx, so the
answer must mean "recorded", and it must come fast (Alertmanager times out and resends). The
notifications arriving together are recorded in one transaction (``bot.alerts.batcher``: a
storm is hundreds a second); a new paging group's page row is inserted in that same
transaction, due at once, so the group and its page are committed together before ``notify``
returns. The root message and step 1 then run in a task of their own (a few at a time: a
storm's opening burst must not hold the answers), so the first SMS leaves right after
recording, not at the scheduler's next tick. If the process dies first, the page is already
due: the scheduler of any replica runs it, and posts its root message. Under a storm limit the
page starts after the group (its count is taken under a lock), still before the answer.

Why the store decides everything: retries and replicas race. The firing group is unique per
key (one group, one page: ``alert:<group id>`` is the page's idempotency key), a page is ended
or acknowledged by a compare-and-set, and the group's page is recorded once.

Why a silence is decided before the group is inserted: the insert is the one statement that
races (retries, replicas), so a group is born silenced or not, whichever replica wins; a silenced
group is recorded and shown, and pages nobody. A repeat of it after its silence ended (expired,
or ``/send unsilence``) while it still fires starts its page then, as Alertmanager notifies once
a silence expires; the group's own message says so then, and already said, when the silence
ended, that it no longer holds (``bot.alerts.silence_ends``).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter
from slack_sdk.web.async_client import AsyncWebClient

from bot import metrics
from bot.alerts.batcher import Batcher
from bot.alerts.detail import alert_blocks, cut, detail_json
from bot.alerts.messages import GroupMessages
from bot.alerts.payloads import Notification
from bot.alerts.silence_ends import SilenceEnds
from bot.alerts.silences import silencing
from bot.alerts.stagger import Stagger
from bot.alerts.storm import SHOWN, storm_blocks, storm_text
from bot.alerts.text import fitted, title
from bot.paging import snapshot, watch
from bot.paging.service import PagingService, new_page_id
from bot.paging.slack import SOURCE
from bot.slack.mrkdwn import Block
from bot.store.alerts_base import AlertGroup, AlertNote, NewAlertGroup, Opening, Recorded
from bot.store.base import Store
from bot.store.pages_base import NewPage, PageRecord
from bot.store.silences_base import Silence
from bot.store.storms_sql import STORM_KEY
from config import Settings
from config.settings import Escalation, Integration

log = logging.getLogger(__name__)

NOTIFICATIONS = Counter(
    "bridge_alert_notifications_total",
    "Notifications from monitoring, by integration and what became of them: opened (a new "
    "group), silenced (a new group under a silence), repeated, resolved, acknowledged, or "
    "ignored (nothing firing under its key).",
    ["integration", "outcome"],
    registry=metrics.REGISTRY,
)
ALERT_KEY = "alert:"  # a group's own page's idempotency key: alert:<group id>
FOLLOW_UPS = 8  # page starts and Slack-only group messages under way at once
FOLLOW_UP_HOLD = 0.25  # seconds one of them may keep its place (a slow provider or Slack)


def group_hash(key: str) -> str:
    """A fixed-length key for the index, whatever the source's group key is (a groupKey of
    many labels can run to kilobytes)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_group_id() -> str:
    return "A" + secrets.token_hex(8).upper()


def _group_page(
    group_id: str,
    policy: Escalation,
    text: str,
    channel: str | None,
    at: datetime,
    urgency: str | None,
) -> NewPage:
    """A group's own page: one per group, whichever delivery or replica starts it first (its
    key is ``alert:<group id>``)."""
    return NewPage(
        new_page_id(),
        policy.name,
        text,
        None,
        channel,
        at,
        f"{ALERT_KEY}{group_id}",
        snapshot.to_json(policy, urgency),
    )


def _storm(page: PageRecord) -> bool:
    """A storm's page (``_join_storm``), told by its idempotency key."""
    return (page.idempotency_key or "").startswith(STORM_KEY)


class AlertService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        paging: PagingService,
        client: AsyncWebClient,
        clock: Callable[[], datetime],
        update_gap: float = 5.0,
    ) -> None:
        self.settings = settings
        self.store = store
        self.paging = paging
        self.client = client
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        # Page starts and Slack-only messages of new groups, a few at a time (``Stagger``).
        self._stagger = Stagger(FOLLOW_UPS, FOLLOW_UP_HOLD)
        self.messages = GroupMessages(store, client, self._later, clock, self._stagger)
        self.silence_ends = SilenceEnds(store, self.messages, clock)
        # Repeats update a group's message at most once per ``update_gap`` seconds: a storm of
        # repeats would otherwise cost a Slack update each (Slack rate-limits chat.update, and
        # the updates, not the recording, were most of a storm's cost). Key -> an update held
        # for the end of the gap (None: in a gap, nothing held).
        self.update_gap = update_gap
        self._held: dict[str, Callable[[], None] | None] = {}
        # Notifications arriving together are recorded in one transaction (group commit).
        self.recorder: Batcher[AlertNote, Recorded] = Batcher(store.record_alert_notes)

    async def notify(self, integration: Integration, note: Notification) -> None:
        """Record ``note``; returns once it is in the store (what a 202 promises), and, for a
        group's first notification or a resolve, its page started or ended."""
        if note.action == "acknowledge":
            await self._acknowledge(integration, note)
            return
        now = self.clock()
        if note.action == "trigger":
            detail = detail_json(integration.kind, note)
            item = AlertNote(
                integration.name,
                group_hash(note.group_key),
                now,
                detail,
                functools.partial(self._new_group, integration, note, now, detail),
            )
        else:
            last = detail_json(integration.kind, note) if note.alerts else None
            item = AlertNote(integration.name, group_hash(note.group_key), now, last, None)
        recorded = await self.recorder.submit(item)  # with those arriving alongside: one commit
        if note.action == "trigger":
            await self._fired(integration, note, recorded)
        else:
            await self._resolved(integration, recorded.group)

    # --- firing ---------------------------------------------------------------------------------

    def _new_group(
        self,
        integration: Integration,
        note: Notification,
        now: datetime,
        detail: str,
        silences: Sequence[Silence],
    ) -> Opening:
        """The group ``note`` opens if nothing fires under its key, and the page it starts with
        it (made inside the batch's transaction, with the silences in force there: only a new
        group pays for its text). An integration with a storm limit starts its page after
        (``_start_page``: the limit is counted under a lock)."""
        route = integration.route(note.labels)
        escalation = route.escalation if route is not None else None
        policy = self.settings.escalations.get(escalation) if escalation else None
        text = title(note, route.severity if route is not None else None)
        if policy is not None:
            text = fitted(self.settings, policy, text, self.paging.command, self.paging.links)
        silence = silencing(silences, note)
        group = NewAlertGroup(
            new_group_id(),
            integration.name,
            group_hash(note.group_key),
            cut(note.group_key, 300),
            escalation,
            text,
            detail,
            now,
            integration.announce_in,
            silence.silence_id if silence is not None else None,
        )
        if policy is None or silence is not None or integration.storm is not None:
            return group, None
        urgency = route.urgency if route is not None else None
        return group, _group_page(
            group.group_id, policy, text, integration.announce_in, now, urgency
        )

    async def _fired(
        self, integration: Integration, note: Notification, recorded: Recorded
    ) -> None:
        group, created = recorded.group, recorded.created
        assert group is not None  # a firing notification always has its group
        outcome = ("silenced" if group.silence_id else "opened") if created else "repeated"
        NOTIFICATIONS.labels(integration.name, outcome).inc()
        if created:
            log.info(
                "alert group %s opened by %s: %s",
                group.group_id,
                integration.name,
                "silenced by " + group.silence_id
                if group.silence_id
                else "paging through " + group.escalation
                if group.escalation
                else "posted in Slack only",
            )
        still_silenced = False
        if group.silence_id is not None and group.page_id is None:
            if created:
                still_silenced = True
            else:  # a repeat of a silenced group: does a silence still hold it?
                now = self.clock()
                holding = silencing(await self.store.active_silences(integration.name, now), note)
                still_silenced = holding is not None
                if holding is not None and holding.silence_id != group.silence_id:
                    # its silence ended and another holds it now: the group names the new one
                    await self.store.set_alert_group_silence(group.group_id, holding.silence_id)
        if created and group.page_id is not None:  # its page started with it: root and step 1
            self._later(self._begin(group.page_id), f"alert-page-{group.page_id}")
        elif still_silenced:
            self.messages.show_later(group.group_id)  # still silenced: recorded and shown, no page
        elif group.escalation is not None and group.page_id is None:
            route = integration.route(note.labels)  # its urgency is the page's
            urgency = route.urgency if route is not None else None
            await self._start_page(group, integration, urgency)  # new, or its start cut off
        elif group.page_id is not None:
            page_id = group.page_id  # its root shows the count, last seen
            self._update_soon(page_id, lambda: self.paging.refresh_later(page_id))
        elif created:
            self.messages.show_later(group.group_id)
        else:
            group_id = group.group_id
            self._update_soon(group_id, lambda: self.messages.show_later(group_id))

    def _update_soon(self, key: str, update: Callable[[], None]) -> None:
        """``update`` now if no update of ``key`` ran within the gap, else once at its end."""
        if self.update_gap <= 0:
            update()
        elif key in self._held:
            self._held[key] = update
        else:
            update()
            self._held[key] = None
            self._later(self._end_gap(key), f"alert-gap-{key}")

    async def _end_gap(self, key: str) -> None:
        await asyncio.sleep(self.update_gap)
        held = self._held.pop(key, None)
        if held is not None:
            self._update_soon(key, held)

    async def _start_page(
        self, group: AlertGroup, integration: Integration, urgency: str | None = None
    ) -> None:
        """Page for ``group``; ``urgency`` (its route's, None: the escalation's) is the page's."""
        policy = self.settings.escalations.get(group.escalation or "")
        if policy is None:  # removed from the config since the group was recorded
            self.messages.show_later(group.group_id)
            return
        new = _group_page(
            group.group_id, policy, group.title, group.slack_channel, self.clock(), urgency
        )
        storm = integration.storm  # page caps do not apply: storms are the alerts' own limit
        page = await self.store.start_alert_page(
            new,
            integration.name,
            storm.max_pages if storm else None,
            storm.per if storm else timedelta(0),
        )
        if page is None:
            await self._join_storm(group, integration, urgency)
            return
        await self.store.set_alert_group_page(group.group_id, page.page_id)
        if group.silence_id is not None:  # its silence ended: its own message says it pages now
            self.messages.show_later(group.group_id)
        if page.page_id != new.page_id:
            return  # started by an earlier delivery (or replica): its root and step 1 are its
        watch.started(self.settings, page)
        after = await self.store.alert_group(group.group_id)
        if after is not None and after.state == "resolved":  # resolved while it was started
            await self._end_page(after, page.page_id)
            return
        self._later(self.paging.begin(page), f"alert-page-{page.page_id}")

    async def _begin(self, page_id: str) -> None:
        """A page started with its group: its root message and step 1, now (unless a resolve
        ended it first)."""
        async with self._stagger.place():
            page = await self.store.get_page(page_id)
            if page is None or page.state != "active":
                return
            watch.started(self.settings, page)
            await self.paging.begin(page)

    async def _join_storm(
        self, group: AlertGroup, integration: Integration, urgency: str | None = None
    ) -> None:
        """Past the storm limit: the group joins its integration's storm page (opened by the
        first such group, paging once through that group's escalation)."""
        policy = self.settings.escalations[group.escalation or ""]
        assert integration.storm is not None
        text = fitted(
            self.settings,
            policy,
            storm_text(integration),
            self.paging.command,
            self.paging.links,
        )
        page_id = new_page_id()
        new = NewPage(
            page_id,
            policy.name,
            text,
            None,
            integration.announce_in,
            self.clock(),
            f"{STORM_KEY}{integration.name}:{page_id}",
            snapshot.to_json(policy, urgency),
        )
        page = await self.store.open_storm_page(new, integration.name, integration.storm.per)
        await self.store.set_alert_group_page(group.group_id, page.page_id)
        log.info("alert group %s joined the storm page %s", group.group_id, page.page_id)
        after = await self.store.alert_group(group.group_id)
        if after is not None and after.state == "resolved":  # resolved while it joined
            await self._end_page(after, page.page_id)
        if page.page_id == page_id:
            watch.started(self.settings, page)
            self._later(self.paging.begin(page), f"alert-storm-{page.page_id}")
        else:
            self.paging.refresh_later(page.page_id)

    # --- resolve and acknowledge -----------------------------------------------------------------

    async def _resolved(self, integration: Integration, group: AlertGroup | None) -> None:
        NOTIFICATIONS.labels(integration.name, "resolved" if group else "ignored").inc()
        if group is None:
            return  # nothing fires under that key: resolved before, or never seen
        log.info("alert group %s resolved at the source (%s)", group.group_id, integration.name)
        if group.page_id is not None:
            await self._end_page(group, group.page_id)
        else:
            self.messages.show_later(group.group_id)

    async def _end_page(self, group: AlertGroup, page_id: str) -> None:
        page = await self.store.get_page(page_id)
        if page is not None and _storm(page):
            left = await self.store.alert_groups_of_page(page_id, 0)
            if left.firing:  # the storm goes on: its list shows this one resolved
                self.paging.refresh_later(page_id)
                return
        words = f"resolved at the source ({group.integration})"
        await self.paging.end_at_source(page_id, group.integration, words)

    async def _acknowledge(self, integration: Integration, note: Notification) -> None:
        group = await self.store.firing_alert_group(integration.name, group_hash(note.group_key))
        NOTIFICATIONS.labels(integration.name, "acknowledged" if group else "ignored").inc()
        if group is None or group.page_id is None:
            return
        page = await self.store.get_page(group.page_id)
        if page is None or _storm(page):
            return  # one group of a storm does not acknowledge the storm's page
        by, at = SOURCE + integration.name, self.clock()
        if await self.store.acknowledge_page(group.page_id, by, at):
            page = await self.store.get_page(group.page_id)
            if page is not None:
                watch.acknowledged(self.settings, page, by, at, "events-v2")
            await self.paging.engine.event(
                group.page_id, "acknowledged", f"acknowledged at the source ({integration.name})"
            )
            self.paging.refresh_later(group.page_id)

    # --- Slack ----------------------------------------------------------------------------------

    async def page_blocks(self, page: PageRecord) -> list[Block]:
        """The alert's part of its page's root message (nothing for a page typed by hand)."""
        if _storm(page):
            return storm_blocks(await self.store.alert_groups_of_page(page.page_id, SHOWN))
        if page.idempotency_key is None or not page.idempotency_key.startswith(ALERT_KEY):
            return []
        group = await self.store.alert_group_of_page(page.page_id)
        return alert_blocks(group) if group is not None else []

    # --- tasks ----------------------------------------------------------------------------------

    def _later(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(self._logged(work), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _logged(work: Coroutine[Any, Any, None]) -> None:
        try:
            await work
        except Exception:
            log.exception("an alert's follow-up failed; the paging scheduler picks it up")

    async def wait_idle(self) -> None:
        await self.recorder.wait_idle()
        while self._tasks:
            await asyncio.wait(list(self._tasks))
