"""The receipt bodies README shows, posted to a live bridge's ``/webhooks/<account>`` over HTTP.

Each example is read from README itself (only its ids are swapped for a real send's), so the
documented reading and the parsers cannot drift apart. Receipts the bridge cannot use — no send
has their id, or their status is a word it does not read — must each log one warning line and
count in ``bridge_receipts_unmatched_total``, never vanish quietly.
"""

from __future__ import annotations

import json
import logging
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bot import metrics
from bot.store.base import RecipientStatus
from tests.bot.bridge_kit import Bridge
from tests.bot.receipts.test_receipts import (
    KAL_SECRET,
    TNT_SECRET,
    bridge_rx,
    post,
    post_tnt,
    sent_request,
    statuses,
)

__all__ = ["bridge_rx"]

README = Path(__file__).parents[3] / "README.md"


def readme_example(name: str) -> dict[str, Any]:
    """The JSON block under ``<!-- receipt-example: name -->`` in README."""
    text = README.read_text(encoding="utf-8")
    found = re.search(
        rf"<!-- receipt-example: {name} -->\s*```json\n(.*?)\n\s*```", text, re.DOTALL
    )
    assert found is not None, f"README has no receipt example {name!r}"
    parsed: dict[str, Any] = json.loads(textwrap.dedent(found.group(1)))
    return parsed


def unmatched(account: str, reason: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "bridge_receipts_unmatched_total", {"provider": account, "reason": reason}
    )
    return value or 0.0


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def kal_entry(example: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = example["meta_object"]["value"]["statuses"][0]
    return entry


async def test_the_readme_talkntalk_example_fails_the_send_it_names(bridge_rx: Bridge) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    example = readme_example("talkntalk")
    example["data"]["id"] = recipients[0].provider_message_id
    body = json.dumps(example).encode()
    assert await post_tnt(bridge_rx, body) == (200, {"ok": True, "applied": 1, "events": 1})
    await bridge_rx.idle()
    failed = (await bridge_rx.runtime.store.recipients(request_id))[0]
    assert failed.status is RecipientStatus.FAILED
    assert failed.reason == (
        "the network reported the message could not be delivered (Absent subscriber)"
    )
    assert failed.code == "EC_ABSENT_SUBSCRIBER"


async def test_the_readme_kaleyra_example_fails_the_send_its_ref_names(bridge_rx: Bridge) -> None:
    request_id, (recipient,) = await sent_request(bridge_rx, "india-wa +919812345678 Hello")
    example = readme_example("kaleyra")
    example["extra_info"]["ref"] = recipient.ref  # the ref links it; the wamid matches nothing
    body = json.dumps(example).encode()
    status, answer = await post(bridge_rx, "kal", body, {"X-Webhook-Secret": KAL_SECRET})
    assert (status, answer) == (200, {"ok": True, "applied": 1, "events": 1})
    await bridge_rx.idle()
    (failed,) = await bridge_rx.runtime.store.recipients(request_id)
    assert failed.status is RecipientStatus.FAILED
    assert failed.reason == "WhatsApp could not deliver the message (Message undeliverable)"
    assert failed.code == "131026"


async def test_a_receipt_for_no_send_is_logged_once_and_counted(
    bridge_rx: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    example = readme_example("talkntalk")
    example["data"]["id"] = "no-such-message-7"
    before = unmatched("tnt", "unknown_send")
    body = json.dumps(example).encode()
    assert await post_tnt(bridge_rx, body) == (200, {"ok": True, "applied": 0, "events": 1})
    assert unmatched("tnt", "unknown_send") == before + 1
    (line,) = [w for w in warnings(caplog) if "matches no send" in w]
    assert line.startswith("receipt failed for tnt matches no send: message id no-such-message-7")
    assert "254712345678" not in caplog.text  # the number is masked
    assert TNT_SECRET not in caplog.text


async def test_a_repeated_receipt_of_a_known_send_is_not_called_unmatched(
    bridge_rx: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    _, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    example = readme_example("talkntalk")
    example["data"]["id"] = recipients[0].provider_message_id
    body = json.dumps(example).encode()
    before = unmatched("tnt", "unknown_send")
    for applied in (1, 0):
        assert (await post_tnt(bridge_rx, body))[1]["applied"] == applied
    assert unmatched("tnt", "unknown_send") == before
    assert not [w for w in warnings(caplog) if "matches no send" in w]


async def test_an_unknown_talkntalk_status_is_logged_and_counted(
    bridge_rx: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    request_id, recipients = await sent_request(bridge_rx, "oncall-sms Disk full")
    example = readme_example("talkntalk")
    example["event"] = "sms.bounced"
    example["data"].update(id=recipients[0].provider_message_id, status="bounced")
    before = unmatched("tnt", "unknown_status")
    status, answer = await post_tnt(bridge_rx, json.dumps(example).encode())
    assert (status, answer["applied"]) == (200, 0)
    assert unmatched("tnt", "unknown_status") == before + 1
    (line,) = [w for w in warnings(caplog) if "status this bridge does not read" in w]
    assert line.startswith("receipt for tnt has a status this bridge does not read: 'bounced'")
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.SENT] * len(recipients)


async def test_an_unknown_kaleyra_status_is_logged_and_counted(
    bridge_rx: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    request_id, (recipient,) = await sent_request(bridge_rx, "india-wa +919812345678 Hello")
    example = readme_example("kaleyra")
    example["extra_info"]["ref"] = recipient.ref
    kal_entry(example)["status"] = "Deleted\n\x1b[31m"  # the provider's text, shown tamed
    before = unmatched("kal", "unknown_status")
    body = json.dumps(example).encode()
    status, answer = await post(bridge_rx, "kal", body, {"X-Webhook-Secret": KAL_SECRET})
    assert (status, answer["applied"]) == (200, 0)
    assert unmatched("kal", "unknown_status") == before + 1
    (line,) = [w for w in warnings(caplog) if "status this bridge does not read" in w]
    assert line.startswith(
        "receipt for kal has a status this bridge does not read: 'Deleted ?[31m'"
    )
    assert await statuses(bridge_rx, request_id) == [RecipientStatus.SENT]
