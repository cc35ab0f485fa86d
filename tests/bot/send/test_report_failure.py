"""A send whose final report cannot be written gives up its lease instead of renewing it forever:
a lease kept alive by a send that will never report would stop every watcher (another replica,
or this one after a restart) from finishing it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from bot.send.ownership import LocalBook
from bot.store.leases import Lease
from tests.bot.bridge_kit import Bridge
from tests.bot.slack_steps import deliveries, slash


class MarkReportedFailsOnce(LocalBook):
    """The real single-process book, whose first "report written" note meets a database error."""

    def __init__(self, book: LocalBook) -> None:
        super().__init__(book._store)
        self.failed = False

    async def mark_reported(self, lease: Lease, request_ids: Sequence[str]) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the database went away")
        await super().mark_reported(lease, request_ids)


async def test_a_send_whose_report_fails_stops_holding_its_lease(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    ownership = bridge.runtime.service.ownership
    assert isinstance(ownership.book, LocalBook)
    book = MarkReportedFailsOnce(ownership.book)
    ownership.book = book
    with caplog.at_level(logging.ERROR):
        await slash(bridge, "oncall-sms Disk full on db-1")
        await bridge.idle()
    assert book.failed
    assert len(deliveries(bridge)) == 2
    assert not ownership._held, "a send that cannot report must not keep renewing its lease"
    assert any("final report of a send failed" in r.getMessage() for r in caplog.records)
    unreported = await bridge.runtime.store.unreported_requests()
    assert [r.channel for r in unreported] == ["oncall-sms"]  # left for a takeover or restart
