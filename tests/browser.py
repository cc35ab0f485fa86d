"""Headless Chromium for tests of the pages the bridge serves to a person's browser.

Why a real browser: the acknowledge link must work the way a phone's browser uses it (render the
page, submit its form), and a link preview's GET must not acknowledge; only a browser shows both.

Playwright drives Debian's own ``chromium`` (``executable_path``): nothing is downloaded, so
``playwright install`` is never needed. No Chromium: the tests using ``browser_page`` skip, saying
how to install it, unless ``BRIDGE_REQUIRE_BROWSER=1`` (``.ci/run`` sets it), when they fail.
Chromium is a child process the loopback guard cannot see, so its flags keep it on loopback:
no background services, every host name but 127.0.0.1 unresolvable, and every other address sent
to a proxy on a closed loopback port.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

if TYPE_CHECKING:  # imported when a browser is launched, so a missing package skips, not errors
    from playwright.async_api import Page

REQUIRE_ENV = "BRIDGE_REQUIRE_BROWSER"
CHROMIUM_ENV = "BRIDGE_CHROMIUM"
HOW_TO_INSTALL = (
    "browser tests skipped: no Chromium found; install it with `apt-get install chromium` "
    f"(or set {CHROMIUM_ENV} to its path) to run them"
)

# Every browser step (launch, navigation, click, read) gives up after this long, named.
STEP_SECONDS = 30.0
STEP_MS = STEP_SECONDS * 1000

# A port nothing listens on: the proxy every non-loopback request is sent to, so it is refused.
DEAD_PROXY = "127.0.0.1:9"

CHROMIUM_ARGS = (
    "--no-sandbox",  # tests run as root, where Chromium's sandbox refuses to start
    "--headless",
    "--disable-gpu",
    "--disable-dev-shm-usage",  # small /dev/shm in containers crashes renderers
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    f"--proxy-server=http://{DEAD_PROXY}",
    "--proxy-bypass-list=127.0.0.1",
)


def find_chromium() -> str | None:
    """Path of the Chromium to drive: ``$BRIDGE_CHROMIUM``, else ``chromium`` on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if Path(configured).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def browser_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def no_browser(why: str) -> NoReturn:
    """Skip the test (say how to install Chromium), or fail it where a browser is required."""
    if browser_required():
        pytest.fail(f"{REQUIRE_ENV}=1 but {why}: install Chromium with `apt-get install chromium`")
    pytest.skip(HOW_TO_INSTALL)


@asynccontextmanager
async def chromium_page(user_data_dir: Path) -> AsyncIterator[Page]:
    """One headless Chromium with a fresh profile in ``user_data_dir``, and its page."""
    executable = find_chromium()
    if executable is None:
        no_browser("no Chromium was found")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        no_browser("the playwright package is not installed (pip install -e '.[dev]')")
    manager = async_playwright()
    async with asyncio.timeout(STEP_SECONDS):
        playwright = await manager.start()
    try:
        context = await playwright.chromium.launch_persistent_context(
            user_data_dir,
            executable_path=executable,
            headless=True,
            args=list(CHROMIUM_ARGS),
            timeout=STEP_MS,
        )
        try:
            context.set_default_timeout(STEP_MS)
            context.set_default_navigation_timeout(STEP_MS)
            page = context.pages[0] if context.pages else await context.new_page()
            yield page
        finally:
            async with asyncio.timeout(STEP_SECONDS):
                await context.close()
    finally:
        async with asyncio.timeout(STEP_SECONDS):
            await playwright.stop()


async def page_text(page: Page, url: str, *, status: int = 200) -> str:
    """Load ``url`` and return the text a person would see on it (not the HTML), checking the
    HTTP status it came with (a refusal is a page too: pass the status it should have)."""
    response = await page.goto(url, wait_until="load")
    assert response is not None, f"Chromium got no response from {url}"
    text = await page.inner_text("body")
    assert response.status == status, f"{url} answered {response.status}, not {status}: {text}"
    return text


async def click_button_and_read(
    page: Page, url: str, button_text: str, *, status: int = 200
) -> str:
    """Open ``url``, press the button labelled ``button_text`` as a person would, wait for the
    page its form leads to, and return that page's text (its status checked as in ``page_text``).
    The acknowledge link's round trip: GET shows the button, the form's POST acts."""
    await page_text(page, url)
    button = page.get_by_role("button", name=button_text, exact=True)
    async with page.expect_navigation(wait_until="load") as navigation:
        await button.click()
    response = await navigation.value
    assert response is not None, f"pressing {button_text!r} on {url} led nowhere"
    text = await page.inner_text("body")
    assert response.status == status, f"pressing {button_text!r} answered {response.status}: {text}"
    return text
