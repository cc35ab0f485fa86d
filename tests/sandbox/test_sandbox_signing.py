"""Requests are signed exactly as Slack signs them."""

from __future__ import annotations

import time

from bridge_sandbox.slack.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from slack_sdk.signature import Clock, SignatureVerifier

from tests.fixtures import slack_payload

VECTOR = slack_payload("signing_test_vector.json")


def test_sign_matches_slacks_published_example() -> None:
    # signing_test_vector.json: "x_slack_signature": "v0=a2114d57b48e...c69b503"
    headers = sign(
        VECTOR["signing_secret"],
        VECTOR["raw_body"].encode(),
        int(VECTOR["x_slack_request_timestamp"]),
    )
    assert headers == {
        TIMESTAMP_HEADER: VECTOR["x_slack_request_timestamp"],
        SIGNATURE_HEADER: VECTOR["x_slack_signature"],
    }


def test_slack_sdk_accepts_the_vector_signature_at_its_time() -> None:
    verifier = SignatureVerifier(
        VECTOR["signing_secret"], clock=_Clock(int(VECTOR["x_slack_request_timestamp"]))
    )
    headers = sign(
        VECTOR["signing_secret"],
        VECTOR["raw_body"].encode(),
        int(VECTOR["x_slack_request_timestamp"]),
    )
    assert verifier.is_valid_request(VECTOR["raw_body"].encode(), headers)


def test_slack_sdk_accepts_a_fresh_signature_and_rejects_a_wrong_secret() -> None:
    body = b"payload=%7B%22type%22%3A%22shortcut%22%7D"
    headers = sign("s3cret", body)
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    assert not SignatureVerifier("s3cret").is_valid_request(body + b"x", headers)


def test_slack_sdk_rejects_a_signature_older_than_5_minutes() -> None:
    # README: "requests more than 300 s old are rejected with 401"
    body = b"command=%2Fsend"
    headers = sign("s3cret", body, int(time.time()) - 301)
    assert not SignatureVerifier("s3cret").is_valid_request(body, headers)


class _Clock(Clock):
    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)
