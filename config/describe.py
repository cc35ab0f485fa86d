"""What ``python -m bot check`` prints: what each channel reaches and who may use it.

Readable and aligned; no key is ever shown (only its variable's effect). Numbers are masked but
keep their last four digits: only the operator reads this, and must be able to tell two apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from config.describe_alerts import describe_integrations
from config.describe_oncall import describe_oncall
from config.describe_reach import describe_canaries
from config.numbers import mask_for_operator
from config.schema import format_duration
from config.settings import ResolvedBroadcast, ResolvedChannel, Senders, Settings
from providers import REGISTRY, AnyProviderConfig, AutoKonnectConfig, KaleyraConfig
from providers.base import MessageType

SHOWN_RECIPIENTS = 5
_LABEL = 17


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _row(label: str, value: str, indent: str = "    ") -> str:
    return f"{indent}{label:<{_LABEL}}{value}"


def _base_url(account: AnyProviderConfig) -> str:
    if isinstance(account, KaleyraConfig):
        where = f"pod {account.pod}" if account.pod else "base_url"
        return f"{account.api_base()} ({where}), sid {account.sid}"
    if account.base_url is not None:
        return str(account.base_url)
    default = REGISTRY[account.type].default_base_url
    return f"{default} (default)"


def _rate(account: AnyProviderConfig) -> str:
    if account.rate_per_minute is not None:
        return f"{account.rate_per_minute}/min"
    default = REGISTRY[account.type].default_rate_per_minute
    return f"{default}/min (default)" if default else "no rate limit set"


def _receipts(name: str, account: AnyProviderConfig) -> str:
    """Whether delivery receipts can arrive, and where the provider must post them."""
    if isinstance(account, AutoKonnectConfig):
        return "receipts: none (AutoKonnect returns no message id and defines no callback)"
    if account.webhook_secret is None:
        return "receipts: off (set webhook_secret to accept them)"
    return f"receipts: on at /webhooks/{name}"


def _kept(keep: timedelta | None) -> str:
    if keep is None:
        return "kept forever (set defaults.keep_records, e.g. 90d, to remove old ones)"
    return f"finished sends and ended pages removed after {format_duration(keep)}"


def _recipients(addresses: tuple[str, ...]) -> str:
    if not addresses:
        return "none (senders give numbers)"
    shown = ", ".join(mask_for_operator(a) for a in addresses[:SHOWN_RECIPIENTS])
    more = len(addresses) - SHOWN_RECIPIENTS
    tail = f", … and {more} more" if more > 0 else ""
    return f"{len(addresses)}: {shown}{tail}"


def _senders(written: Iterable[str], resolved: Senders) -> str:
    ids = sorted(resolved.users) + [f"usergroup:{g}" for g in sorted(resolved.usergroups)]
    written_list = list(written)
    expanded = ", ".join(ids) or "nobody"
    if written_list and ids != written_list:
        return f"{', '.join(written_list)} → {expanded}"
    return expanded


def _route(channel: ResolvedChannel) -> str:
    route = channel.route
    parts = [
        f"{label} {value}"
        for label, value in (
            ("sender_id", route.sender_id),
            ("session_id", route.session_id),
            ("waba_id", route.waba_id),
            ("from", route.from_number),
        )
        if value
    ]
    return ", ".join(parts) or "(provider default)"


def _channel(channel: ResolvedChannel) -> list[str]:
    types = ", ".join(t.value for t in MessageType if t in channel.message_types)
    where = ", ".join(channel.slack_channels) if channel.slack_channels is not None else "anywhere"
    return [
        f"  {channel.name}",
        _row(
            "provider",
            f"{channel.provider_name} ({channel.provider_type}), service {channel.service.value}",
        ),
        _row("route", _route(channel)),
        _row("recipients", _recipients(channel.recipients)),
        _row("allowed senders", _senders(channel.allowed_senders, channel.senders)),
        _row("slack channels", where),
        _row("ad-hoc numbers", "yes" if channel.allow_adhoc else "no"),
        _row("message types", types),
    ]


def _broadcast(preset: ResolvedBroadcast) -> list[str]:
    return [
        f"  {preset.name}  “{preset.title}”",
        (
            _row("pages through", preset.escalation)
            if preset.escalation is not None
            else _row("channels", ", ".join(preset.channels))
        ),
        _row("template", preset.template),
        _row("severities", ", ".join(preset.severities)),
        _row("allowed senders", _senders(preset.allowed_senders, preset.senders)),
        _row("announce in", preset.announce_in),
    ]


def describe(settings: Settings, at: datetime | None = None) -> str:
    """A plain-text summary of the resolved config; safe to print and paste (no secrets).
    ``at`` (``check --at``; default: the current time, labelled "now") is the moment the
    "on call" lines are about."""
    d = settings.defaults
    lines = [
        f"{settings.source}: {_plural(len(settings.providers), 'provider account')}, "
        f"{_plural(len(settings.channels), 'channel')}, "
        f"{_plural(len(settings.broadcasts), 'broadcast')}",
        f"defaults: country {d.country}, confirm over {d.confirm_over} recipients, "
        f"at most {d.max_recipients} per request, Retry buttons for "
        f"{format_duration(d.retry_max_age)}",
        f"records: {_kept(d.keep_records)}",
        "",
        "Provider accounts",
    ]
    width = max((len(name) for name in settings.providers), default=0) + 2
    type_width = max((len(a.type) for a in settings.providers.values()), default=0) + 2
    for name, account in settings.providers.items():
        lines.append(f"  {name:<{width}}{account.type:<{type_width}}{_base_url(account)}")
        at_once = _plural(account.max_concurrency, "request")
        lines.append(
            f"  {'':<{width + type_width}}{_rate(account)}, timeout "
            f"{account.timeout_seconds:g}s, up to {at_once} at once"
        )
        lines.append(f"  {'':<{width + type_width}}{_receipts(name, account)}")
    lines += ["", "Channels"]
    for channel in settings.channels.values():
        lines += _channel(channel)
    if settings.broadcasts:
        lines += ["", "Broadcasts"]
        for preset in settings.broadcasts.values():
            lines += _broadcast(preset)
    lines += describe_oncall(settings, at or datetime.now(UTC), given=at is not None)
    lines += describe_integrations(settings)
    lines += describe_canaries(settings)
    return "\n".join(lines) + "\n"
