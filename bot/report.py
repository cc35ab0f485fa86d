"""Outcomes -> the Slack thread: the root message, throttled progress updates, the failure list.

Why throttled: a 10,000-recipient send produces outcomes far faster than Slack accepts
``chat.update``; about one update a second per root message keeps the thread live and within
Slack's rate limits, and the final state is always written. A Slack error never stops a send.

Why fallbacks: a report must reach someone. Blocks fit Slack's limits by construction, but if
Slack still refuses them (``invalid_blocks``, ``msg_too_long``) the same report goes as plain
text; and if that is refused too, the sender is told directly (their response_url, else a DM).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.report_roots import earlier_root, root_metadata
from bot.slack import summary
from bot.slack.failures import slack_error
from bot.slack.mrkdwn import Mrkdwn, md
from bot.store.base import RecipientStatus, Store
from bot.store.leases import Lease, LeaseBook, LeaseLost
from bot.tasks import stop_task

log = logging.getLogger(__name__)

FINAL_ATTEMPTS = 4  # for the final summary, on top of slack_sdk's own rate-limit retries
# Errors about a message's content: the same report as plain text may still land.
CONTENT_ERRORS = frozenset(
    {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "msg_blocks_too_long"}
)


@dataclass
class Group:
    """The requests reported under one root message (one, or a broadcast's several)."""

    group_id: str
    request_ids: tuple[str, ...]
    channel: str | None  # where the root message goes; None: nowhere (terminal sends)
    thread_ts: str | None = None  # post the root as a reply in this thread
    title: str | None = None  # broadcast title
    root_ts: str | None = None
    response_url: str | None = None  # to tell the sender if the root could not be posted
    lease: Lease | None = None  # this replica owns the group: every write checks it still does
    # Resumed after a crash or a takeover: a root may have been posted by an owner that died
    # before recording its ts; look for it before posting one.
    resumed: bool = False
    _dirty: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)


class Reporter:
    """Keeps each group's root message in Slack in step with the send record."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        *,
        min_interval: float = 1.0,
        session: aiohttp.ClientSession | None = None,
        book: LeaseBook | None = None,
    ) -> None:
        self._client = client
        self._session = session
        self._store = store
        self._book = book  # where an owned group's report writes are fenced (replicas)
        self._min_interval = min_interval
        self._pending: dict[str, asyncio.Task[None]] = {}

    async def _views(self, group: Group) -> list[summary.RequestView]:
        views = []
        for request_id in group.request_ids:
            record = await self._store.get_request(request_id)
            if record is not None:
                views.append(summary.RequestView(record, await self._store.counts(request_id)))
        return views

    async def open(self, group: Group, *, live: bool = True) -> None:
        """Post the root message (or adopt the one already recorded) and start live updates."""
        if group.channel is None:
            return
        if group.root_ts is None:
            views = await self._views(group)
            if not views:
                return
            try:
                await self._check_lease(group)
                ts = await self._earlier_root(group)
                if ts is None:
                    await self._check_lease(group)
                    ts = await self._post(
                        group.channel,
                        group.thread_ts,
                        summary.root_text(views, group.title),
                        summary.root_blocks(views, group.title),
                        root_metadata(group.group_id),
                    )
            except SlackApiError as exc:
                await self._tell_sender(group, slack_error(exc), views[0].record.user_id)
                return
            group.root_ts = ts
            for request_id in group.request_ids:
                if group.lease is not None and self._book is not None:
                    await self._book.set_report(group.lease, request_id, group.channel, ts)
                else:
                    await self._store.set_report(request_id, group.channel, ts)
        if live:
            group._task = asyncio.create_task(self._live(group))

    async def _earlier_root(self, group: Group) -> str | None:
        if not group.resumed or group.channel is None:
            return None
        return await earlier_root(self._client, group.channel, group.thread_ts, group.group_id)

    async def _post(
        self,
        channel: str,
        thread_ts: str | None,
        text: Mrkdwn,
        blocks: list[summary.Block],
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Post ``blocks``; if Slack refuses their content, ``text`` alone. The message's ts."""
        try:
            response = await self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                metadata=metadata,
            )
        except SlackApiError as exc:
            if slack_error(exc) not in CONTENT_ERRORS:
                raise
            log.warning(
                "Slack refused the blocks; posting plain text", extra={"error": slack_error(exc)}
            )
            response = await self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_ts,
                text=text,
                unfurl_links=False,
                metadata=metadata,
            )
        return str(response["ts"])

    async def _tell_sender(
        self, group: Group, error: str, user_id: str | None, what: str = "the results"
    ) -> None:
        """The report could not be posted: say so to the sender, through the response_url if
        there is one (a slash command), else in a direct message (a modal has none)."""
        log.warning("could not post the report", extra={"group": group.group_id, "error": error})
        hint = " Invite the app to the channel with `/invite`." if error == "not_in_channel" else ""
        where = md("here") if group.response_url else md("in <#{}>", group.channel)
        text = md(
            "I could not post {} {} ({}).{} The send went ahead: `/send status {}` shows it.",
            what,
            where,
            error,
            hint,
            group.group_id,
        )
        if group.response_url is not None:
            try:
                hook = AsyncWebhookClient(group.response_url, session=self._session)
                response = await hook.send(text=text, response_type="ephemeral")
                if response.status_code == 200:
                    return
            except Exception:  # a courtesy note; the direct message below is the last resort
                log.warning("could not reach the response_url", extra={"group": group.group_id})
        if user_id is None:
            return
        try:
            await self._client.chat_postMessage(channel=user_id, text=text, unfurl_links=False)
        except SlackApiError as exc:
            log.warning(
                "could not tell the sender either",
                extra={"group": group.group_id, "error": slack_error(exc)},
            )

    async def refresh_soon(self, group: Group) -> None:
        """Refresh a finished group's root message, at most once per interval (receipts)."""
        pending = self._pending.get(group.group_id)
        if pending is not None and not pending.done():
            return
        self._pending[group.group_id] = asyncio.create_task(self._delayed_refresh(group))

    async def _delayed_refresh(self, group: Group) -> None:
        try:
            await asyncio.sleep(self._min_interval)
            await self.refresh(group)
        finally:
            self._pending.pop(group.group_id, None)

    async def drain(self) -> None:
        """Wait for pending receipt refreshes (tests, shutdown)."""
        # Until all are done, not until none is left: one cancelled before it began never runs
        # the ``finally`` that removes it, and on Python 3.12+ ``gather`` of finished tasks does
        # not yield, so waiting for an empty dict would spin.
        while True:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)
            if all(task.done() for task in self._pending.values()):
                break

    def changed(self, group: Group) -> None:
        """Something happened; the root message will be refreshed within about a second."""
        group._dirty.set()

    async def _live(self, group: Group) -> None:
        while True:
            await group._dirty.wait()
            group._dirty.clear()
            try:
                await self.refresh(group)
            except LeaseLost:
                return  # the replica that took the send over reports it now
            await asyncio.sleep(self._min_interval)

    async def refresh(self, group: Group, *, final: bool = False) -> None:
        """Re-render the root message from the send record now.

        ``final``: the last word on a send must land, so Slack's rate limit is waited out a few
        more times than slack_sdk's own retries (a live update can simply skip a beat)."""
        if group.channel is None or group.root_ts is None:
            return
        for attempt in range(FINAL_ATTEMPTS if final else 1):
            views = await self._views(group)
            if not views:
                return
            await self._check_lease(group)
            try:
                await self._update(group.channel, group.root_ts, views, group.title)
                return
            except SlackApiError as exc:
                error = slack_error(exc)
                log.warning(
                    "could not update the summary",
                    extra={"group": group.group_id, "error": error, "attempt": attempt + 1},
                )
                if error != "ratelimited":
                    return
                await asyncio.sleep(_retry_after(exc))

    async def _update(
        self, channel: str, ts: str, views: list[summary.RequestView], title: str | None
    ) -> None:
        """Update the root; if Slack refuses the blocks' content, the text alone (``blocks=[]``
        removes the old blocks, which would show stale counts)."""
        text = summary.root_text(views, title)
        try:
            await self._client.chat_update(
                channel=channel, ts=ts, text=text, blocks=summary.root_blocks(views, title)
            )
        except SlackApiError as exc:
            if slack_error(exc) not in CONTENT_ERRORS:
                raise
            await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=[])

    async def _check_lease(self, group: Group) -> None:
        """Refuse to write to Slack for a group another replica took over (LeaseLost)."""
        if (
            group.lease is not None
            and self._book is not None
            and not await self._book.holds(group.lease)
        ):
            raise LeaseLost(group.lease)

    async def abandon(self, group: Group) -> None:
        """Stop a group's live updates without a final report (shutdown mid-send)."""
        await stop_task(group._task)
        group._task = None

    async def finish(self, group: Group) -> None:
        """Stop live updates, write the final state, and list failures in the thread."""
        await self.abandon(group)
        await self.refresh(group, final=True)
        if group.channel is None or group.root_ts is None:
            return
        thread = group.thread_ts or group.root_ts
        for request_id in group.request_ids:
            record = await self._store.get_request(request_id)
            if record is None:
                continue
            failed = await self._store.recipients(request_id, [RecipientStatus.FAILED])
            unknown = await self._store.recipients(request_id, [RecipientStatus.UNKNOWN])
            if not failed and not unknown:
                continue
            await self._check_lease(group)
            text = summary.failure_text(record, failed, unknown)
            blocks = summary.failure_blocks(record, failed, unknown)
            try:
                await self._post(group.channel, thread, text, blocks)
            except SlackApiError as exc:
                what = f"the failure list of {request_id}"
                await self._tell_sender(group, slack_error(exc), record.user_id, what)

    async def note(self, group: Group, text: str) -> None:
        """A plain reply in the group's thread (internal errors, recovery notices)."""
        if group.channel is None or group.root_ts is None:
            return
        with contextlib.suppress(SlackApiError):
            await self._client.chat_postMessage(
                channel=group.channel, thread_ts=group.thread_ts or group.root_ts, text=text
            )


def _retry_after(exc: SlackApiError, ceiling: float = 30.0) -> float:
    """Slack's Retry-After in seconds (1 when absent or unreadable), capped."""
    headers = getattr(exc.response, "headers", None) or {}
    try:
        return min(float(headers.get("Retry-After", 1)), ceiling)
    except (TypeError, ValueError):
        return 1.0
