"""``GET /ack/<token>`` and ``POST /ack/<token>``: the acknowledge link in a page's text.

Why a GET never acknowledges: chat apps and mail scanners fetch links to preview them; only the
button (a form POST) does. The page is self-contained (no external assets, a strict CSP), every
value in it is escaped, and a bad token is a plain 404 that says nothing about why.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from aiohttp import web

from bot.paging.links import AckClaim
from bot.paging.service import AckResult
from bot.paging.slack import shown_name, took
from bot.paging.states import AckOutcome, PageState, state_of
from bot.server.runtime import Runtime

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_STYLE = "body{font:16px system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}"
_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(title: str, body: str, status: int = 200) -> web.Response:
    text = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=text, content_type="text/html", status=status, headers=_HEADERS)


def _not_found() -> web.Response:
    return _page("Link not valid", "<p>This acknowledge link is not valid.</p>", 404)


def _claim(runtime: Runtime, request: web.Request) -> AckClaim | None:
    """The token's claim, only when the path spells it exactly as the bridge wrote it: aiohttp
    decodes percent-escapes (``%2E``, ``%41``) before routing, so the raw path is compared too."""
    links = runtime.paging.links
    token = request.match_info["token"]
    if links is None or request.rel_url.raw_path != f"/ack/{token}":
        return None
    return links.read(token)


def _by(runtime: Runtime, by: str | None) -> str:
    """Who acknowledged, in plain words: a name from people, else a masked number or an id."""
    name = (by or "someone").split(":", 1)[-1]
    if by and by.startswith("slack:"):
        person = runtime.settings.person_with_slack(name)
        return person.name if person is not None else name
    return shown_name(runtime.settings, name)


def _outcome(runtime: Runtime, result: AckResult) -> web.Response:
    page = result.page
    if page is None:
        return _not_found()
    ref = f"Page {page.page_id}"
    if result.outcome is AckOutcome.ACKNOWLEDGED:
        return _page("Acknowledged", f"<p>{html.escape(ref)} is acknowledged. Thank you.</p>")
    if result.outcome is AckOutcome.ALREADY and page.acknowledged_at is not None:
        when = page.acknowledged_at.strftime("%Y-%m-%d %H:%M UTC")
        after = took(page.created_at, page.acknowledged_at)
        who = _by(runtime, page.acknowledged_by)
        return _page(
            "Already acknowledged",
            f"<p>{html.escape(ref)} was already acknowledged by {html.escape(who)} at "
            f"{html.escape(when)} ({html.escape(after)} after it started).</p>",
        )
    if result.outcome is AckOutcome.ENDED:
        return _page("Page ended", f"<p>{html.escape(ref)} has ended; nothing to do.</p>")
    return _not_found()


def add_routes(app: web.Application, runtime_of: Callable[[web.Request], Runtime]) -> None:
    async def show(request: web.Request) -> web.Response:
        runtime = runtime_of(request)
        claim = _claim(runtime, request)
        page = await runtime.store.get_page(claim.page_id) if claim is not None else None
        if claim is None or page is None:
            return _not_found()
        if state_of(page) is not PageState.ACTIVE:
            acked = state_of(page) is PageState.ACKNOWLEDGED
            outcome = AckOutcome.ALREADY if acked else AckOutcome.ENDED
            return _outcome(runtime, AckResult(outcome, page))
        return _page(
            "Acknowledge page",
            f"<p>Page {html.escape(page.page_id)} ({html.escape(page.escalation)}):</p>"
            f"<blockquote>{html.escape(page.text)}</blockquote>"
            '<form method=post><button type=submit style="font-size:1.3em;padding:.5em 1.2em">'
            "Acknowledge</button></form>",
        )

    async def acknowledge(request: web.Request) -> web.Response:
        runtime = runtime_of(request)
        claim = _claim(runtime, request)
        if claim is None:
            return _not_found()
        result = await runtime.paging.acknowledge(claim.page_id, target=claim.target, via="link")
        return _outcome(runtime, result)

    app.router.add_get("/ack/{token}", show)
    app.router.add_post("/ack/{token}", acknowledge)
