"""A bridge whose people have their own contact rules and quiet hours, on a clock the test
drives: the scheduler's loop ticks once at start and sleeps; the test runs every tick.

Who is who (at ``START``, 03:00 UTC = 06:00 in Nairobi, inside 22:00–07:00 quiet hours):
dave has three rules (WhatsApp by india-wa, SMS by sms-adhoc after 1m, WhatsApp Business by
customers after 2m); erin has two rules and quiet hours; frank has quiet hours and no rules;
gwen (step 2 of the quiet escalations) has neither; hans is in Berlin, quiet 22:00–02:30
(for the nights the clock jumps); ivan's quiet hours begin a minute after ``START``, between
his first rule and his second.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from bot.server.runtime import RuntimeOptions
from tests.bot.bridge_kit import CONFIG, FAST, Bridge, start_bridge
from tests.bot.paging_kit import Clock
from tests.bot.slack_steps import slash

START = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
QUIET_ENDS = datetime(2026, 11, 24, 4, 0, tzinfo=UTC)  # 07:00 Africa/Nairobi

DAVE_WA = "919812345670"
DAVE_SMS = "254711000001"
ERIN_SMS = "254711000002"
ERIN_WA = "919812345672"
FRANK_SMS = "254711000003"
GWEN_SMS = "254711000004"
HANS_SMS = "254711000005"
IVAN_SMS = "254711000006"
IVAN_WA = "919812345676"

REACH = """
people:
  dave:
    phone: "+254711000001"
    whatsapp: "+919812345670"
    slack: U0DAVE0004
    reach:
      - {via: india-wa}
      - {via: sms-adhoc, after: 1m}
      - {via: customers, after: 2m}
  erin:
    phone: "+254711000002"
    whatsapp: "+919812345672"
    reach: [{via: sms-adhoc}, {via: india-wa, after: 1m}]
    quiet: {from: "22:00", until: "07:00", timezone: Africa/Nairobi}
  frank:
    phone: "+254711000003"
    quiet: {from: "22:00", until: "07:00", timezone: Africa/Nairobi}
  gwen: {phone: "+254711000004"}
  ivan:
    phone: "+254711000006"
    whatsapp: "+919812345676"
    reach: [{via: sms-adhoc}, {via: india-wa, after: 2m}, {via: customers, after: 3m}]
    quiet: {from: "06:01", until: "07:00", timezone: Africa/Nairobi}
  hans:
    phone: "+254711000005"
    quiet: {from: "22:00", until: "02:30", timezone: Europe/Berlin}

escalations:
  rules:
    allowed_senders: [sre]
    steps:
      - {notify: [dave], via: [sms-adhoc], wait: 10m}
  rules-short:
    allowed_senders: [sre]
    steps:
      - {notify: [dave], via: [sms-adhoc], wait: 30s}
  rules-wa:
    allowed_senders: [sre]
    steps:
      - {notify: [dave], via: [india-wa], wait: 10m}
  quiet-low:
    allowed_senders: [sre]
    urgency: low
    steps:
      - {notify: [erin, frank], via: [sms-adhoc], wait: 5m}
      - {notify: [gwen], via: [sms-adhoc], wait: 2h}
  ivan-low:
    allowed_senders: [sre]
    urgency: low
    steps:
      - {notify: [ivan], via: [sms-adhoc], wait: 3h}
  berlin-low:
    allowed_senders: [sre]
    urgency: low
    steps:
      - {notify: [hans], via: [sms-adhoc], wait: 3h}
  quiet-high:
    allowed_senders: [sre]
    steps:
      - {notify: [erin, frank], via: [sms-adhoc], wait: 5m}
"""


def options(clock: Clock) -> RuntimeOptions:
    return replace(FAST, clock=clock, page_tick=3600)


async def reach_bridge(tmp_path: Path, clock: Clock, extra: str = "", **env: str) -> Bridge:
    return await start_bridge(
        tmp_path, config_text=CONFIG + REACH + extra, options=options(clock), extra_env=env
    )


def sent(bridge: Bridge) -> list[tuple[str, str]]:
    """(provider, recipient without its +) of every message the emulators accepted, provider
    by provider."""
    emulators = bridge.emulators
    return [
        *(("tnt", d.recipient.lstrip("+")) for d in emulators.talkntalk.deliveries),
        *(("kal", d.recipient.lstrip("+")) for d in emulators.kaleyra.deliveries),
        *(("ak", d.recipient.lstrip("+")) for d in emulators.autokonnect.deliveries),
    ]


async def page(bridge: Bridge, escalation: str) -> str:
    """``/send page <escalation>`` as alice; the page id."""
    answer = (await slash(bridge, f"page {escalation} DB down")).text
    found = re.search(r"P[0-9A-Z]{8}", answer)
    assert found is not None, answer
    return found.group(0)
