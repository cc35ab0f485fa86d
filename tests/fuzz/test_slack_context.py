"""Signed interactions whose ids bolt reads for its context have the wrong type: 200, no traceback.

The long fuzz run logged ``TypeError`` from yarl ("value should be str, int or float, got
{'type': None}") for mangled ``shortcut`` payloads: bolt takes ``team_id`` from ``user.team_id``
(or ``team``, ``authorizations``…) and puts it in every Web API call of the request's client,
and its first ``auth.test`` sends it as a URL query parameter. A ``team``, ``enterprise`` or
``channel`` that is a number made bolt's own extraction raise (a 500). ``bot/slack/shapes.py``
now checks every field bolt builds its context from.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fuzz.slack_rig import SIGNED_SLACK, Rig, rig_for
from tests.fuzz.test_slack_events import BASES

SHORTCUT, MESSAGE_ACTION = BASES[5], BASES[6]
SUBMISSION = BASES[2]


def _post(rig: Rig, kind: str, payload: dict[str, Any]) -> list[str]:
    rig.catcher.clear()
    status, seconds = rig.post(urlencode({"payload": json.dumps(payload)}).encode())
    problems = rig.settle(kind, status, seconds, SIGNED_SLACK)
    assert status == 200, payload
    return problems


def _with(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    payload = copy.deepcopy(base)
    parent = payload
    for step in path[:-1]:
        parent = parent.setdefault(step, {})
    parent[path[-1]] = value
    return payload


@pytest.fixture
def fresh_rig(tmp_path: Path) -> Iterator[Rig]:
    """A bridge that has answered nothing yet: bolt's first request calls ``auth.test``."""
    yield from rig_for(tmp_path)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from rig_for(Path(tmp_path_factory.mktemp("fuzz-context")))


def test_first_shortcut_with_a_mapping_for_its_team_id_is_ignored_without_traceback(
    fresh_rig: Rig,
) -> None:
    assert (
        _post(fresh_rig, "slack shortcut", _with(SHORTCUT, ("user", "team_id"), {"type": None}))
        == []
    )
    # and the bridge still answers a good shortcut afterwards
    assert _post(fresh_rig, "slack shortcut", SHORTCUT) == []


BAD_IDS: list[tuple[tuple[str, ...], Any]] = [
    (("user", "team_id"), {"type": None}),
    (("team",), 5),
    (("team",), {"id": {"type": None}}),
    (("team", "enterprise_id"), [1]),
    (("enterprise",), True),
    (("enterprise",), {"id": 7}),
    (("enterprise_id",), {"type": None}),
    (("team_id",), ["T1"]),
    (("channel",), 5),
    (("channel",), "C0INCIDENT"),
    (("authorizations",), 5),
    (("authorizations",), [{"team_id": {"type": None}}]),
    (("event",), {"team": 5}),
    (("thread_ts",), {"type": None}),
    (("function_execution_id",), {"type": None}),
]


@pytest.mark.parametrize(("path", "value"), BAD_IDS)
@pytest.mark.parametrize("base", [SHORTCUT, MESSAGE_ACTION, SUBMISSION], ids=lambda b: b["type"])
def test_wrong_types_in_the_ids_bolt_reads_get_200_and_no_traceback(
    rig: Rig, base: dict[str, Any], path: tuple[str, ...], value: Any
) -> None:
    assert _post(rig, f"slack {base['type']}", _with(base, path, value)) == []


@pytest.mark.parametrize("value", [5, [5], [{"response_url": {"type": None}}]])
def test_wrong_response_urls_in_a_submission_get_200_and_no_traceback(rig: Rig, value: Any) -> None:
    assert _post(rig, "slack view_submission", _with(SUBMISSION, ("response_urls",), value)) == []
