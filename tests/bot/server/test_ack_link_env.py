"""Acknowledge links at start-up: never plain http off the machine, never a guessable key.

A link goes out by SMS; a key of a few characters was recovered offline from one link, and an
``http://`` link can be read or rewritten on the way. ``serve`` refuses both in one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.server.env import EnvError, read_env
from bot.server.runtime import ack_links
from tests.bot.cli_kit import bridge_yaml, emulators
from tests.bot.startup_kit import SIGNING, SLACK, bridge, error_lines

__all__ = ["bridge_yaml", "emulators"]

STRONG = "kq3V0Tq0c1mQZKp8s4B0fJ2xG7wX9yLd1hN5rE6uA8o"  # token_urlsafe(32): 43 bytes
HTTPS = "https://bridge.example.com"


def env(**values: str) -> dict[str, str]:
    return {"SLACK_SIGNING_SECRET": SIGNING, "SLACK_BOT_TOKEN": "xoxb-1", **values}


@pytest.mark.parametrize(
    "url",
    [
        HTTPS,
        "https://bridge.example.com:8443/base/",
        "http://127.0.0.1:3000",
        "http://127.8.9.10",
        "http://localhost:8080",
        "http://LOCALHOST",
        "http://[::1]:3000",
    ],
)
def test_https_or_a_loopback_http_address_signs_links(url: str) -> None:
    links = ack_links(read_env(env(BRIDGE_PUBLIC_URL=url, BRIDGE_ACK_SECRET=STRONG)))
    assert links is not None
    assert links.url("P12345678", "alice").startswith(url.rstrip("/") + "/ack/")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://bridge.example.com", "plain http"),
        ("http://10.0.0.7:3000", "plain http"),
        ("http://128.0.0.1", "plain http"),
        ("http://[::2]", "plain http"),
        ("http://localhost.evil.example", "plain http"),
        ("ftp://bridge.example.com", "not an http(s) address"),
        ("bridge.example.com", "not an http(s) address"),
        ("https://bridge.example.com:port", "not an http(s) address"),
        ("https://[::1", "not an http(s) address"),
        ("https://bridge.example.com/?x=1", "?query or #fragment"),
    ],
)
def test_a_public_url_links_cannot_safely_use_is_refused(url: str, says: str) -> None:
    with pytest.raises(EnvError, match="BRIDGE_PUBLIC_URL") as raised:
        read_env(env(BRIDGE_PUBLIC_URL=url, BRIDGE_ACK_SECRET=STRONG)).require_http()
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("secret", ["abc", "x" * 31, "é" * 15])  # 3, 31 and 30 bytes
def test_an_ack_secret_shorter_than_32_bytes_is_refused_with_how_to_make_one(
    secret: str,
) -> None:
    with pytest.raises(EnvError, match="BRIDGE_ACK_SECRET is") as raised:
        read_env(env(BRIDGE_PUBLIC_URL=HTTPS, BRIDGE_ACK_SECRET=secret)).require_http()
    message = str(raised.value)
    assert "at least 32" in message
    assert "secrets.token_urlsafe(32)" in message
    assert secret not in message


def test_a_short_ack_secret_is_refused_even_without_a_public_url() -> None:
    """Set but weak is a mistake whether or not links are on yet: say so before they are."""
    with pytest.raises(EnvError, match="BRIDGE_ACK_SECRET"):
        read_env(env(BRIDGE_ACK_SECRET="abc")).require_http()


def test_a_32_byte_ack_secret_is_enough() -> None:
    links = ack_links(read_env(env(BRIDGE_PUBLIC_URL=HTTPS, BRIDGE_ACK_SECRET="k" * 32)))
    assert links is not None


def test_a_short_signing_secret_is_not_used_as_the_link_key() -> None:
    short = "0123456789abcdef0123456789abcde"  # 31 bytes
    weak = read_env(env(BRIDGE_PUBLIC_URL=HTTPS, SLACK_SIGNING_SECRET=short))
    with pytest.raises(EnvError, match="set BRIDGE_ACK_SECRET") as raised:
        weak.require_http()
    assert short not in str(raised.value)
    with pytest.raises(EnvError, match="set BRIDGE_ACK_SECRET"):
        ack_links(weak)
    # The same weak signing secret is fine when a strong BRIDGE_ACK_SECRET signs the links,
    # and when there are no links at all.
    read_env(env(BRIDGE_PUBLIC_URL=HTTPS, SLACK_SIGNING_SECRET=short, BRIDGE_ACK_SECRET=STRONG))
    assert ack_links(read_env(env(SLACK_SIGNING_SECRET=short))) is None


def test_socket_mode_with_links_but_no_key_is_refused() -> None:
    socket = read_env(
        {"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1", "BRIDGE_PUBLIC_URL": HTTPS}
    )
    with pytest.raises(EnvError, match="set BRIDGE_ACK_SECRET"):
        socket.require_socket()


def test_a_32_byte_signing_secret_signs_links_when_no_ack_secret_is_set() -> None:
    links = ack_links(read_env(env(BRIDGE_PUBLIC_URL=HTTPS)))
    assert links is not None
    assert links.read(links.token("P12345678", "alice")) is not None


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"BRIDGE_PUBLIC_URL": "http://bridge.example.com"}, "plain http"),
        ({"BRIDGE_PUBLIC_URL": HTTPS, "BRIDGE_ACK_SECRET": "abc"}, "token_urlsafe(32)"),
        (
            {"BRIDGE_PUBLIC_URL": HTTPS, "SLACK_SIGNING_SECRET": "short-signing-secret"},
            "set BRIDGE_ACK_SECRET",
        ),
    ],
)
async def test_serve_refuses_to_start_in_one_line(
    tmp_path: Path, bridge_yaml: Path, extra: dict[str, str], says: str
) -> None:
    code, output = await bridge(
        tmp_path, "--config", str(bridge_yaml), "serve", deadline=30, **{**SLACK, **extra}
    )
    assert code == 1, output
    [line] = error_lines(output)
    assert says in line
    assert "Traceback" not in output
    assert "listening" not in output  # refused before it took the port
    assert "short-signing-secret" not in output
