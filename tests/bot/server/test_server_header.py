"""No response names aiohttp or its version (issue 15 item 8): every answer, errors and the
acknowledge page included, says ``Server: chatops-bridge``, which tells a scanner nothing."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
from bridge_sandbox.emulators.common import serve

from bot.server.limits import SERVER_NAME
from bot.server.probes import build_ops_app
from bot.server.slot import RuntimeSlot
from tests.bot.paging.test_paging_browser import ALICE_PHONE, link_sent_to, page_id_in, start
from tests.bot.paging_kit import Clock
from tests.bot.slack_steps import slash


async def test_every_answer_names_the_bridge_not_aiohttp(tmp_path: Path) -> None:
    bridge = await start(tmp_path, Clock())
    try:
        page_id = page_id_in((await slash(bridge, "page db-outage DB down")).text)
        link = await link_sent_to(bridge, ALICE_PHONE, page_id)
        base = bridge.world.bridge.url
        asked: list[tuple[str, str, int] | tuple[str, str, int, io.BytesIO]] = [
            ("GET", link, 200),  # the acknowledge page
            ("POST", link, 200),  # its button
            ("GET", base + "/ack/not-a-token", 404),
            ("GET", base + "/healthz", 200),
            ("GET", base + "/metrics", 200),
            ("GET", base + "/no-such-path", 404),
            ("GET", base + "/slack/events", 405),
            ("POST", base + "/slack/events", 401),  # unsigned
            ("POST", base + "/webhooks/tnt", 404),  # an account without receipts
            ("POST", base + "/webhooks/tnt", 413, io.BytesIO(b"x" * ((1 << 20) + 1))),
        ]
        async with aiohttp.ClientSession() as http:
            for method, url, status, *body in asked:
                async with http.request(method, url, data=body[0] if body else b"{}") as answer:
                    seen = (method, url, answer.status, answer.headers.getall("Server", []))
                    assert seen == (method, url, status, [SERVER_NAME])
        await bridge.idle()
        await bridge.runtime.paging.wait_idle()
    finally:
        await bridge.world.close()


async def test_the_metrics_port_names_the_bridge_not_aiohttp() -> None:
    ops = await serve(build_ops_app(RuntimeSlot()))  # METRICS_PORT's app, before a runtime
    try:
        async with aiohttp.ClientSession() as http:
            for path, status in [("/metrics", 200), ("/nothing-here", 404)]:
                async with http.get(ops.url + path) as answer:
                    assert (answer.status, answer.headers.getall("Server", [])) == (
                        status,
                        [SERVER_NAME],
                    )
    finally:
        await ops.close()
