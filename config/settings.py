"""The resolved configuration callers use: every reference followed, every number in E.164.

Built only from a file with no problems, so callers never re-check names, numbers or routes.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from config.schedules import Schedule
from config.schema import DEFAULT_MAX_SMS_PARTS, BridgeConfig, DefaultsConfig
from providers import AnyProviderConfig
from providers.base import MessageType, Route, Service

TEMPLATE_FIELDS = ("severity", "text", "sender")


def _unknown(kind: str, name: str, known: Iterable[str]) -> KeyError:
    names = ", ".join(known) or "none"
    return KeyError(f"unknown {kind} {name!r} — defined {kind}s: {names}")


@dataclass(frozen=True)
class Senders:
    """Who may use something: Slack user ids and usergroup ids, expanded from sender groups."""

    users: frozenset[str]
    usergroups: frozenset[str]

    def allows(self, user_id: str, usergroups: Iterable[str] = ()) -> bool:
        """``usergroups``: the ids of the groups the user belongs to (looked up by the caller)."""
        return user_id in self.users or not self.usergroups.isdisjoint(usergroups)


@dataclass(frozen=True)
class ResolvedChannel:
    """One outbound channel, ready to send through."""

    name: str
    provider_name: str
    provider_type: str
    route: Route
    recipients: tuple[str, ...]  # E.164 numbers, group ids, tag:N; deduplicated, in file order
    message_types: frozenset[MessageType]
    allowed_users: frozenset[str]
    allowed_usergroups: frozenset[str]
    slack_channels: tuple[str, ...] | None  # None: anywhere
    allow_adhoc: bool
    allowed_senders: tuple[str, ...]  # as written (group names, ids), for display
    max_sms_parts: int = DEFAULT_MAX_SMS_PARTS  # sms channels: the channel's own, else defaults'

    @property
    def service(self) -> Service:
        return self.route.service

    @property
    def senders(self) -> Senders:
        return Senders(self.allowed_users, self.allowed_usergroups)

    def usable_in(self, slack_channel: str | None) -> bool:
        """May this channel be used from that Slack channel?"""
        return self.slack_channels is None or slack_channel in self.slack_channels

    def allows_sender(self, user_id: str, usergroups: Iterable[str] = ()) -> bool:
        return self.senders.allows(user_id, usergroups)


@dataclass(frozen=True)
class ResolvedBroadcast:
    """An on-call broadcast preset."""

    name: str
    title: str
    channels: tuple[str, ...]
    template: str
    severities: tuple[str, ...]
    allowed_users: frozenset[str]
    allowed_usergroups: frozenset[str]
    announce_in: str
    allowed_senders: tuple[str, ...]
    escalation: str | None = None  # pages through it instead of sending through channels

    @property
    def senders(self) -> Senders:
        return Senders(self.allowed_users, self.allowed_usergroups)

    def allows_sender(self, user_id: str, usergroups: Iterable[str] = ()) -> bool:
        return self.senders.allows(user_id, usergroups)

    def render(self, *, severity: str, text: str, sender: str) -> str:
        """The message text; the template was checked to use only these placeholders."""
        return string.Formatter().vformat(
            self.template, (), {"severity": severity, "text": text, "sender": sender}
        )


@dataclass(frozen=True)
class Reach:
    """One of a person's contact rules: by ``via``, ``after`` the page first reaches them."""

    via: str
    after: timedelta = timedelta(0)


@dataclass(frozen=True)
class Quiet:
    """Daily hours (``since`` to ``until``, may cross midnight) in ``timezone``."""

    since: time
    until: time
    timezone: ZoneInfo


@dataclass(frozen=True)
class Canary:
    """A test message through ``channel`` to ``to`` every ``every`` (at ``at`` in ``timezone``
    when given), judged within ``within``; failures are posted in ``announce_in``."""

    channel: str
    to: str
    every: timedelta
    at: time | None
    timezone: ZoneInfo
    within: timedelta
    announce_in: str


@dataclass(frozen=True)
class Person:
    """Someone who can be paged; numbers in E.164 (``whatsapp`` defaults to ``phone``)."""

    name: str
    phone: str | None
    slack: str | None
    whatsapp: str | None
    reach: tuple[Reach, ...] = ()  # their own rules, in order; () = the step's via
    quiet: Quiet | None = None


@dataclass(frozen=True)
class Target:
    """One ``notify`` entry: a person, ``schedule:NAME`` (whoever is on call then) or a list."""

    kind: str  # "person" | "schedule" | "contacts"
    name: str


@dataclass(frozen=True)
class Step:
    notify: tuple[Target, ...]
    via: tuple[str, ...]  # channel names, tried in order
    wait: timedelta


@dataclass(frozen=True)
class Escalation:
    """An escalation policy, fully checked; `/send page NAME` runs it (bot.paging)."""

    name: str
    steps: tuple[Step, ...]
    repeat: int
    fallback_after: timedelta | None
    allowed_users: frozenset[str]
    allowed_usergroups: frozenset[str]
    allowed_senders: tuple[str, ...]
    # "high" or "low": a low page is held for a person in their quiet hours (bot.paging.quiet).
    urgency: str = "high"


@dataclass(frozen=True)
class AlertRoute:
    """First match wins: every ``match`` label equal; ``escalation`` None pages nobody;
    ``urgency`` (None: the escalation's) is the urgency of the pages it starts."""

    match: tuple[tuple[str, str], ...]
    escalation: str | None
    severity: str | None
    urgency: str | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match)


@dataclass(frozen=True)
class Storm:
    max_pages: int
    per: timedelta


@dataclass(frozen=True, repr=False)
class Integration:
    """A monitoring source, fully checked (``bot.alerts``). ``key`` is a secret: the repr
    leaves it out, and nothing may log, store or show it."""

    name: str
    kind: str  # alertmanager | grafana | events-v2
    key: str
    announce_in: str
    senders: Senders
    routes: tuple[AlertRoute, ...]
    storm: Storm | None
    allowed_senders: tuple[str, ...]

    def __repr__(self) -> str:
        return f"Integration(name={self.name!r}, kind={self.kind!r})"

    def route(self, labels: Mapping[str, str]) -> AlertRoute | None:
        return next((r for r in self.routes if r.matches(labels)), None)


@dataclass(frozen=True, repr=False)
class Heartbeat:
    """A dead man's switch, fully checked (``bot.alerts.heartbeats``). ``key`` is a secret."""

    name: str
    key: str
    every: timedelta
    grace: timedelta
    escalation: str
    announce_in: str | None

    def __repr__(self) -> str:
        return f"Heartbeat(name={self.name!r})"


@dataclass(frozen=True)
class Settings:
    """Everything ``config/bridge.yaml`` says, resolved. Lookups raise ``KeyError`` with the
    names that do exist."""

    source: Path
    defaults: DefaultsConfig
    providers: Mapping[str, AnyProviderConfig]
    channels: Mapping[str, ResolvedChannel]
    broadcasts: Mapping[str, ResolvedBroadcast]
    contacts: Mapping[str, tuple[str, ...]]
    sender_groups: Mapping[str, Senders]
    file: BridgeConfig
    people: Mapping[str, Person] = field(default_factory=dict)
    schedules: Mapping[str, Schedule] = field(default_factory=dict)
    escalations: Mapping[str, Escalation] = field(default_factory=dict)
    integrations: Mapping[str, Integration] = field(default_factory=dict)
    canaries: Mapping[str, Canary] = field(default_factory=dict)
    heartbeats: Mapping[str, Heartbeat] = field(default_factory=dict)

    def channel(self, name: str) -> ResolvedChannel:
        try:
            return self.channels[name]
        except KeyError:
            raise _unknown("channel", name, self.channels) from None

    def provider(self, name: str) -> AnyProviderConfig:
        try:
            return self.providers[name]
        except KeyError:
            raise _unknown("provider", name, self.providers) from None

    def broadcast(self, name: str) -> ResolvedBroadcast:
        try:
            return self.broadcasts[name]
        except KeyError:
            raise _unknown("broadcast", name, self.broadcasts) from None

    def person_with_slack(self, user_id: str) -> Person | None:
        """The first person in ``people`` whose ``slack:`` is ``user_id`` (None: nobody)."""
        return next((p for p in self.people.values() if p.slack == user_id), None)


def no_receipts_reason(settings: Settings, channel: ResolvedChannel) -> str | None:
    """Why ``channel`` never learns about delivery (None when it does). Only a channel with
    receipts may fall back on time alone: TalkNTalk reports SMS, Kaleyra reports WhatsApp, and
    both only with the account's ``webhook_secret`` set."""
    account = settings.providers.get(channel.provider_name)
    secret = getattr(account, "webhook_secret", None)
    if channel.provider_type == "talkntalk" and channel.service is not Service.SMS:
        return f"TalkNTalk reports delivery of SMS only, not {channel.service.value}"
    if channel.provider_type not in ("talkntalk", "kaleyra"):
        return f"{channel.provider_type} accounts report no delivery"
    if secret is None or not secret.get_secret_value().strip():
        return f"its account {channel.provider_name} has no webhook_secret"
    return None
