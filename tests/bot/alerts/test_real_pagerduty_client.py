"""PagerDuty's own Python client (the ``pagerduty`` package's ``EventsApiV2Client``) with its
base URL set to the bridge as README says: it triggers, acknowledges and resolves a page.

The client posts to ``<base_url>/v2/enqueue`` and accepts only an https base URL, so it talks
to the bridge through a TLS proxy on loopback (as it would through the user's reverse proxy)
with ``base_url=https://…/alerts``. It is synchronous: each call runs in a thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pagerduty import EventsApiV2Client

from tests.bot.alerts.test_alerts_e2e import pages_of, thread_of
from tests.bot.alerts_kit import PD_KEY, start_alerting
from tests.bot.paging_kit import Clock, root_of, sms_texts
from tests.clocks import wait_until
from tests.tls_proxy import tls_proxy


async def test_the_pagerduty_client_triggers_acknowledges_and_resolves_a_page(
    tmp_path: Path,
) -> None:
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    try:
        async with tls_proxy(bridge.world.bridge.url) as proxy:
            client = EventsApiV2Client(
                PD_KEY,
                base_url=f"{proxy.url}/alerts",  # README: https://<bridge>/alerts
                verify=proxy.client_context,
                trust_env=False,
            )
            try:
                dedup_key = await asyncio.to_thread(
                    client.trigger,
                    "Disk 95% full on db1",
                    "db1.example.com",
                    severity="critical",
                    links=[{"href": "https://grafana.example.com/d/disk", "text": "dashboard"}],
                )
                assert len(dedup_key) == 32  # made by the bridge, as PagerDuty makes one
                await wait_until(lambda: sms_texts(bridge), what="the first SMS")
                ((to, text),) = sms_texts(bridge)
                assert to == "254712345678"
                assert "[critical] Disk 95% full on db1" in text
                (page_id,) = pages_of(bridge)
                await wait_until(
                    lambda: "grafana.example.com/d/disk" in str(root_of(bridge, page_id).blocks)
                )

                acked = await asyncio.to_thread(client.acknowledge, dedup_key)
                assert acked == dedup_key
                page = await bridge.runtime.store.get_page(page_id)
                assert page is not None
                assert (page.state, page.acknowledged_by) == ("acknowledged", "source:uptime")

                await asyncio.to_thread(client.resolve, dedup_key)
                await wait_until(
                    lambda: "resolved at the source (uptime)" in thread_of(bridge, page_id)
                )
                await bridge.idle()
                assert len(sms_texts(bridge)) == 1
                assert pages_of(bridge) == {page_id}

                # The same dedup_key after the resolve is a new page, as at PagerDuty.
                again = await asyncio.to_thread(
                    client.trigger, "Disk 95% full on db1", "db1.example.com", dedup_key=dedup_key
                )
                assert again == dedup_key
                await wait_until(lambda: len(pages_of(bridge)) == 2, what="a second page")
            finally:
                client.close()
    finally:
        await bridge.world.close()
