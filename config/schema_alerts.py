"""The ``integrations:`` part of the file's shape: monitoring that starts pages on its own.

Types and spelling only, like ``config.schema``; whether a route's escalation exists, whether
``announce_in`` is a channel id and whether two integrations share a key are checked in
``config.resolve_alerts``. ``key`` is a secret: it must be ``${VAR}`` (``config.secrets``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from config.durations import Duration
from config.schema_oncall import Urgency

IntegrationKind = Literal["alertmanager", "grafana", "events-v2"]
KINDS: tuple[str, ...] = ("alertmanager", "grafana", "events-v2")
# Secret fields of an integration (beside the providers' ``SecretStr`` fields).
INTEGRATION_SECRETS = frozenset({"key"})


class AlertRouteConfig(BaseModel):
    """Where an alert goes: the first route whose ``match`` labels all equal the alert's."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    match: dict[str, str] = Field(
        default_factory=dict, description="Labels that must all be equal; omitted: every alert."
    )
    escalation: str | None = Field(default=None, description="Page through this escalation.")
    page: bool = Field(default=True, description="false: post in Slack only, page nobody.")
    severity: str | None = Field(
        default=None, description="Shown as [severity] in the page's text instead of the label."
    )
    urgency: Urgency | None = Field(
        default=None,
        description="high or low: overrides the escalation's urgency for the pages it starts.",
    )

    @model_validator(mode="after")
    def _one_outcome(self) -> AlertRouteConfig:
        if self.page and self.escalation is None:
            raise ValueError("give escalation: NAME to page, or page: false to post in Slack only")
        if not self.page and self.escalation is not None:
            raise ValueError("page: false pages nobody: remove escalation, or page: false")
        if not self.page and self.urgency is not None:
            raise ValueError("page: false pages nobody, so urgency has no effect: remove it")
        return self


class StormConfig(BaseModel):
    """Past ``max_pages`` new alert groups within ``per``, further groups share one page."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_pages: int = Field(ge=1, le=10_000, description="New groups paged one by one within per.")
    per: Duration = Field(description="The window, e.g. 1m.")


class HeartbeatConfig(BaseModel):
    """A dead man's switch: POST /heartbeat/<name> at least every ``every``; silence for
    ``every`` + ``grace`` pages through ``escalation``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: SecretStr = Field(description="Secret the pinger sends as a Bearer token: ${VAR}.")
    every: Duration = Field(description="How often the pinger pings, e.g. 1m.")
    grace: Duration = Field(description="How late a ping may be before it pages, e.g. 2m.")
    escalation: str = Field(description="Page through this escalation when pings stop.")
    announce_in: str | None = Field(
        default=None, description="Slack channel ID for the page's root message."
    )


class IntegrationConfig(BaseModel):
    """A monitoring source: POST /alerts/<name> (or /alerts/v2/enqueue for events-v2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    kind: IntegrationKind = Field(description="alertmanager, grafana or events-v2.")
    key: SecretStr = Field(
        description="Secret the source sends (Bearer token, or events-v2 routing_key): ${VAR}."
    )
    announce_in: str = Field(description="Slack channel ID for each alert group's root message.")
    allowed_senders: list[str] = Field(
        description="Who may silence it: sender group names, Slack user IDs, or usergroup:ID."
    )
    routes: list[AlertRouteConfig] = Field(
        min_length=1, description="First match on the alert's labels wins."
    )
    storm: StormConfig | None = Field(
        default=None, description="Past this many new groups, further ones share one page."
    )
