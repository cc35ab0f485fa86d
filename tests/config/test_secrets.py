"""Secrets live only in the environment and never appear in an error or a summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError
from config.describe import describe
from tests.config.helpers import ENV, PROVIDERS, load, one, problems

CHANNEL = (
    PROVIDERS
    + "channels:\n  ch:\n    provider: tnt\n    service: sms\n"
    + '    to: ["+254712345678"]\n    allowed_senders: [U012ABCDEF]\n'
)  # ch on line 14
LITERAL = "sk_live_51HcQ9wLiteralKey"


def test_api_key_written_literally_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL.replace("${TNT_KEY}", LITERAL))
    assert (problem.line, problem.path) == (4, "providers.tnt.api_key")
    assert problem.message == (
        "api_key must come from the environment: write api_key: ${TALKNTALK_API_KEY}"
    )
    assert LITERAL not in str(problem)


def test_api_key_with_a_default_in_the_file_is_rejected(tmp_path: Path) -> None:
    text = CHANNEL.replace("${AK_KEY}", "${AK_KEY:-" + LITERAL + "}")
    problem = one(tmp_path, text, env={"TNT_KEY": "k1", "KAL_KEY": "k3"})
    assert (problem.line, problem.path) == (7, "providers.ak.api_key")
    assert "drop the default" in problem.message
    assert LITERAL not in problem.message


def test_api_key_mixing_text_and_a_variable_is_rejected(tmp_path: Path) -> None:
    problem = one(tmp_path, CHANNEL.replace("${KAL_KEY}", "Bearer ${KAL_KEY}"))
    assert (problem.line, problem.path) == (10, "providers.kal.api_key")


def test_no_secret_value_in_any_config_error(tmp_path: Path) -> None:
    # The key is misused as a number and the account also has a literal key: neither is echoed.
    text = CHANNEL.replace("${AK_KEY}", LITERAL) + "    from: ${TNT_KEY}\n    bogus: 1\n"
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env={"TNT_KEY": "+254999 secret", "KAL_KEY": "k3"})
    message = str(caught.value)
    assert len(caught.value.problems) >= 3
    assert LITERAL not in message
    assert "+254999 secret" not in message
    assert "+254999 secret" not in repr(caught.value.problems)


def test_describe_never_shows_keys(tmp_path: Path) -> None:
    text = describe(load(tmp_path, CHANNEL))
    for secret in ENV.values():
        assert secret not in text


def test_secret_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    settings = load(tmp_path, CHANNEL)
    for secret in ENV.values():
        assert secret not in repr(settings)
        assert secret not in str(settings.provider("tnt"))


def test_wrong_type_for_api_key_does_not_echo_it(tmp_path: Path) -> None:
    found = problems(tmp_path, CHANNEL.replace("${TNT_KEY}", "[1234567890]"))
    assert all("1234567890" not in str(p) for p in found)


def test_describe_says_where_receipts_arrive_without_showing_the_webhook_secret(
    tmp_path: Path,
) -> None:
    text = CHANNEL.replace(
        "    api_key: ${TNT_KEY}\n", "    api_key: ${TNT_KEY}\n    webhook_secret: ${HOOK}\n"
    )
    shown = describe(load(tmp_path, text, {**ENV, "HOOK": "hook-secret-0004"}))
    assert "receipts: on at /webhooks/tnt" in shown
    assert "receipts: none (AutoKonnect returns no message id" in shown
    assert "receipts: off (set webhook_secret to accept them)" in shown  # kal
    assert "hook-secret-0004" not in shown


@pytest.mark.parametrize("var", ["TNT_KEY", "SLACK_BOT_TOKEN", "KAL_WEBHOOK_SECRET"])
def test_a_secret_variable_in_a_field_that_is_shown_is_refused_by_name(
    tmp_path: Path, var: str
) -> None:
    # TNT_KEY is secret because api_key names it; the others by their names alone.
    env = {**ENV, var: ENV.get(var, "xoxb-secret-value-0042")}
    problem = one(tmp_path, CHANNEL + f"    sender_id: ${{{var}}}\n", env)
    assert (problem.line, problem.path) == (19, "channels.ch.sender_id")
    assert problem.message.startswith(f"${{{var}}} is a secret")
    assert env[var] not in str(problem)
