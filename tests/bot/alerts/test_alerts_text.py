"""The words of an alert's page and the links its root message may show, as plain values:
summary, else description, else alert name and instance; http(s) links only."""

from __future__ import annotations

import json

import pytest

from bot.alerts.detail import MAX_LINKS, detail_json, safe_url
from bot.alerts.payloads import BadPayload, alert_group, event
from bot.alerts.text import title
from tests.bot.alerts_kit import am_group, fixture
from tests.bot.alerts_kit import event as event_body


def test_the_summary_falls_back_to_description_then_name_and_instance() -> None:
    body = am_group()
    assert title(alert_group(body), None) == "[critical] Postgres primary is down"
    del body["commonAnnotations"]["summary"]
    del body["alerts"][0]["annotations"]["summary"]
    assert title(alert_group(body), "page") == (
        "[page] pg_up has been 0 on db1.example.com:9187 for 1 minute."
    )
    del body["alerts"][0]["annotations"]["description"]
    assert title(alert_group(body), None) == "[critical] PostgresDown db1.example.com:9187"
    body["commonLabels"] = {}
    body["alerts"][0]["labels"] = {}
    assert title(alert_group(body), None) == "[alert] alert"


def test_events_v2_reads_its_payload_and_makes_a_dedup_key() -> None:
    _, note = event(event_body(dedup_key=None))
    assert note.made_key
    assert len(note.group_key) == 32
    assert title(note, None) == "[critical] DISK at 99% on machine prod-datapipe03.example.com"
    assert note.labels["component"] == "mysql"
    assert ("https://example.com/", "Link text") in note.links
    with pytest.raises(BadPayload, match="missing field 'dedup_key'"):
        event(event_body("resolve", dedup_key=None))


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://runbooks.example.com/db?x=1&y=2", True),
        ("http://prometheus:9090/graph", True),
        ("javascript:alert(1)", False),
        ("ftp://example.com/file", False),
        ("https://example.com/a|b", False),  # would split a Slack link
        ("https://exa mple.com/", False),
        ("https:///no-host", False),
        ("https://example.com/" + "a" * 2000, False),
    ],
)
def test_only_http_links_that_cannot_break_a_slack_link_are_kept(url: str, kept: bool) -> None:
    assert (safe_url(url) is not None) is kept


def test_grafanas_documented_body_gives_each_alerts_links_and_its_source_last() -> None:
    note = alert_group(fixture("grafana-webhook-firing.json"))
    texts = [text for _, text in note.links]
    assert texts == ["runbook", "source", "silence", "source", "silence"]  # empty URLs dropped
    assert note.source == "https://play.grafana.org/"
    assert note.labels == {"team": "blue"}


def test_many_alert_links_never_crowd_out_the_source_link() -> None:
    body = am_group()
    body["alerts"] = [dict(body["alerts"][0]) for _ in range(5)]  # 5 x (generatorURL) + runbook
    for alert in body["alerts"]:
        alert["silenceURL"] = "https://grafana.example.com/silence"
        alert["imageURL"] = "https://grafana.example.com/image.png"
    links = json.loads(detail_json("grafana", alert_group(body)))["links"]
    assert len(links) == MAX_LINKS
    assert links[-1] == ["http://alertmanager.example.com:9093", "Grafana"]
