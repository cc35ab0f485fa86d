"""Fuzz the alert endpoints: ``POST /alerts/<integration>`` and ``POST /alerts/v2/enqueue``
with any body and any credentials get 202, 400, 401 or 413 only, never a 5xx or a traceback.

Bodies are the sources' own shapes with random values in every field (labels of any type,
alerts that are not objects, huge strings, deep nesting), random JSON, and bytes that are not
UTF-8; keys are right, wrong, missing or undecodable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bot.alerts_kit import ALERTS, AM_KEY, GF_KEY, KEYS, PD_KEY
from tests.bot.paging_kit import PAGING
from tests.fuzz.slack_rig import CONFIG, EXAMPLES, Rig, rig_for
from tests.fuzz.test_slack_events import json_values

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
ALERT_ANSWERS = frozenset({202, 400, 401, 413})
text = st.text(max_size=40)
labels = st.dictionaries(text, text, max_size=5) | st.dictionaries(text, json_values, max_size=3)
alert = st.fixed_dictionaries(
    {"status": st.sampled_from(["firing", "resolved"]) | json_values, "labels": labels,
     "annotations": labels},
    optional={"startsAt": json_values, "generatorURL": text | json_values,
              "dashboardURL": text | json_values, "fingerprint": json_values},
) | json_values  # fmt: skip
group = st.fixed_dictionaries(
    {"groupKey": st.sampled_from(["g1", "g2", ""]) | json_values,
     "status": st.sampled_from(["firing", "resolved"]) | json_values,
     "alerts": st.lists(alert, max_size=4)},
    optional={"version": json_values, "commonLabels": labels, "commonAnnotations": labels,
              "externalURL": text | json_values, "groupLabels": labels},
)  # fmt: skip
payload = st.fixed_dictionaries(
    {"summary": text, "source": text | json_values,
     "severity": st.sampled_from(["critical", "error", "warning", "info", "bad"]) | json_values},
    optional={"component": json_values, "custom_details": json_values},
) | json_values  # fmt: skip
event = st.fixed_dictionaries(
    {"routing_key": st.sampled_from([PD_KEY] * 6 + [AM_KEY, "wrong", ""]) | json_values,
     "event_action": st.sampled_from(["trigger", "acknowledge", "resolve", "x"]) | json_values,
     "payload": payload},
    optional={"dedup_key": st.sampled_from(["d1", "d2"]) | json_values,
              "links": json_values, "client_url": json_values},
)  # fmt: skip


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def bodies(shape: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    shaped = shape.map(lambda v: json.dumps(v).encode())
    return st.one_of(
        shaped,
        shaped,
        shaped,
        json_values.map(lambda v: json.dumps(v).encode()),
        st.integers(1, 100_000).map(_deep),
        st.integers(10_000, 900_000).map(lambda n: json.dumps({"groupKey": "x" * n}).encode()),
        st.binary(max_size=200),
    )


AUTH = st.sampled_from(
    [f"Bearer {AM_KEY}".encode(), f"Bearer {GF_KEY}".encode(), b"Bearer wrong", b"",
     b"Bearer \xff\xfe", "Bearer ünïcödé".encode(), b"Basic abc"]
)  # fmt: skip


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    config = CONFIG + PAGING.replace("sms-adhoc", "oncall-sms") + ALERTS
    yield from rig_for(Path(tmp_path_factory.mktemp("fuzz-alerts")), config, KEYS)


@FUZZ
@given(data=st.data())
def test_any_alert_group_gets_202_400_401_or_413(rig: Rig, data: Any) -> None:
    name = data.draw(st.sampled_from(["prod-am", "grafana"] * 3 + ["uptime", "nobody", "%C3%A9"]))
    body = data.draw(bodies(group))
    headers = {"Content-Type": b"application/json"}
    own = {"prod-am": AM_KEY, "grafana": GF_KEY}.get(name)
    right = own is not None and data.draw(st.booleans())  # half with the integration's key
    if auth := (f"Bearer {own}".encode() if right else data.draw(AUTH)):
        headers["Authorization"] = auth
    rig.catcher.clear()
    status, seconds = rig.raw_request(f"/alerts/{name}", body, headers)
    problems = rig.settle("alerts group", status, seconds, ALERT_ANSWERS)
    assert status in ALERT_ANSWERS, (name, headers, body[:200])
    assert problems == []


@FUZZ
@given(body=bodies(event))
def test_any_events_v2_event_gets_202_400_401_or_413(rig: Rig, body: bytes) -> None:
    rig.catcher.clear()
    status, seconds = rig.raw_request("/alerts/v2/enqueue", body, {"X": b"y"})
    problems = rig.settle("alerts events-v2", status, seconds, ALERT_ANSWERS)
    assert status in ALERT_ANSWERS, body[:200]
    assert problems == []
