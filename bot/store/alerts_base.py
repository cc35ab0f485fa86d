"""The alert group record's interface: what ``bot.alerts`` reads and writes, on either store.

Why a unique key on the firing group: Alertmanager retries on any non-2xx and may deliver one
notification to two replicas at once. ``(integration, group_hash)`` is unique among firing
groups, so however many requests race, one inserts the group (and starts its page) and the
others count as repeats. A resolved group leaves that key free: firing again is a new group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from bot.store.heartbeats_base import HeartbeatStore
from bot.store.pages_base import NewPage, PageRecord
from bot.store.silences_base import Silence, SilenceStore

AlertState = Literal["firing", "resolved"]


@dataclass(frozen=True)
class NewAlertGroup:
    group_id: str
    integration: str
    group_hash: str  # sha256 of the source's group key (groupKey, dedup_key): fixed length
    group_key: str  # as the source sent it, cut to be shown
    escalation: str | None  # the route's; None: Slack only
    title: str  # "[severity] summary": the page's text
    detail: str  # JSON the Slack message is made from (labels, alerts, links), already cut
    at: datetime
    slack_channel: str
    silence_id: str | None = None  # the silence in force when it began: it pages nobody


@dataclass(frozen=True)
class AlertGroup:
    group_id: str
    integration: str
    group_hash: str
    group_key: str
    state: AlertState
    escalation: str | None
    page_id: str | None
    title: str
    detail: str
    count: int  # notifications received while it fired (the first one included)
    first_at: datetime
    last_at: datetime
    resolved_at: datetime | None
    slack_channel: str
    root_ts: str | None  # a Slack-only group's own message (a paging group uses its page's)
    silence_id: str | None = None  # silenced when it began (v12)


# A new group, and the page it starts in the same transaction (None: it pages nobody, or its
# page starts after it: an integration with a storm limit counts its pages under a lock).
Opening = tuple[NewAlertGroup, NewPage | None]


@dataclass(frozen=True)
class AlertNote:
    """One notification to record: firing (``opening`` makes its group if none fires under the
    key, given the silences in force, with the page it starts, if it pages from the start) or
    resolved (``opening`` None)."""

    integration: str
    group_hash: str
    at: datetime
    detail: str | None  # firing: always; resolved: the last state, or None to keep the old
    opening: Callable[[Sequence[Silence]], Opening] | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.integration, self.group_hash)


@dataclass(frozen=True)
class Recorded:
    """What became of one recorded notification: its group after it (None: a resolve with
    nothing firing under its key), and whether it opened that group."""

    group: AlertGroup | None
    created: bool


@dataclass(frozen=True)
class FiringGroup:
    """A firing group for ``/send alerts``, with its page's state (None: no page)."""

    group: AlertGroup
    page_state: str | None


@dataclass(frozen=True)
class PageGroups:
    """The groups a page stands for (a storm page: many), the firing first; and the counts."""

    groups: list[AlertGroup]
    total: int
    firing: int


class AlertStore(SilenceStore, HeartbeatStore, Protocol):
    """The ``alert_groups`` table (migration v11). Every write commits before it returns."""

    async def record_alert_notes(self, notes: Sequence[AlertNote]) -> list[Recorded]:
        """Record many notifications in one transaction (``alerts_batch_sql``): what became of
        each, in order. A firing one opens a group (created) or repeats the group firing under
        its key (its count, last seen and detail updated); a resolve ends that group (with its
        detail if given), or finds none firing (never seen, or resolved already: nothing to
        do). All or none: an error leaves nothing of them recorded. The only way notifications
        are written: one path to keep right under retries and replicas."""
        ...

    async def firing_alert_group(self, integration: str, group_hash: str) -> AlertGroup | None: ...

    async def alert_group(self, group_id: str) -> AlertGroup | None: ...

    async def firing_alert_groups(self, limit: int) -> tuple[list[FiringGroup], int]:
        """Up to ``limit`` firing groups, the latest seen first, and how many fire in all."""
        ...

    async def alert_group_of_page(self, page_id: str) -> AlertGroup | None: ...

    async def set_alert_group_silence(self, group_id: str, silence_id: str) -> bool:
        """A group whose silence ended, held again by another silence while it fires with no
        page: it names the new one (its message and ``/send alerts`` show it). True if so."""
        ...

    async def unsilenced_groups(self, since: datetime | None, now: datetime) -> list[AlertGroup]:
        """Groups still firing, with no page, whose silence ended (expired, or ended by hand)
        after ``since`` (None: ever) and by ``now``: their messages must stop saying
        "silenced"."""
        ...

    async def alert_groups_of_page(self, page_id: str, limit: int) -> PageGroups: ...

    async def start_alert_page(
        self, page: NewPage, integration: str, max_pages: int | None, per: timedelta
    ) -> PageRecord | None:
        """Start a group's page (its key is ``alert:<group id>``: a second start returns the
        first) unless ``max_pages`` alert pages of ``integration`` started within ``per``
        before it (None: the storm limit is reached; no limit when ``max_pages`` is None)."""
        ...

    async def open_storm_page(
        self, page: NewPage, integration: str, ack_window: timedelta
    ) -> PageRecord:
        """The integration's open storm page: one active, or acknowledged within
        ``ack_window``; ``page`` is started when there is none (its key ``storm:<name>:…``)."""
        ...

    async def set_alert_group_page(self, group_id: str, page_id: str) -> bool:
        """The group's page, recorded once (the first stays): True if this one was."""
        ...

    async def set_alert_group_root(self, group_id: str, channel: str, ts: str) -> bool:
        """A Slack-only group's message, recorded once: True if this one was."""
        ...

    async def end_page_at_source(self, page_id: str, by: str, at: datetime) -> bool:
        """The source resolved the page's alert: ``ended`` (no later step runs), with ``by``
        saying so. True if this moved the page from active."""
        ...
