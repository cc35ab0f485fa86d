"""The file's shape as pydantic models: what ``config/bridge.yaml`` may contain.

These check types and spelling only (``extra="forbid"`` everywhere, so a misspelt key is an
error). Cross-references, numbers and Slack ids are checked in ``config.resolve``; the JSON
Schema published for editors is generated from ``BridgeConfig``.
"""

from __future__ import annotations

import typing
from datetime import timedelta
from typing import Annotated

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
)

from config.durations import DURATION_PATTERN, Duration, format_duration
from config.schema_alerts import HeartbeatConfig, IntegrationConfig
from config.schema_oncall import EscalationConfig, PersonConfig, ScheduleConfig
from config.schema_reach import CanaryConfig
from providers import (
    PROVIDERS,
    AnyProviderConfig,
    AutoKonnectConfig,
    KaleyraConfig,
    TalkNTalkConfig,
)
from providers.base import Service

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
NAME_HINT = (
    "names are typed in Slack: use lowercase letters, digits, '-' and '_', starting with a "
    "letter or digit (at most 64), e.g. oncall-sms"
)

DEFAULT_MAX_SMS_PARTS = 6  # ~900 plain characters, ~400 with a curly quote or emoji

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]

PROVIDER_CONFIGS: tuple[type[TalkNTalkConfig | AutoKonnectConfig | KaleyraConfig], ...] = tuple(
    kind.config_model for kind in PROVIDERS
)


def _secret_fields() -> frozenset[str]:
    """Fields of any provider account typed ``SecretStr``: they must come from ``${VAR}``."""
    found: set[str] = set()
    for model in PROVIDER_CONFIGS:
        for name, info in model.model_fields.items():
            if info.annotation is SecretStr or SecretStr in typing.get_args(info.annotation):
                found.add(info.alias or name)
    return frozenset(found)


SECRET_FIELDS = _secret_fields()

# Words ``/send`` reads as commands, so no channel may take them as its name (README, "Config
# guide": help, list, status, history, page, ack, oncall, test, test-me, alerts, silence,
# silences and unsilence are words of /send).
RESERVED_NAMES = frozenset(
    {"help", "list", "status", "history", "page", "ack", "oncall", "test", "test-me"}
    | {"silence", "silences", "unsilence", "alerts"}
)


class DefaultsConfig(BaseModel):
    """Values that apply to every channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str = Field(
        default="KE",
        description="ISO 3166 region for numbers written without a country code, e.g. KE.",
    )
    confirm_over: int = Field(
        default=10, ge=0, description="A send to more recipients than this asks to confirm."
    )
    max_recipients: int = Field(
        default=1000, ge=1, description="Hard cap on the recipients of one request."
    )
    max_sms_parts: int = Field(
        default=DEFAULT_MAX_SMS_PARTS,
        ge=1,
        le=255,
        description="An SMS longer than this many billable parts is refused (160 GSM-7 or 70 "
        "UCS-2 characters make one part; 153 / 67 each once split).",
    )
    retry_max_age: Duration = Field(
        default="24h",
        validate_default=True,
        description=(
            "A Retry button older than this is refused (its people may no longer need the "
            "message); write a unit, e.g. 24h, 90m, 2d."
        ),
    )
    max_active_pages_per_sender: int = Field(
        default=10,
        ge=1,
        description="A page is refused while its sender already has this many active pages "
        "(neither acknowledged nor ended).",
    )
    max_active_pages_per_escalation: int = Field(
        default=50,
        ge=1,
        description="A page is refused while its escalation already has this many active pages "
        "(neither acknowledged nor ended), whoever started them.",
    )
    takeover_after: Duration = Field(
        default="30s",
        validate_default=True,
        description=(
            "Replicas on PostgreSQL: a send whose owner has not renewed its lease for this long "
            "is taken over by another replica (the owner renews every third of it); e.g. 30s."
        ),
    )

    keep_records: Duration | None = Field(
        default=None,
        description=(
            "Remove finished sends (requests, recipients, attempts, receipts) and ended pages "
            "older than this, e.g. 90d; at least 1d. Unset (the default): kept forever."
        ),
    )

    @field_validator("keep_records")
    @classmethod
    def _at_least_a_day(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(days=1):
            raise ValueError(
                "keep_records must be at least 1d: the record of recent sends is what Retry, "
                "receipts and /send status read; write e.g. 90d"
            )
        return value

    @field_validator("country")
    @classmethod
    def _known_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(
                f"unknown country {value!r}: use a two-letter ISO region code, e.g. KE, IN, GB"
            )
        return region


class ChannelConfig(BaseModel):
    """An outbound channel: where a message can go, and who may send there."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, populate_by_name=True
    )

    provider: str = Field(description="Name of an account under providers.")
    service: Service = Field(description="sms, whatsapp, whatsapp_group or waba.")
    sender_id: str | None = Field(default=None, description="TalkNTalk sms: the sender ID.")
    session_id: str | None = Field(
        default=None, description="TalkNTalk whatsapp / whatsapp_group: the phone's chat_id."
    )
    waba_id: str | None = Field(default=None, description="AutoKonnect: the WABA channel ID.")
    from_number: str | None = Field(
        default=None, alias="from", description="Kaleyra: the business number in the URL."
    )
    to: list[str] | None = Field(
        default=None,
        description="Default recipients: contact list names, numbers, group ids or tag:N.",
    )
    allowed_senders: list[str] = Field(
        description="Who may send: sender group names, Slack user IDs, or usergroup:ID."
    )
    slack_channels: list[str] | None = Field(
        default=None, description="Slack channel IDs where it may be used; omitted: anywhere."
    )
    allow_adhoc: bool = Field(
        default=False, description="May a sender give numbers of their own instead of `to`?"
    )
    message_types: list[str] | None = Field(
        default=None,
        description="Message types allowed; omitted: all the provider supports for the service.",
    )
    max_sms_parts: int | None = Field(
        default=None, ge=1, le=255, description="sms channels: overrides defaults.max_sms_parts."
    )


class BroadcastConfig(BaseModel):
    """A preset behind the on-call broadcast shortcut."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    title: str = Field(description="Shown in the broadcast modal.")
    channels: list[str] = Field(
        default_factory=list,
        description="Channel names preselected in the modal (none with escalation:).",
    )
    template: str = Field(
        default="{text}", description="Message text; placeholders {severity}, {text}, {sender}."
    )
    severities: list[str] = Field(
        default_factory=lambda: ["SEV1", "SEV2", "SEV3"], description="Choices in the modal."
    )
    allowed_senders: list[str] = Field(
        description="Who may broadcast: sender group names, Slack user IDs, or usergroup:ID."
    )
    announce_in: str = Field(description="Slack channel ID where the result thread goes.")
    escalation: str | None = Field(
        default=None,
        description="Page through this escalation (its steps and channels) instead of one send.",
    )


class BridgeConfig(BaseModel):
    """The whole of ``config/bridge.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig)
    providers: dict[Name, AnyProviderConfig] = Field(
        description="Provider accounts by a name of your choice; `type` says which provider."
    )
    contacts: dict[Name, list[str]] = Field(
        default_factory=dict,
        description="Named lists of numbers, group ids, tags, or other lists by name.",
    )
    senders: dict[Name, list[str]] = Field(
        default_factory=dict,
        description="Named groups of Slack users: user IDs (U…) or usergroup:S….",
    )
    channels: dict[Name, ChannelConfig] = Field(description="Outbound channels by name.")
    broadcasts: dict[Name, BroadcastConfig] = Field(
        default_factory=dict, description="On-call broadcast presets by name."
    )
    people: dict[Name, PersonConfig] = Field(
        default_factory=dict, description="People who can be paged, by name."
    )
    schedules: dict[Name, ScheduleConfig] = Field(
        default_factory=dict, description="Who is on call when, by schedule name."
    )
    escalations: dict[Name, EscalationConfig] = Field(
        default_factory=dict,
        description="Escalation policies: /send page and broadcasts with escalation: use them.",
    )
    integrations: dict[Name, IntegrationConfig] = Field(
        default_factory=dict,
        description="Monitoring sources (Alertmanager, Grafana, Events API v2) that start pages.",
    )
    canaries: dict[Name, CanaryConfig] = Field(
        default_factory=dict,
        description="Test messages on a schedule, by outbound channel name: each path proven.",
    )
    heartbeats: dict[Name, HeartbeatConfig] = Field(
        default_factory=dict,
        description="Dead man's switches: POST /heartbeat/<name>; no ping for every + grace pages.",
    )


__all__ = ["DURATION_PATTERN", "Duration", "format_duration"]
