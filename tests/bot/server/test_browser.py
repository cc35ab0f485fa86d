"""Headless Chromium against the bridge's real HTTP server: the browser infrastructure end to end.

Why: the acknowledge link is opened in a person's browser; these prove the browser tests can load
the bridge's pages, submit a form the way the acknowledge page's works, and never leave loopback.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pytest
from aiohttp import web
from yarl import URL

from tests.bot.bridge_kit import Bridge
from tests.browser import DEAD_PROXY, click_button_and_read, page_text
from tests.conftest import StartApp

if TYPE_CHECKING:
    from playwright.async_api import Page


async def test_chromium_shows_the_bridges_health_page(browser_page: Page, bridge: Bridge) -> None:
    text = await page_text(browser_page, bridge.world.bridge.url + "/healthz")
    assert '"ok": true' in text
    assert '"store": {"kind": "sqlite", "reachable": true}' in text


def confirm_app(acted: list[str]) -> web.Application:
    """A page shaped like the acknowledge page (a GET shows one button, its form POSTs to the
    same URL and only that acts), so the round trip is proved before that page exists."""

    async def show(request: web.Request) -> web.Response:
        who = html.escape(request.match_info["token"])
        body = (
            f"<!doctype html><title>Confirm</title><p>Confirm for {who}?</p>"
            '<form method="post"><button type="submit">Acknowledge</button></form>'
        )
        return web.Response(text=body, content_type="text/html")

    async def act(request: web.Request) -> web.Response:
        acted.append(request.match_info["token"])
        return web.Response(text="<p>Acknowledged. Thank you.</p>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/ack/{token}", show)
    app.router.add_post("/ack/{token}", act)
    return app


async def test_a_button_press_posts_the_form_and_a_visit_alone_does_not(
    browser_page: Page, start_app: StartApp
) -> None:
    acted: list[str] = []
    server = await start_app(confirm_app(acted))
    url = str(URL(server.url) / "ack" / "tok-1")

    assert "Confirm for tok-1?" in await page_text(browser_page, url)
    assert acted == []  # opening the page (as a link preview would) does nothing

    text = await click_button_and_read(browser_page, url, "Acknowledge")
    assert "Acknowledged. Thank you." in text
    assert acted == ["tok-1"]


async def test_chromium_cannot_leave_loopback(browser_page: Page) -> None:
    """Every name and address but 127.0.0.1 goes to a proxy on a closed loopback port."""
    assert DEAD_PROXY.startswith("127.0.0.1:")
    for url in ("http://example.com/", "http://192.0.2.1/", "https://8.8.8.8/"):
        # Playwright's Error, by its text: refused by the dead proxy, not reached and not hung.
        with pytest.raises(Exception, match="net::ERR_PROXY_CONNECTION_FAILED"):
            await browser_page.goto(url, timeout=10_000)
