"""A page in Slack: the root message (step, who was paged by what, the Acknowledge button, the
final state) and the thread that keeps the timeline.

Why rebuilt from the record every time: receipts, steps, fallbacks and acks arrive from many
tasks (and replicas); rendering the whole message from the page tables makes the last update
right whatever the order. Timeline events are posted once each (claimed in the store).

Why the root message carries metadata naming the page: it is posted, then its ts recorded; a
process that dies between the two (or a post Slack refused) leaves a page with no root recorded,
and nothing refreshes a page without one. The scheduler then calls ``restore_root``: one replica
claims the page in the store, adopts a root found by its metadata, or else posts one.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.paging.snapshot import escalation_of
from bot.paging.states import PageState, state_of
from bot.report_roots import RootKind, find_root, root_metadata
from bot.slack import ids
from bot.slack.failures import SLACK_FAILURES, slack_error
from bot.slack.mrkdwn import Block, Mrkdwn, button, context, escape, md, section
from bot.store.base import Store
from bot.store.pages_base import PageRecord, PageSend
from bot.values import RecipientStatus
from config import Settings
from config.numbers import mask_address

log = logging.getLogger(__name__)
# A person is ``{name}``; literal braces were doubled when the event was recorded (``lit``).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")
_NUMBER = re.compile(r"^\+?[0-9]{5,}$")  # a contact list's number (E.164), not a name
SOURCE = "source:"  # who ended or acknowledged a page from monitoring: ``source:<integration>``
PAGE_ROOT = RootKind("bridge_page", "page_id")  # the metadata on a page's root message


def shown_name(settings: Settings, name: str) -> str:
    """A target in plain words: its name in people, else (a number of a contact list) masked,
    ``+2547•••••678``: a number is never shown whole where it is not someone's name."""
    name = name.removeprefix("person:")
    if name in settings.people or not _NUMBER.match(name):
        return name
    return mask_address(name)


def who(settings: Settings, name: str) -> Mrkdwn:
    """A person by their Slack mention when they have ``slack:``, else by name or masked number
    (escaped)."""
    if name.startswith("slack:"):
        return md("<@{}>", name.removeprefix("slack:"))
    if name.startswith(SOURCE):
        return md("`{}` (at the source)", name.removeprefix(SOURCE))
    name = name.removeprefix("person:")
    person = settings.people.get(name)
    if person is not None and person.slack:
        return md("<@{}>", person.slack)
    return escape(shown_name(settings, name))


def lit(text: str) -> str:
    """User or provider words for a timeline event: their braces never name a person."""
    return text.replace("{", "{{").replace("}", "}}")


def with_names(settings: Settings, text: str) -> Mrkdwn:
    """Timeline text with each ``{name}`` as that person, ``{{``/``}}`` as braces, the rest
    escaped: no ``str.format`` runs on it, so any words in it show as written."""
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        out.append(escape(text[last : match.start()]))
        name = match.group(1)
        out.append(who(settings, name) if name is not None else escape(match.group(0)[0]))
        last = match.end()
    out.append(escape(text[last:]))
    return Mrkdwn("".join(out))


def senders_of(settings: Settings, escalation: str, besides: str | None = None) -> Mrkdwn:
    """The escalation's allowed senders as mentions: users, user groups, groups by name;
    ``besides``: a user already mentioned next to them (the page's sender), left out."""
    policy = settings.escalations.get(escalation)
    if policy is None:
        return Mrkdwn("")
    if not (policy.allowed_users or policy.allowed_usergroups):
        return escape(", ".join(policy.allowed_senders))
    parts = [md("<@{}>", u) for u in sorted(policy.allowed_users) if u != besides]
    parts += [md("<!subteam^{}>", g) for g in sorted(policy.allowed_usergroups)]
    return Mrkdwn(", ".join(parts))


def took(since: datetime, until: datetime) -> str:
    seconds = max(0, int((until - since) / timedelta(seconds=1)))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


def state_line(settings: Settings, page: PageRecord) -> Mrkdwn:
    policy = escalation_of(settings, page)
    steps = len(policy.steps) if policy is not None else 0
    if state_of(page) is PageState.ACKNOWLEDGED and page.acknowledged_at is not None:
        return md(
            ":white_check_mark: *Acknowledged* by {} after {}",
            who(settings, page.acknowledged_by or "?"),
            took(page.created_at, page.acknowledged_at),
        )
    ended = state_of(page) is PageState.ENDED
    if ended and (page.acknowledged_by or "").startswith(SOURCE):
        return md(
            ":large_green_circle: *Resolved at the source* ({}) after {}: no later step runs.",
            (page.acknowledged_by or "").removeprefix(SOURCE),
            took(page.created_at, page.ended_at or page.created_at),
        )
    if ended:
        sender = [md("<@{}>", page.sender)] if page.sender else []
        others = senders_of(settings, page.escalation, besides=page.sender)
        told = Mrkdwn(" ".join(m for m in (*sender, others) if m))  # each person once
        return md(
            ":x: *Ended unanswered* after {} step(s). {}: nobody acknowledged.",
            steps * (page.round + 1),
            told,
        )
    round_note = f" (repeat {page.round})" if page.round else ""
    return md("Step {} of {}{} · waiting for an acknowledgement", page.step + 1, steps, round_note)


def urgency_note(settings: Settings, page: PageRecord) -> str:
    """`` · low urgency`` for a low-urgency page (held in people's quiet hours); high says
    nothing, as every page said before urgency existed."""
    policy = escalation_of(settings, page)
    return " · low urgency" if policy is not None and policy.urgency == "low" else ""


def paged_line(settings: Settings, sends: list[tuple[PageSend, RecipientStatus | None]]) -> Mrkdwn:
    parts = [
        md(
            "{} by {} ({})",
            who(settings, send.person),
            send.channel,
            status.value if status is not None else "recorded",
        )
        for send, status in sends
    ]
    return Mrkdwn("Paged: " + "; ".join(parts)) if parts else Mrkdwn("Paging…")


def root_blocks(
    settings: Settings,
    page: PageRecord,
    sends: list[tuple[PageSend, RecipientStatus | None]],
    extra: Sequence[Block] = (),
) -> list[dict[str, object]]:
    """``extra``: what a page's origin adds below its text (an alert's labels and links)."""
    blocks: list[dict[str, object]] = [
        section(
            md(
                ":rotating_light: *Page {}* · {}{}\n{}",
                page.page_id,
                page.escalation,
                urgency_note(settings, page),
                page.text,
            )
        ),
        *extra,
        context(state_line(settings, page)),
        context(paged_line(settings, sends[-20:])),
    ]
    if state_of(page) is PageState.ACTIVE:
        blocks.append(
            {
                "type": "actions",
                "elements": [button(ids.ACK_PAGE, "Acknowledge", page.page_id, style="primary")],
            }
        )
    return blocks


class PageSlack:
    """Posts and updates a page's messages; a Slack error is logged, never stops the page.

    Why one worker per page: refreshes are asked for from many tasks (steps, receipts, acks);
    run at once, their thread replies could reach Slack out of order. ``refresh_later`` marks
    the page; its one worker refreshes until no mark is left, so replies go in event order and
    a burst of asks costs one or two refreshes.
    """

    def __init__(self, settings: Settings, store: Store, client: AsyncWebClient) -> None:
        self.settings = settings
        self.store = store
        self.client = client
        self.queued: set[str] = set()  # pages with a refresh asked for and not yet begun
        # Blocks a page's origin adds to its root message (``bot.alerts``: the alert's labels
        # and links); each gives nothing for a page that is not its own.
        self.extras: list[Callable[[PageRecord], Awaitable[list[Block]]]] = []
        self._workers: dict[str, asyncio.Task[None]] = {}

    def refresh_later(self, page_id: str) -> None:
        self.queued.add(page_id)
        if page_id not in self._workers:
            self._workers[page_id] = asyncio.create_task(self._work(page_id))

    async def _work(self, page_id: str) -> None:
        try:
            while page_id in self.queued:
                self.queued.discard(page_id)
                try:
                    await self.refresh(page_id)
                except Exception:
                    log.exception("refreshing page %s failed; the next change tries again", page_id)
        finally:
            del self._workers[page_id]

    async def wait_idle(self) -> None:
        # Until every worker is done (each removes itself as it ends; one cancelled before it
        # began never does, and waiting for an empty dict would then spin).
        while pending := [task for task in self._workers.values() if not task.done()]:
            await asyncio.wait(pending)

    async def post_root(self, page: PageRecord) -> None:
        if page.slack_channel is None:
            return
        try:
            await self._post_root(page, page.slack_channel)
        except SLACK_FAILURES as exc:
            log.warning("could not post page %s: %s", page.page_id, slack_error(exc))

    async def _post_root(self, page: PageRecord, channel: str) -> None:
        answer = await self.client.chat_postMessage(
            channel=channel,
            text=md("Page {}: {}", page.page_id, page.text),
            blocks=root_blocks(self.settings, page, [], await self._extra(page)),
            metadata=root_metadata(page.page_id, PAGE_ROOT),
        )
        await self._record_root(page.page_id, str(answer["channel"]), str(answer["ts"]))

    async def _record_root(self, page_id: str, channel: str, ts: str) -> None:
        if not await self.store.set_page_root(page_id, channel, ts):
            recorded = await self.store.get_page(page_id)
            if recorded is not None and recorded.root_ts != ts:
                log.warning("page %s has two root messages; %s is left", page_id, ts)

    async def restore_root(
        self, page: PageRecord, clock: Callable[[], datetime], hold: timedelta
    ) -> bool:
        """Give a page whose root message was never recorded its root: claim it in the store
        (one replica wins), adopt a root found by its metadata (posted by someone who died
        before recording it), or else post one. True if the page has its root now; False if
        another replica holds the claim or Slack failed (a later tick tries again once the
        claim, held for ``hold``, runs out)."""
        channel = page.slack_channel
        if channel is None or page.root_ts is not None:
            return False
        until = clock() + hold
        if not await self.store.claim_page_root(page.page_id, clock(), until):
            return False
        try:
            ts = await self._earlier_root(page.page_id, channel)
            if ts is not None:
                await self._record_root(page.page_id, channel, ts)
                log.info("page %s: adopted its root message %s", page.page_id, ts)
                return True
            # Still ours? The lookup may have outlasted the claim and another replica taken it.
            if not await self.store.claim_page_root(
                page.page_id, clock(), clock() + hold, held=until
            ):
                return False
            await self._post_root(page, channel)  # the refresh after it brings it up to date
        except SLACK_FAILURES as exc:
            log.warning(
                "could not post page %s's missing root message (%s); trying again in %s",
                page.page_id,
                slack_error(exc),
                hold,
            )
            return False
        log.info("page %s: posted its missing root message", page.page_id)
        return True

    async def _earlier_root(self, page_id: str, channel: str) -> str | None:
        try:
            return await find_root(self.client, channel, None, page_id, PAGE_ROOT)
        except SlackApiError as exc:
            if slack_error(exc) != "missing_scope":
                raise
            # Never able to look (no channels:history): post, or the page is never seen. A root
            # posted but not recorded then shows twice.
            log.warning("cannot look for page %s's root message: missing_scope", page_id)
            return None

    async def refresh(self, page_id: str) -> None:
        """Bring the root message and the thread up to date with the record (only from the
        page's worker: call ``refresh_later``)."""
        page = await self.store.get_page(page_id)
        if page is None or page.slack_channel is None or page.root_ts is None:
            return
        sends = [(s, await self._status(s)) for s in await self.store.page_sends(page_id)]
        try:
            await self.client.chat_update(
                channel=page.slack_channel,
                ts=page.root_ts,
                text=md("Page {}: {}", page.page_id, page.text),
                blocks=root_blocks(self.settings, page, sends, await self._extra(page)),
            )
            for event in await self.store.page_events(page_id):
                if not event.posted and await self.store.mark_event_posted(
                    page_id, event.event_key
                ):
                    await self.client.chat_postMessage(
                        channel=page.slack_channel,
                        thread_ts=page.root_ts,
                        text=with_names(self.settings, event.text),
                    )
        except SlackApiError as exc:
            log.warning("could not update page %s: %s", page_id, slack_error(exc))

    async def _extra(self, page: PageRecord) -> list[Block]:
        return [block for extra in self.extras for block in await extra(page)]

    async def _status(self, send: PageSend) -> RecipientStatus | None:
        for recipient in await self.store.recipients(send.request_id):
            if recipient.ref == send.ref:
                return recipient.status
        return None
