"""Shared fixtures: a loopback-only network guard and emulators on 127.0.0.1, port 0."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from bridge_sandbox.emulators.common import STATE_KEY, EmulatorState, RunningServer, serve

from tests.alertmanager import HOW_TO_INSTALL as NO_ALERTMANAGER
from tests.browser import HOW_TO_INSTALL, chromium_page

if TYPE_CHECKING:
    from playwright.async_api import Page

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(address: Any) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host != "localhost":
                raise AssertionError(f"test tried to reach a non-loopback host {host!r}") from None
            return
        if not ip.is_loopback:
            raise AssertionError(f"test tried to reach a non-loopback address {host}")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to connect anywhere but loopback."""

    def connect(self: socket.socket, address: Any) -> None:
        _check_address(address)
        return _real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _check_address(address)
        return _real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


StartApp = Callable[[web.Application], Awaitable[RunningServer]]


@pytest.fixture
async def start_app() -> AsyncIterator[StartApp]:
    """Start aiohttp apps on loopback for the test and close them after it."""
    servers: list[RunningServer] = []

    async def _start(app: web.Application) -> RunningServer:
        server = await serve(app)
        servers.append(server)
        return server

    yield _start
    for server in reversed(servers):
        await server.close()


@pytest.fixture
async def browser_page(tmp_path: Path) -> AsyncIterator[Page]:
    """A page in a fresh headless Chromium (tests/browser.py); skips, saying how to install
    Chromium, where there is none, unless BRIDGE_REQUIRE_BROWSER=1 (.ci/run), when it fails."""
    async with chromium_page(tmp_path / "chromium-profile") as page:
        yield page


def state_of(app: web.Application) -> EmulatorState:
    return app[STATE_KEY]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line, not one per test, when the PostgreSQL store tests were skipped for want of a
    server (tests/bot/store_backends.py), the browser tests for want of Chromium, or the
    Alertmanager tests for want of prometheus-alertmanager (tests/alertmanager.py)."""
    from tests.bot.store_backends import HOW_TO_RUN

    skipped = terminalreporter.stats.get("skipped", [])
    for line in (HOW_TO_RUN, HOW_TO_INSTALL, NO_ALERTMANAGER):
        if any(line in str(getattr(report, "longrepr", "")) for report in skipped):
            terminalreporter.write_line(line)
