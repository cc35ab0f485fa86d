"""``urgency:`` on an escalation and on an alert route: high (the default) or low, anything else
refused at its line; ``check`` says "low urgency"; the JSON Schema offers both words."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import config
from config import ConfigError, Settings
from config.describe import describe
from config.jsonschema import schema
from tests.config.helpers import ENV, SMS_BASE, write

KEYS = {"AM_KEY": "am-key-0123456789abcdef"}
ESCALATIONS = """\
escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [oncall-sms]}
  disk-warnings:
    allowed_senders: [sre]
    urgency: low
    steps:
      - {notify: [alice], via: [oncall-sms]}
"""
INTEGRATIONS = """\
integrations:
  prod-am:
    kind: alertmanager
    key: ${AM_KEY}
    announce_in: C0OPS0001
    allowed_senders: [sre]
    routes:
      - match: {severity: warning}
        escalation: db-outage
        urgency: low
      - escalation: disk-warnings
"""


def load(tmp_path: Path, text: str) -> Settings:
    return config.load(write(tmp_path, SMS_BASE + textwrap.dedent(text)), {**ENV, **KEYS})


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    return [str(p) for p in caught.value.problems]


def test_urgency_is_high_by_default_and_a_route_may_lower_it(tmp_path: Path) -> None:
    settings = load(tmp_path, ESCALATIONS + INTEGRATIONS)
    assert settings.escalations["db-outage"].urgency == "high"
    assert settings.escalations["disk-warnings"].urgency == "low"
    warning, other = settings.integrations["prod-am"].routes
    assert (warning.escalation, warning.urgency) == ("db-outage", "low")
    assert other.urgency is None  # the escalation's


def test_check_says_low_urgency_for_low_escalations_and_routes(tmp_path: Path) -> None:
    out = describe(load(tmp_path, ESCALATIONS + INTEGRATIONS))
    assert "repeat 0, low urgency (held in people's quiet hours)" in out
    assert "severity=warning → page through db-outage, low urgency" in out
    assert out.count("low urgency") == 2  # db-outage itself and the catch-all route say nothing


def test_an_unknown_urgency_is_refused_at_its_line(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        ESCALATIONS.replace("urgency: low", "urgency: medium")
        + INTEGRATIONS.replace("urgency: low", "urgency: urgent"),
    )
    path = tmp_path / "bridge.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    medium = lines.index("    urgency: medium") + 1
    urgent = lines.index("        urgency: urgent") + 1
    assert found == [
        f"{path}:{medium}: escalations.disk-warnings.urgency: expected one of: 'high', 'low'",
        f"{path}:{urgent}: integrations.prod-am.routes[0].urgency: expected one of: 'high', 'low'",
    ]


def test_urgency_on_a_route_that_pages_nobody_is_refused(tmp_path: Path) -> None:
    route = "      - {match: {severity: info}, page: false, urgency: low}\n"
    found = problems(tmp_path, ESCALATIONS + INTEGRATIONS + route)
    assert len(found) == 1
    assert "integrations.prod-am.routes[2]: page: false pages nobody, so urgency has no" in found[0]


def test_the_json_schema_offers_high_and_low() -> None:
    defs = schema()["$defs"]
    assert defs["EscalationConfig"]["properties"]["urgency"]["enum"] == ["high", "low"]
    route = defs["AlertRouteConfig"]["properties"]["urgency"]
    assert {"enum": ["high", "low"], "type": "string"} in route["anyOf"]
