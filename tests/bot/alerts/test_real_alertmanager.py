"""A real Prometheus Alertmanager (Debian's 0.25) pointed at the bridge as README says: its
webhook with a bearer key and ``send_resolved``. Alerts go in by its own API, as Prometheus
posts them; what reaches the bridge is whatever Alertmanager makes of them (its groupKey, its
grouping, its repeats). The bridge's scheduler sleeps, so every SMS left from a request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.alertmanager import alertmanager_or_skip, running_alertmanager
from tests.bot.alerts.test_alerts_e2e import pages_of, thread_of
from tests.bot.alerts_kit import AM_KEY, start_alerting
from tests.bot.paging_kit import Clock, root_of, sms_texts
from tests.clocks import wait_until

ALICE_PHONE = "254712345678"  # on call on primary at the paging clock's start
DEADLINE = 60.0  # Alertmanager waits a second or two between notifications; a loaded CI more


def alert(ends_at: datetime) -> dict[str, Any]:
    """One alert as Prometheus posts it to ``/api/v2/alerts``."""
    now = datetime.now(UTC)
    return {
        "labels": {
            "alertname": "PostgresDown",
            "severity": "critical",
            "instance": "db1.example.com:9187",
            "job": "postgres",
        },
        "annotations": {
            "summary": "Postgres primary is down",
            "runbook_url": "https://runbooks.example.com/postgres-down",
        },
        "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=pg_up+%3D%3D+0",
        "startsAt": (now - timedelta(minutes=2)).isoformat(),
        "endsAt": ends_at.isoformat(),
    }


async def test_a_real_alertmanager_pages_once_and_its_resolve_ends_the_page(
    tmp_path: Path,
) -> None:
    binary = alertmanager_or_skip()
    clock = Clock()
    bridge = await start_alerting(tmp_path, clock)
    webhook = f"{bridge.world.bridge.url}/alerts/prod-am"
    try:
        async with running_alertmanager(
            binary, tmp_path / "alertmanager", webhook, AM_KEY
        ) as manager:
            await manager.post_alerts([alert(datetime.now(UTC) + timedelta(hours=1))])
            await wait_until(lambda: sms_texts(bridge), DEADLINE, "the first SMS")
            ((to, text),) = sms_texts(bridge)
            assert to == ALICE_PHONE
            assert "[critical] Postgres primary is down" in text
            (page_id,) = pages_of(bridge)
            assert f"Ack: /send ack {page_id}" in text
            await wait_until(
                lambda: "runbooks.example.com" in str(root_of(bridge, page_id).blocks),
                DEADLINE,
                "the root message with the alert",
            )
            root = str(root_of(bridge, page_id).blocks)
            assert "`alertname=PostgresDown`" in root
            assert f"<{manager.url}|Alertmanager>" in root  # its --web.external-url

            # Alertmanager sends the still-firing group again (repeat_interval): an update only.
            await manager.post_alerts([alert(datetime.now(UTC) + timedelta(hours=1))])
            await wait_until(
                lambda: "seen 2×" in str(root_of(bridge, page_id).blocks),
                DEADLINE,
                "Alertmanager's repeat notification",
            )
            assert pages_of(bridge) == {page_id}
            assert len(sms_texts(bridge)) == 1  # nobody paged again

            # The alert posted with endsAt in the past: resolved, and send_resolved tells us.
            await manager.post_alerts([alert(datetime.now(UTC) - timedelta(seconds=1))])

            async def ended() -> bool:
                page = await bridge.runtime.store.get_page(page_id)
                return page is not None and page.state == "ended"

            await wait_until(
                lambda: "Resolved at the source" in str(root_of(bridge, page_id).blocks),
                DEADLINE,
                "the resolved notification",
            )
            assert await ended()
            await wait_until(
                lambda: "resolved at the source (prod-am)" in thread_of(bridge, page_id),
                DEADLINE,
                "the thread reply saying so",
            )
            clock.advance(timedelta(hours=1))
            await bridge.runtime.paging.tick()
            await bridge.idle()
            assert len(sms_texts(bridge)) == 1  # no later step of the ended page ran
            assert pages_of(bridge) == {page_id}
    finally:
        await bridge.world.close()
