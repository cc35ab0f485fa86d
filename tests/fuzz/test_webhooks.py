"""Fuzz ``POST /webhooks/{account}``: any body, any credentials, answered 200/400/401/404 only.

Issue 7, section 4: a non-ASCII signature or secret header answered 500 with a traceback. Here
TalkNTalk receipts come with valid, wrong, missing and undecodable HMAC signatures; Kaleyra's
with its header secret (``kal``) or HTTP Basic auth (``kalb``); bodies are random JSON, deep
nesting, wrong types, huge strings and bytes that are not UTF-8.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from providers.talkntalk_receipts import talkntalk_signature
from tests.bot.receipts.test_receipts import KAL_SECRET, TNT_SECRET
from tests.fuzz.slack_rig import EXAMPLES, KAL_USER, WEBHOOK, Rig, rig_for
from tests.fuzz.test_slack_events import json_values

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

STATUS_WORDS = ["queued", "sent", "delivered", "failed", "undelivered", "read", "x", ""]
receipt_like = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["sms.delivered", "sms.failed", "wallet.low", ""]) | json_values,
        "data": st.fixed_dictionaries(
            {"id": st.integers() | st.text(max_size=12) | json_values,
             "status": st.sampled_from(STATUS_WORDS) | json_values},
            optional={"reason": json_values, "error_code": json_values,
                      "mobile": st.text(max_size=16), "updated_at": json_values},
        ) | json_values,
        "timestamp": st.integers() | st.floats() | st.text(max_size=30) | st.none(),
        "meta_object": st.fixed_dictionaries(
            {"value": st.fixed_dictionaries({"statuses": st.lists(json_values, max_size=3)})}
        ) | json_values,
        "extra_info": st.fixed_dictionaries({"ref": json_values}) | json_values,
    }
)  # fmt: skip


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


bodies = st.one_of(
    receipt_like.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 100_000).map(_deep),
    st.integers(1, 100_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(10_000, 900_000).map(lambda n: json.dumps({"event": "sms.x" * n}).encode()),
    st.binary(max_size=200),
    st.just(b'{"event": "sms.delivered", "data": {"id": "\xff\xfe", "status": "delivered"}}'),
)

UNDECODABLE = [b"sha256=\xc3\xa9" + b"0" * 63, b"\xff\xfe\xfd", "ünïcödé".encode(), b"Basic \xff"]


def _basic(user: str | bytes, password: str | bytes) -> bytes:
    raw = (user if isinstance(user, bytes) else user.encode()) + b":"
    raw += password if isinstance(password, bytes) else password.encode()
    return b"Basic " + base64.b64encode(raw)


@st.composite
def credentials(draw: st.DrawFn, account: str, body: bytes) -> dict[str, bytes]:
    """Valid, wrong, missing or undecodable credentials for ``account``, plus noise headers."""
    how = draw(st.sampled_from(["valid", "wrong", "missing", "undecodable"]))
    headers: dict[str, bytes] = {}
    if account == "tnt":
        good = talkntalk_signature(TNT_SECRET, body).encode()
        value = {"valid": draw(st.sampled_from([b"", b"sha256="])) + good,
                 "wrong": b"sha256=" + talkntalk_signature("nope", body).encode(),
                 "undecodable": draw(st.sampled_from(UNDECODABLE))}.get(how)  # fmt: skip
        if value is not None:
            headers["X-TalkNTalk-Signature"] = value
    elif account == "kal":
        value = {"valid": KAL_SECRET.encode(), "wrong": b"kal-nope",
                 "undecodable": draw(st.sampled_from(UNDECODABLE))}.get(how)  # fmt: skip
        if value is not None:
            headers["X-Webhook-Secret"] = value
    else:
        value = {"valid": _basic(KAL_USER, KAL_SECRET), "wrong": _basic(KAL_USER, "x"),
                 "undecodable": draw(st.sampled_from([*UNDECODABLE,
                                                      _basic(b"\xff", KAL_SECRET.encode())]))
                 }.get(how)  # fmt: skip
        if value is not None:
            headers["Authorization"] = value
    noise = draw(st.dictionaries(
        st.sampled_from(["X-TalkNTalk-Event", "X-TalkNTalk-Delivery", "Content-Type", "X-Zz"]),
        st.binary(max_size=20).filter(lambda b: b"\r" not in b and b"\n" not in b),
        max_size=2,
    ))  # fmt: skip
    return {**noise, **headers}


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    yield from rig_for(Path(tmp_path_factory.mktemp("fuzz-webhooks")))


@FUZZ
@given(data=st.data())
def test_any_webhook_gets_200_400_401_or_404_and_no_traceback(rig: Rig, data: Any) -> None:
    account = data.draw(st.sampled_from(["tnt", "kal", "kalb", "ak", "nobody", "%C3%A9"]))
    body = data.draw(bodies)
    headers = data.draw(credentials(account, body))
    rig.catcher.clear()
    status, seconds = rig.raw_request(f"/webhooks/{account}", body, headers)
    problems = rig.settle(f"webhook {account}", status, seconds, WEBHOOK)
    assert status in WEBHOOK, (account, headers, body[:200])
    assert problems == []
