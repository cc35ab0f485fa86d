"""Resolution of each person's ``reach`` and ``quiet``, and of ``canaries``: channels named must
exist and be able to reach the number they would send to.

Why apart from ``config.resolve_oncall``: these rules read the resolved channels, which are
resolved after people, and they are a feature of their own (SPEC: "Reaching each person their
way, and proving the paths").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from zoneinfo import ZoneInfo

from config.numbers import InvalidNumber, normalize_address
from config.problems import KeyPath, Reporter, names_list
from config.schema_oncall import PersonConfig
from config.schema_reach import CanaryConfig
from config.settings import Canary, Person, Quiet, Reach, ResolvedChannel
from providers.base import Service

MIN_CANARY_EVERY = timedelta(minutes=1)
_DAY = timedelta(days=1)


def reach_of(cfg: PersonConfig) -> tuple[tuple[Reach, ...], Quiet | None]:
    """The person's rules and quiet hours as written (checked by ``check_reach``)."""
    rules = tuple(Reach(rule.via.strip(), rule.delay) for rule in cfg.reach or ())
    quiet = cfg.quiet
    hours = (
        Quiet(quiet.from_time, quiet.until, ZoneInfo(quiet.timezone)) if quiet is not None else None
    )
    return rules, hours


def reach_problem(
    person: Person, written: PersonConfig | None, channel: ResolvedChannel
) -> str | None:
    """Why ``channel`` cannot reach ``person`` (None: it can)."""
    name, via = person.name, channel.name
    if channel.service is Service.WHATSAPP_GROUP:
        return f"{via} sends to a WhatsApp group, not one person: choose an sms or whatsapp channel"
    if channel.service is Service.SMS and person.phone is None:
        return f"{name} has no phone, but {via} sends SMS: give {name} a phone, or remove this rule"
    if channel.service is not Service.SMS and (written is None or written.whatsapp is None):
        return (
            f"{name} has no whatsapp, but {via} sends WhatsApp ({channel.service.value}): give "
            f"{name} a whatsapp number (it may equal the phone), or remove this rule"
        )
    return None


def check_reach(
    people: Mapping[str, Person],
    written: Mapping[str, PersonConfig],
    channels: Mapping[str, ResolvedChannel],
    known_channels: set[str],
    report: Reporter,
) -> None:
    """Every rule names a defined channel that can reach the person's number."""
    for name, person in people.items():
        cfg = written.get(name)
        if cfg is not None and cfg.reach is not None and not cfg.reach:
            report.add(("people", name, "reach"), "empty: list one {via: CHANNEL} or remove reach")
        seen: set[str] = set()
        for index, rule in enumerate(person.reach):
            path: KeyPath = ("people", name, "reach", index, "via")
            if rule.via not in known_channels:
                known = names_list(known_channels)
                report.add(path, f"unknown channel {rule.via!r} — defined channels: {known}")
                continue
            if rule.via in seen:
                report.add(path, f"{rule.via} is listed twice: list each channel once")
            seen.add(rule.via)
            channel = channels.get(rule.via)
            problem = reach_problem(person, cfg, channel) if channel is not None else None
            if problem is not None:
                report.add(path, problem)


def _address_problem(name: str, to: str, channel: ResolvedChannel) -> str | None:
    group = to.endswith("@g.us")
    if to.startswith("tag:"):
        return "a canary tests one number: give a phone number, not a tag"
    if group and channel.service is not Service.WHATSAPP_GROUP:
        return f"{name} does not send to WhatsApp groups: give a phone number"
    if not group and channel.service is Service.WHATSAPP_GROUP:
        return f"{name} sends to WhatsApp groups: give its group id (…@g.us)"
    return None


def resolve_canaries(
    written: Mapping[str, CanaryConfig],
    channels: Mapping[str, ResolvedChannel],
    known_channels: set[str],
    region: str | None,
    report: Reporter,
    announce_pattern: re.Pattern[str],
) -> dict[str, Canary]:
    """Each canary is keyed by a defined channel; its number suits the channel; its schedule is
    one the loop can keep (``at`` only with whole days)."""
    out: dict[str, Canary] = {}
    for name, cfg in written.items():
        base: KeyPath = ("canaries", name)
        if name not in known_channels:
            report.add(
                base,
                f"unknown channel {name!r}: a canary is named after the channel it tests — "
                f"defined channels: {names_list(known_channels)}",
            )
            continue
        try:
            to = normalize_address(cfg.to, region)
        except InvalidNumber as exc:
            report.add((*base, "to"), str(exc))
            continue
        channel = channels.get(name)
        problem = _address_problem(name, to, channel) if channel is not None else None
        if problem is not None:
            report.add((*base, "to"), problem)
        if cfg.every < MIN_CANARY_EVERY:
            report.add((*base, "every"), "at least 1m: a canary is a test message, not a flood")
        if cfg.at is not None and cfg.every % _DAY:
            report.add((*base, "at"), "at needs every in whole days (1d, 1w)")
        if cfg.within >= cfg.every:
            report.add((*base, "within"), "within must be shorter than every: e.g. within: 5m")
        announce = cfg.announce_in.strip()
        if not announce_pattern.match(announce):
            report.add((*base, "announce_in"), f"{cfg.announce_in!r}: use the channel ID (C…)")
        zone = ZoneInfo(cfg.timezone)
        out[name] = Canary(name, to, cfg.every, cfg.at, zone, cfg.within, announce)
    return out
