"""``BRIDGE_DB`` at start-up: a typo'd scheme is refused (not taken for a file name), a
malformed PostgreSQL URL is one line (no traceback), and no form of its password is shown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bridge_sandbox.emulators.suite import EmulatorSuite

from bot.store import StoreError, open_store, redact_url
from bot.store.target import url_secrets
from tests.bot.cli_kit import bridge_yaml, emulators
from tests.bot.startup_kit import SLACK, bridge, error_lines

__all__ = ["bridge_yaml", "emulators"]

# Each holds a password that must never be printed; none can be used.
MALFORMED = [
    "postgresql://bridge:pw-port-abc@127.0.0.1:abc/test",  # a port that is not a number
    "postgresql://bridge:pw-ipv6-open@[::1/test",  # a broken IPv6 literal
    "postgresql://bridge:pw-sslmode@127.0.0.1:5432/test?sslmode=bogus",
    "postgresql://bridge:pw-port-big@127.0.0.1:99999/test",
    "postgresql://bridge@127.0.0.1:5432/test?password=pw-query&target_session_attrs=weird",
    "postgresql://bridge@127.0.0.1:1/test?password=pw-unreachable",  # valid, nobody there
    "postgresql://bridge:pw%40encoded@127.0.0.1:1/test",  # the decoded form is p@… too
]
TYPOS = [
    "postgresl://bridge:pw-typo@db.internal:5432/bridge",
    "sqlite:///var/bridge.db",
    "mysql://bridge@db/bridge",
    "POSTGRES-QL://bridge@db/bridge",
]


def assert_one_clear_line(url: str, output: str) -> None:
    errors = error_lines(output)
    assert len(errors) == 1, output
    assert "BRIDGE_DB" in errors[0], output
    assert "Traceback" not in output
    for secret in url_secrets(url):
        assert secret not in output, (secret, output)


@pytest.mark.parametrize("url", MALFORMED)
async def test_a_malformed_postgresql_url_is_one_line_without_its_password(
    tmp_path: Path, bridge_yaml: Path, url: str
) -> None:
    code, output = await bridge(tmp_path, "--config", str(bridge_yaml), "history", BRIDGE_DB=url)
    assert code == 1, output
    assert_one_clear_line(url, output)


@pytest.mark.parametrize("url", MALFORMED[:3])
async def test_serve_refuses_a_malformed_postgresql_url_in_one_line(
    tmp_path: Path, bridge_yaml: Path, url: str
) -> None:
    code, output = await bridge(
        tmp_path,
        "--config",
        str(bridge_yaml),
        "serve",
        deadline=30,
        BRIDGE_DB=url,
        **SLACK,
    )
    assert code == 1, output
    assert_one_clear_line(url, output)


@pytest.mark.parametrize("url", TYPOS)
async def test_a_url_of_another_scheme_is_refused_and_no_file_is_made(
    tmp_path: Path, bridge_yaml: Path, emulators: EmulatorSuite, url: str
) -> None:
    for command in ("history", "send"):
        args = ["--channel", "sms", "--text", "x"] if command == "send" else []
        code, output = await bridge(
            tmp_path, "--config", str(bridge_yaml), command, *args, BRIDGE_DB=url
        )
        assert code == 1, output
        assert_one_clear_line(url, output)
        assert "postgresql://" in output
        assert "SQLite file path" in output
    made = await asyncio.to_thread(lambda: sorted(p.name for p in tmp_path.iterdir()))
    assert made == ["bridge.yaml"]  # nothing created
    assert emulators.talkntalk.requests == []


def test_open_store_refuses_another_scheme_but_takes_plain_paths(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="looks like a URL"):
        open_store("postgresl://bridge@db/bridge")
    for path in (str(tmp_path / "a.db"), "var/bridge.db", "./postgresl:/odd-but-a-path.db"):
        assert open_store(path).kind == "sqlite"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://bridge:s3cret@db:5432/b?search_path=b",
            "postgresql://bridge:***@db:5432/b?search_path=b",
        ),
        (
            "postgresql://bridge@db/b?sslmode=require&password=s3cret",
            "postgresql://bridge@db/b?sslmode=require&password=***",
        ),
        (
            "postgres://db/b?PassWord=s3cret&sslpassword=k3y",
            "postgres://db/b?PassWord=***&sslpassword=***",
        ),
        ("postgresql://bridge:s3/cr?et=@db/b", "postgresql://bridge:***@db/b"),
        ("postgresql://bridge:s3cret@[::1/b", "postgresql://bridge:***@[::1/b"),
        ("var/bridge.db", "var/bridge.db"),
    ],
)
def test_every_password_form_is_redacted(url: str, shown: str) -> None:
    assert redact_url(url) == shown
