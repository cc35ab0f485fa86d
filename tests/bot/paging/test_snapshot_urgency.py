"""A page's copy of its escalation keeps its urgency (snapshot v2); a v1 copy, written before
urgency existed, reads as high, as every page then was."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.paging.snapshot import VERSION, from_json, to_json
from config.settings import Escalation, Step, Target

LOW = Escalation(
    name="disk-warnings",
    steps=(Step((Target("person", "alice"),), ("sms-adhoc",), timedelta(minutes=5)),),
    repeat=1,
    fallback_after=None,
    allowed_users=frozenset({"U0ALICE001"}),
    allowed_usergroups=frozenset(),
    allowed_senders=("sre",),
    urgency="low",
)
HIGH = replace(LOW, urgency="high")


def test_a_copy_keeps_its_urgency_and_a_routes_overrides_the_escalations() -> None:
    assert VERSION == 2
    assert from_json(to_json(LOW), HIGH, "disk-warnings") == LOW  # the config turned high since
    assert from_json(to_json(HIGH), HIGH, "disk-warnings").urgency == "high"
    assert from_json(to_json(HIGH, "low"), HIGH, "disk-warnings").urgency == "low"


def test_a_v1_copy_reads_as_high() -> None:
    v1 = json.loads(to_json(LOW))
    v1["v"] = 1
    del v1["urgency"]
    read = from_json(json.dumps(v1), LOW, "disk-warnings")  # the config says low now
    assert read.urgency == "high"
    assert read.steps == LOW.steps


@pytest.mark.parametrize("change", [{"v": 3}, {"urgency": "medium"}])
def test_an_unknown_version_or_urgency_is_refused(change: dict[str, object]) -> None:
    text = json.dumps({**json.loads(to_json(LOW)), **change})
    with pytest.raises(ValueError, match="unknown"):
        from_json(text, LOW, "disk-warnings")
