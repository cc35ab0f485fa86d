"""``python -m bot check`` on the on-call part, in a real subprocess, at a moment given by
``--at`` (never the wall clock): who is on call and the next three hand-offs per schedule, in the
schedule's timezone; a gap or an SMS step to someone without a phone refuses the file."""

from __future__ import annotations

from pathlib import Path

from tests.bot.cli.test_cli_check import EXAMPLE_KEYS
from tests.bot.cli_kit import cli_env, run_cli
from tests.bot.dispatch_kit import REPO

EXAMPLE = REPO / "config" / "bridge.example.yaml"


async def test_check_prints_who_is_on_call_and_the_next_three_hand_offs() -> None:
    run = await run_cli(
        "--config", str(EXAMPLE), "check", "--at", "2026-11-24T20:00+03:00",
        env=cli_env(**EXAMPLE_KEYS),
    )  # fmt: skip

    assert run.code == 0, run.err
    primary = run.out.split("  primary  (rotation, times in Africa/Nairobi)\n", 1)[1]
    assert primary.splitlines()[:4] == [
        "    at Tue 2026-11-24 20:00  carol until Wed 2026-11-25 09:00",  # the override
        "    next hand-offs   Wed 2026-11-25 09:00 → alice",
        "                     Mon 2026-11-30 09:00 → bob",
        "                     Mon 2026-12-07 09:00 → carol",
    ]
    secondary = run.out.split("  secondary  (config/secondary.ics, times in Africa/Nairobi)\n")[1]
    assert secondary.splitlines()[:4] == [
        "    at Tue 2026-11-24 20:00  carol until Mon 2026-11-30 09:00",
        "    next hand-offs   Mon 2026-11-30 09:00 → bob",
        "                     Thu 2026-12-03 18:00 → alice",  # the one-off event
        "                     Fri 2026-12-04 09:00 → bob",
    ]
    assert "Escalations (/send page NAME)" in run.out


GAPPY = """\
providers:
  tnt: {type: talkntalk, api_key: "${TALKNTALK_API_KEY}"}
channels:
  oncall-sms: {provider: tnt, service: sms, sender_id: ACME, allow_adhoc: true,
               allowed_senders: [U012ABCDEF]}
people:
  alice: {phone: "+254712345678"}
  bob: {slack: U0BOB00002}
schedules:
  primary:
    ical: ICS
escalations:
  db:
    allowed_senders: [U012ABCDEF]
    steps:
      - {notify: [bob], via: [oncall-sms]}
"""

ONE_DAY = """\
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//tests//one day//EN
BEGIN:VEVENT
UID:one@tests
DTSTAMP:20260101T000000Z
SUMMARY:alice
DTSTART:20261201T060000Z
DTEND:20261202T060000Z
END:VEVENT
END:VCALENDAR
"""


async def test_check_refuses_a_gap_and_a_person_without_a_phone_on_an_sms_step(
    tmp_path: Path,
) -> None:
    (tmp_path / "one.ics").write_text(ONE_DAY, encoding="utf-8")
    path = tmp_path / "bridge.yaml"
    path.write_text(GAPPY.replace("ICS", str(tmp_path / "one.ics")), encoding="utf-8")
    run = await run_cli(
        "--config", str(path), "check", "--at", "2026-11-29T12:00Z", env=cli_env(**EXAMPLE_KEYS)
    )

    assert run.code == 1
    assert run.out == ""
    lines = run.err.strip().splitlines()
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{path}:11", "schedules.primary.ical"],
        [f"{path}:16", "escalations.db.steps[0].notify[0]"],
    ]
    assert (
        "nobody is on call from Sun 2026-11-29 12:00 UTC until Tue 2026-12-01 06:00 UTC" in lines[0]
    )
    assert "bob has no phone, but this step pages by SMS through oncall-sms" in lines[1]


async def test_check_at_needs_an_offset() -> None:
    run = await run_cli("--config", str(EXAMPLE), "check", "--at", "2026-11-24T20:00")
    assert run.code == 2
    assert "has no offset" in run.err
