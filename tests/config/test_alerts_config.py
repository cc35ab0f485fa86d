"""``integrations:`` in the file: what loads, each problem with file:line, the key kept secret,
and what ``check`` prints (each integration's URL path, never its key)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import config
from config import ConfigError, Problem, Settings
from config.describe import describe
from tests.config.helpers import ENV, SMS_BASE, write

KEYS = {"AM_KEY": "am-key-0123456789abcdef", "PD_KEY": "pd-key-0123456789abcdef"}
BASE = (
    SMS_BASE
    + """\
escalations:
  db-outage:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [oncall-sms]}
"""
)

GOOD = """\
integrations:
  prod-am:
    kind: alertmanager
    key: ${AM_KEY}
    announce_in: C0OPS0001
    allowed_senders: [sre]
    routes:
      - match: {severity: critical}
        escalation: db-outage
      - match: {severity: warning}
        page: false
        severity: warn
    storm: {max_pages: 10, per: 1m}
  pd:
    kind: events-v2
    key: ${PD_KEY}
    announce_in: C0OPS0001
    allowed_senders: [U012ABCDEF]
    routes:
      - escalation: db-outage
"""


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    return config.load(write(tmp_path, BASE + textwrap.dedent(text)), env or {**ENV, **KEYS})


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    return caught.value.problems


def test_integrations_resolve_with_routes_in_order(tmp_path: Path) -> None:
    settings = load(tmp_path, GOOD)
    am = settings.integrations["prod-am"]
    assert (am.kind, am.key, am.announce_in) == ("alertmanager", KEYS["AM_KEY"], "C0OPS0001")
    assert am.senders.users == frozenset({"U012ABCDEF"})
    critical = am.route({"severity": "critical", "instance": "db1"})
    assert critical is not None
    assert critical.escalation == "db-outage"
    warning = am.route({"severity": "warning"})
    assert warning is not None
    assert (warning.escalation, warning.severity) == (None, "warn")
    assert am.route({"severity": "info"}) is None
    assert am.storm is not None
    assert (am.storm.max_pages, am.storm.per.total_seconds()) == (10, 60)
    catch_all = settings.integrations["pd"].route({})
    assert catch_all is not None
    assert catch_all.escalation == "db-outage"
    assert KEYS["AM_KEY"] not in repr(settings)  # nothing that prints settings shows a key


def test_check_prints_each_url_path_and_never_a_key(tmp_path: Path) -> None:
    out = describe(load(tmp_path, GOOD))
    assert "  prod-am  Alertmanager webhook (v4)\n    POST /alerts/prod-am  (" in out
    assert "  pd  Events API v2\n    POST /alerts/v2/enqueue  (routing_key" in out
    assert "severity=critical → page through db-outage" in out
    assert "severity=warning → post in Slack only as [warn]" in out
    for key in KEYS.values():
        assert key not in out


def test_unknown_escalation_shared_key_and_channel_name_are_located(tmp_path: Path) -> None:
    text = GOOD.replace(
        "escalation: db-outage\n      - match", "escalation: db-outagee\n      - match"
    )
    text = text.replace("${PD_KEY}", "${AM_KEY}").replace(
        "C0OPS0001\n    allowed_senders: [U0", "ops-room\n    allowed_senders: [U0"
    )
    found = {(p.line, p.path): p.message for p in problems(tmp_path, text)}
    base = len(BASE.splitlines())
    assert re.match(r"unknown escalation 'db-outagee' — defined escalations: db-outage",
                    found[(base + 9, "integrations.prod-am.routes[0].escalation")])  # fmt: skip
    assert found[(base + 16, "integrations.pd.key")].startswith(
        "integration 'prod-am' has the same key: give each integration its own"
    )
    assert (
        "'ops-room' is not a Slack channel ID" in found[(base + 17, "integrations.pd.announce_in")]
    )
    for message in found.values():
        assert KEYS["AM_KEY"] not in message


def test_a_key_written_in_the_file_is_refused_and_not_shown(tmp_path: Path) -> None:
    literal = "literal-key-0123456789abcdef"
    found = problems(tmp_path, GOOD.replace("${PD_KEY}", literal))
    shown = "\n".join(str(p) for p in found)
    assert "integrations.pd.key: key must come from the environment: write key: ${" in shown
    assert literal not in shown


def test_a_short_key_a_route_without_outcome_and_an_unknown_kind(tmp_path: Path) -> None:
    text = GOOD.replace("kind: events-v2", "kind: opsgenie").replace(
        "      - match: {severity: warning}\n        page: false\n",
        "      - match: {severity: warning}\n",
    )
    found = {p.path: p.message for p in problems(tmp_path, text)}
    assert found["integrations.prod-am.routes[1]"].startswith(
        "give escalation: NAME to page, or page: false"
    )
    assert found["integrations.pd.kind"].startswith("expected one of: 'alertmanager'")


def test_the_example_integrations_block_loads_when_uncommented(tmp_path: Path) -> None:
    example = Path(config.__file__).with_name("bridge.example.yaml").read_text(encoding="utf-8")
    block = example.split("# --- integrations (uncomment) ---\n", 1)[1].split("# ---", 1)[0]
    uncommented = "".join(line.removeprefix("# ") + "\n" for line in block.splitlines())
    path = tmp_path / "bridge.yaml"
    path.write_text(example + uncommented, encoding="utf-8")
    env = {
        "TALKNTALK_API_KEY": "t1", "AUTOKONNECT_API_KEY": "a2", "KALEYRA_API_KEY": "k3",
        "ALERTS_PROD_KEY": "prod-alerts-0123456789", "ALERTS_EVENTS_KEY": "ev-alerts-0123456789",
        "HEARTBEAT_KEY": "hb-key-0123456789abc",
    }  # fmt: skip
    settings = config.load(path, env)
    assert set(settings.integrations) >= {"prod-alertmanager"}
    assert set(settings.heartbeats) == {"prometheus-watchdog"}


def test_a_short_key_is_refused_without_showing_it(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD, {**ENV, **KEYS, "AM_KEY": "short-key"})
    assert [(p.path, p.message[:38]) for p in found] == [
        ("integrations.prod-am.key", "the key is shorter than 16 characters:")
    ]
    assert "short-key" not in str(found[0])


HEARTBEATS = """\
heartbeats:
  watchdog:
    key: ${HB_KEY}
    every: 1m
    grace: 2m
    escalation: db-outage
"""
HB_KEY = "hb-key-0123456789abcdef"


def test_heartbeats_resolve_and_check_prints_their_path_never_the_key(tmp_path: Path) -> None:
    settings = load(tmp_path, HEARTBEATS, {**ENV, **KEYS, "HB_KEY": HB_KEY})
    beat = settings.heartbeats["watchdog"]
    assert (beat.key, beat.every.total_seconds(), beat.grace.total_seconds()) == (HB_KEY, 60, 120)
    assert (beat.escalation, beat.announce_in) == ("db-outage", None)
    assert HB_KEY not in repr(settings)
    out = describe(settings)
    assert "  watchdog\n    POST /heartbeat/watchdog  (Authorization: Bearer" in out
    assert "pages through db-outage after 3m without a ping" in out
    assert HB_KEY not in out


def test_heartbeat_problems_are_located_and_keys_not_shown(tmp_path: Path) -> None:
    text = HEARTBEATS.replace("db-outage", "nope") + "    announce_in: ops-room\n"
    found = {p.path: p.message for p in problems(tmp_path, text, {**ENV, **KEYS, "HB_KEY": "x"})}
    assert found["heartbeats.watchdog.escalation"].startswith("unknown escalation 'nope'")
    assert found["heartbeats.watchdog.key"].startswith("the key is shorter than 16")
    assert "is not a Slack channel ID" in found["heartbeats.watchdog.announce_in"]
    literal = problems(tmp_path, HEARTBEATS.replace("${HB_KEY}", "literal-0123456789abcdef"))
    shown = "\n".join(str(p) for p in literal)
    assert "heartbeats.watchdog.key: key must come from the environment" in shown
    assert "literal-0123456789abcdef" not in shown
