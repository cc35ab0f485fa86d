"""``/send silence``, ``silences``, ``unsilence`` and ``alerts`` as the parser reads them: the
matchers end at the first token that is not ``label=value``, the rest is the reason, and bad
input gets a usage line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.parse import ParseError, parse_command
from bot.slack.parse_alerts import MAX_REASON, Alerts, SilenceAlerts, Silences, Unsilence


def test_silence_reads_integration_duration_matchers_and_reason() -> None:
    command = parse_command('Silence Prod-AM 90m instance=db-1 job="pg" disk swap, a=b stays')
    assert command == SilenceAlerts(
        "prod-am",
        timedelta(minutes=90),
        (("instance", "db-1"), ("job", "pg")),
        "disk swap, a=b stays",
    )
    assert parse_command("silence prod-am 1d") == SilenceAlerts(
        "prod-am", timedelta(days=1), (), ""
    )


def test_the_other_alert_commands() -> None:
    assert parse_command("silences") == Silences()
    assert parse_command("ALERTS") == Alerts()
    assert parse_command("unsilence `s7k3qx9a2`") == Unsilence("S7K3QX9A2")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("silence", "usage: /send silence"),
        ("silence prod-am", "usage: /send silence"),
        ("silence prod-am 2", "is not a duration"),
        ("silence prod-am forever", "is not a duration"),
        ("silence prod-am 0m", "is not a duration"),
        ("unsilence", "usage: /send unsilence"),
        ("silence prod-am 1h " + "x" * (MAX_REASON + 1), "the reason is over"),
        ("silence prod-am 1h " + " ".join(f"l{i}=v" for i in range(21)), "at most 20"),
    ],
)
def test_bad_alert_commands_say_how_to_write_them(text: str, said: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_command(text)
    assert said in caught.value.message
