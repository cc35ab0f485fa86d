"""The Slack message of an alert group that has no page: a Slack-only route's, or a silenced
group's (who silenced it, until when, why), and once that silence ended, what happens now.

Why one worker per group: updates of one group never race (two posts), and a burst of
repeats costs one or two updates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.detail import alert_blocks
from bot.alerts.stagger import Stagger
from bot.alerts.text import minute
from bot.slack.failures import SLACK_FAILURES, slack_error
from bot.slack.mrkdwn import Mrkdwn, md, section
from bot.store.alerts_base import AlertGroup
from bot.store.base import Store
from bot.store.silences_base import Silence

log = logging.getLogger(__name__)

Later = Callable[[Coroutine[Any, Any, None], str], None]


class GroupMessages:
    def __init__(
        self,
        store: Store,
        client: AsyncWebClient,
        later: Later,
        clock: Callable[[], datetime],
        stagger: Stagger | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.clock = clock
        self._later = later
        # Shared with the pages' starts: how many of these run at once (``AlertService``).
        self._stagger = stagger or Stagger(1_000_000, 0.0)
        self._show_queued: set[str] = set()
        self._show_workers: set[str] = set()

    def show_later(self, group_id: str) -> None:
        self._show_queued.add(group_id)
        if group_id not in self._show_workers:
            self._show_workers.add(group_id)
            self._later(self._show_work(group_id), f"alert-{group_id}")

    async def _show_work(self, group_id: str) -> None:
        try:
            while group_id in self._show_queued:
                async with self._stagger.place():
                    self._show_queued.discard(group_id)
                    await self._show(group_id)
        finally:
            self._show_workers.discard(group_id)

    async def _show(self, group_id: str) -> None:
        """Post or update the message of a group that pages nobody (from its worker only)."""
        group = await self.store.alert_group(group_id)
        if group is None:
            return
        head = await self._head(group)
        blocks = [section(head), *alert_blocks(group)]
        text = md("Alert: {}", group.title)
        try:
            if group.root_ts is None:
                answer = await self.client.chat_postMessage(
                    channel=group.slack_channel, text=text, blocks=blocks
                )
                await self.store.set_alert_group_root(
                    group_id, str(answer["channel"]), str(answer["ts"])
                )
            else:
                await self.client.chat_update(
                    channel=group.slack_channel, ts=group.root_ts, text=text, blocks=blocks
                )
        except SLACK_FAILURES as exc:
            log.warning("could not show alert group %s: %s", group_id, slack_error(exc))

    async def _head(self, group: AlertGroup) -> Mrkdwn:
        """Why a group without a page paged nobody: its silence (who, until when, why), or its
        route; once its silence ended, that it no longer holds and what happens now."""
        silence = await self.store.silence(group.silence_id) if group.silence_id else None
        if silence is None:
            return md(
                ":bell: *Alert* {}\nPaged nobody: this route posts in Slack only.", group.title
            )
        # A resolved group is shown as it stood when it resolved.
        moment = group.resolved_at if group.resolved_at is not None else self.clock()
        reason = md(": {}", silence.reason) if silence.reason else ""
        if silence.active(moment):
            return md(
                ":no_bell: *Alert* {}\nSilenced by <@{}> until {} (`{}`){}. Paged nobody.",
                group.title,
                silence.created_by,
                minute(silence.ends_at),
                silence.silence_id,
                reason,
            )
        return md(
            ":bell: *Alert* {}\nNo longer silenced: {} Silenced by <@{}> (`{}`){}; {}.",
            group.title,
            _now_what(group),
            silence.created_by,
            silence.silence_id,
            reason,
            _ended(silence),
        )


def _ended(silence: Silence) -> Mrkdwn:
    if silence.ended_at is not None:
        return md("<@{}> ended it at {}", silence.ended_by or "someone", minute(silence.ended_at))
    return md("it expired at {}", minute(silence.ends_at))


def _now_what(group: AlertGroup) -> Mrkdwn:
    """What a group whose silence ended does next."""
    if group.page_id is not None:
        return md("it pages now (page *{}*, in its own message).", group.page_id)
    if group.state == "resolved":
        return md("it resolved before paging anyone.")
    if group.escalation is None:
        return md("this route posts in Slack only, so it pages nobody.")
    return md("it pages through `{}` at its next notification.", group.escalation)
