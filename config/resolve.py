"""Resolution after validation: follow every reference, normalise every address, check routes.

Pure: data in, ``Settings`` or problems out. Entries that failed validation are skipped quietly
here (their problem is already reported), so one mistake does not echo as many.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from config.numbers import InvalidNumber, is_group, is_tag, normalize_number
from config.problems import KeyPath, Reporter
from config.references import Contacts, expand_senders, preset_sender_problems, sender_groups
from config.resolve_alerts import ANNOUNCE_CHANNEL, resolve_heartbeats, resolve_integrations
from config.resolve_oncall import OnCallResolver, resolve_people
from config.resolve_reach import check_reach, resolve_canaries
from config.schema import RESERVED_NAMES, BroadcastConfig, ChannelConfig, DefaultsConfig
from config.settings import TEMPLATE_FIELDS, ResolvedBroadcast, ResolvedChannel, Senders, Settings
from config.validation import Parts
from providers import REGISTRY
from providers.base import MessageType, Route, Service

SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_CHANNEL_HINT = (
    "use the channel ID (C…, shown at the bottom of the channel's details), not its name"
)


class _Resolver:
    def __init__(self, parts: Parts, report: Reporter, now: datetime) -> None:
        self.parts = parts
        self.report = report
        self.defaults = parts.defaults or DefaultsConfig()
        self.region = parts.defaults.country if parts.defaults else None
        self.people = resolve_people(parts.people, self.region, report)
        phones = {name: person.phone for name, person in self.people.items()}
        phones.update(dict.fromkeys(self._invalid("people")))
        self.contacts = Contacts(
            parts.contacts,
            self._invalid("contacts"),
            self.region,
            report,
            phones,
            parts.names.get("schedules", []),
        )
        self.groups: dict[str, Senders] = {}
        self.oncall = OnCallResolver(self.people, report, now)

    def _invalid(self, section: str) -> set[str]:
        return {name for s, name in self.parts.invalid if s == section}

    def run(self) -> tuple[dict[str, ResolvedChannel], dict[str, ResolvedBroadcast]]:
        self.contacts.resolve_all()
        self.groups = sender_groups(self.parts.senders, self.report)
        channels: dict[str, ResolvedChannel] = {}
        for name, channel in self.parts.channels.items():
            resolved = self.channel(name, channel)
            if resolved is not None:
                channels[name] = resolved
        broadcasts = {
            name: self.broadcast(name, preset) for name, preset in self.parts.broadcasts.items()
        }
        self.schedules, self.escalations = self.oncall.resolve_all(
            self.parts, self.contacts, channels, self.groups, self._invalid("senders")
        )
        preset_sender_problems(broadcasts, self.escalations, self.report)
        self.integrations = resolve_integrations(
            self.parts.integrations,
            self.escalations,
            self.parts.names.get("escalations", []),
            self.groups,
            self._invalid("senders"),
            self.report,
        )
        known = set(self.parts.names.get("channels", []))
        check_reach(self.people, self.parts.people, channels, known, self.report)
        self.canaries = resolve_canaries(
            self.parts.canaries, channels, known, self.region, self.report, ANNOUNCE_CHANNEL
        )
        self.heartbeats = resolve_heartbeats(
            self.parts.heartbeats,
            self.escalations,
            self.parts.names.get("escalations", []),
            self.report,
        )
        return channels, broadcasts

    def senders(self, entries: list[str], path: KeyPath) -> Senders:
        return expand_senders(entries, path, self.groups, self._invalid("senders"), self.report)

    def channel(self, name: str, ch: ChannelConfig) -> ResolvedChannel | None:
        base: KeyPath = ("channels", name)
        add = self.report.add
        if name in RESERVED_NAMES:
            add(
                base,
                f"{name!r} is a /send command word ({', '.join(sorted(RESERVED_NAMES))}), "
                "so it cannot name a channel: choose another name, e.g. oncall-sms",
            )
        account = self.parts.providers.get(ch.provider)
        if account is None and ch.provider not in self._invalid("providers"):
            known = ", ".join(self.parts.names.get("providers", [])) or "none"
            add(
                (*base, "provider"),
                f"unknown provider {ch.provider!r} — defined providers: {known}",
            )
        kind = REGISTRY[account.type] if account is not None else None
        from_number = ch.from_number
        if from_number is not None:
            try:
                from_number = normalize_number(from_number, self.region)
            except InvalidNumber as exc:
                add((*base, "from"), str(exc))
        route = Route(
            service=ch.service,
            sender_id=ch.sender_id,
            session_id=ch.session_id,
            waba_id=ch.waba_id,
            from_number=from_number,
        )
        supported: frozenset[MessageType] = frozenset(MessageType)
        if kind is not None:
            if ch.service not in kind.services:
                offered = ", ".join(sorted(s.value for s in kind.services))
                add(
                    (*base, "service"),
                    f"{ch.provider} is a {kind.display_name} account, which has no service "
                    f"{ch.service.value!r} — it offers: {offered}",
                )
            else:
                supported = kind.message_types[ch.service]
                route_keys = {"sender_id", "session_id", "waba_id", "from"}
                if not any((*base, key) in self.parts.dropped for key in route_keys):
                    for problem in kind.route_problems(route):
                        add(base, problem)
        recipients = self.recipients(base, ch)
        types = self.message_types(base, ch, supported, kind.display_name if kind else "")
        allowed = self.senders(ch.allowed_senders, (*base, "allowed_senders"))
        slack_channels = None
        if ch.slack_channels is not None:
            slack_channels = tuple(c.strip() for c in ch.slack_channels)
            if not slack_channels:
                add((*base, "slack_channels"), "empty: omit slack_channels to allow anywhere")
            for index, value in enumerate(slack_channels):
                if not SLACK_CHANNEL.match(value):
                    add((*base, "slack_channels", index), f"{value!r}: {_CHANNEL_HINT}")
        if ch.allow_adhoc and ch.service is Service.WHATSAPP_GROUP:
            add(
                (*base, "allow_adhoc"),
                "a whatsapp_group channel sends to its groups only: set allow_adhoc: false",
            )
        if ch.max_sms_parts is not None and ch.service is not Service.SMS:
            add(
                (*base, "max_sms_parts"),
                f"only sms channels are counted in SMS parts; {ch.service.value} has its own "
                "text limits: remove max_sms_parts here",
            )
        if account is None:
            return None
        return ResolvedChannel(
            name=name,
            provider_name=ch.provider,
            provider_type=account.type,
            route=route,
            recipients=recipients,
            message_types=types,
            allowed_users=allowed.users,
            allowed_usergroups=allowed.usergroups,
            slack_channels=slack_channels,
            allow_adhoc=ch.allow_adhoc,
            allowed_senders=tuple(ch.allowed_senders),
            max_sms_parts=ch.max_sms_parts or self.defaults.max_sms_parts,
        )

    def recipients(self, base: KeyPath, ch: ChannelConfig) -> tuple[str, ...]:
        """``to`` expanded, normalised, deduplicated, and each checked against the service."""
        out: dict[str, None] = {}
        service = ch.service
        for index, entry in enumerate(ch.to or []):
            path = (*base, "to", index)
            via = f"contact list {entry.strip()!r} includes " if self.contacts.known(entry) else ""
            for schedule in self.contacts.schedules_in(entry):
                self.report.add(
                    path,
                    f"{via}schedule:{schedule}: a channel's to: cannot follow a schedule yet "
                    "(escalations can, in notify); list numbers or people here",
                )
            for address in self.contacts.entry(entry, path):
                problem = _unsuitable(address, service)
                if problem:
                    self.report.add(path, f"{via}{address}: {problem}")
                else:
                    out[address] = None
        dropped = {(*base, "to"), (*base, "allow_adhoc")} & self.parts.dropped
        if not ch.to and not ch.allow_adhoc and not dropped:
            self.report.add(
                base,
                "this channel could never send: give it recipients with to: [...] "
                "or let senders give numbers with allow_adhoc: true",
            )
        limit = self.defaults.max_recipients
        if len(out) > limit:
            self.report.add(
                (*base, "to"),
                f"{len(out)} recipients is more than defaults.max_recipients ({limit}): "
                "split the lists across channels or raise the limit",
            )
        return tuple(out)

    def message_types(
        self, base: KeyPath, ch: ChannelConfig, supported: frozenset[MessageType], provider: str
    ) -> frozenset[MessageType]:
        if ch.message_types is None:
            return supported
        if not ch.message_types:
            self.report.add((*base, "message_types"), "empty: omit it to allow every type")
        offered = ", ".join(t.value for t in MessageType if t in supported)
        chosen: set[MessageType] = set()
        for index, word in enumerate(ch.message_types):
            path = (*base, "message_types", index)
            try:
                kind = MessageType.parse(word)
            except ValueError as exc:
                self.report.add(path, str(exc))
                continue
            if kind not in supported:
                self.report.add(
                    path,
                    f"{provider} {ch.service.value} does not take {kind.value} messages — "
                    f"it takes: {offered}",
                )
            chosen.add(kind)
        return frozenset(chosen)

    def broadcast(self, name: str, preset: BroadcastConfig) -> ResolvedBroadcast:
        base: KeyPath = ("broadcasts", name)
        add = self.report.add
        if preset.escalation is not None:
            self._escalation_ref(preset, base)
        elif not preset.channels:
            add((*base, "channels"), "empty: list the channels this broadcast sends through")
        for index, channel in enumerate(preset.channels):
            if channel not in self.parts.channels and channel not in self._invalid("channels"):
                known = ", ".join(self.parts.names.get("channels", [])) or "none"
                add(
                    (*base, "channels", index),
                    f"unknown channel {channel!r} — defined channels: {known}",
                )
        for problem in _template_problems(preset.template):
            add((*base, "template"), problem)
        if not preset.severities:
            add((*base, "severities"), "empty: list the severities to choose from, e.g. [SEV1]")
        if len(set(preset.severities)) != len(preset.severities):
            add((*base, "severities"), "a severity is listed twice: list each once")
        if not ANNOUNCE_CHANNEL.match(preset.announce_in.strip()):
            add((*base, "announce_in"), f"{preset.announce_in!r}: {_CHANNEL_HINT}")
        allowed = self.senders(preset.allowed_senders, (*base, "allowed_senders"))
        return ResolvedBroadcast(
            name=name,
            title=preset.title,
            channels=tuple(preset.channels),
            template=preset.template,
            severities=tuple(preset.severities),
            allowed_users=allowed.users,
            allowed_usergroups=allowed.usergroups,
            announce_in=preset.announce_in.strip(),
            allowed_senders=tuple(preset.allowed_senders),
            escalation=preset.escalation,
        )

    def _escalation_ref(self, preset: BroadcastConfig, base: KeyPath) -> None:
        """A paging preset names a defined escalation and no channels (the steps have them)."""
        name = preset.escalation
        known = self.parts.names.get("escalations", [])
        if name not in known and name not in self._invalid("escalations"):
            shown = ", ".join(known) or "none"
            self.report.add(
                (*base, "escalation"), f"unknown escalation {name!r} — defined escalations: {shown}"
            )
        if preset.channels:
            self.report.add(
                (*base, "channels"),
                "a preset with escalation: pages through the escalation's channels: remove these",
            )


def _unsuitable(address: str, service: Service) -> str | None:
    """Why this address cannot be sent to through ``service`` (None: it can)."""
    if is_group(address):
        if service is not Service.WHATSAPP_GROUP:
            return "a WhatsApp group id; only a whatsapp_group channel sends to groups"
    elif is_tag(address):
        if service is not Service.WABA:
            return "an AutoKonnect contact tag; only a waba channel sends to tags"
    elif service is Service.WHATSAPP_GROUP:
        return "a phone number; a whatsapp_group channel sends to group ids (…@g.us)"
    return None


def _template_problems(template: str) -> list[str]:
    allowed = ", ".join(f"{{{f}}}" for f in TEMPLATE_FIELDS)
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError:
        return ["unbalanced { or }: write {{ or }} for a literal brace"]
    problems = []
    for name in fields:
        root = re.split(r"[.\[]", name, maxsplit=1)[0]
        if root not in TEMPLATE_FIELDS or root != name:
            shown = f"{{{name}}}"
            problems.append(f"unknown placeholder {shown} — use only {allowed}")
    return problems


def resolve(
    parts: Parts, report: Reporter, source: Path, now: datetime | None = None
) -> Settings | None:
    """Check every reference; return ``Settings`` when nothing at all is wrong. ``now`` is
    where the look for gaps in schedules starts (default: the current time)."""
    resolver = _Resolver(parts, report, now or datetime.now(UTC))
    channels, broadcasts = resolver.run()
    if report.problems or parts.model is None or parts.defaults is None:
        return None
    return Settings(
        source=source,
        defaults=parts.defaults,
        providers=MappingProxyType(dict(parts.providers)),
        channels=MappingProxyType(channels),
        broadcasts=MappingProxyType(broadcasts),
        contacts=MappingProxyType(dict(resolver.contacts.resolved)),
        sender_groups=MappingProxyType(resolver.groups),
        file=parts.model,
        people=MappingProxyType(resolver.people),
        schedules=MappingProxyType(resolver.schedules),
        escalations=MappingProxyType(resolver.escalations),
        integrations=MappingProxyType(resolver.integrations),
        canaries=MappingProxyType(resolver.canaries),
        heartbeats=MappingProxyType(resolver.heartbeats),
    )
