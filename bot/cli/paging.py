"""`python -m bot page` and `python -m bot ack`: the paging service Slack uses, from a terminal.

Why the terminal runs step 1 and a running bridge the rest: step 1 must go out even when
nothing else is up (this command sends it and waits for each send's outcome), but the later
steps wait minutes, and a command that must stay alive for an hour is a page that stops
escalating when its terminal closes. The page is recorded in the store with its next step's
time, exactly as a Slack page is; the scheduler of every `serve`/`socket` on the same
``BRIDGE_DB`` moves due pages on, so one of them escalates it until someone acknowledges.

The terminal is the operator's (who holds the config and the store, as for `send`): it may page
through any escalation and acknowledge any page; every other check (the escalation exists, the
text fits the SMS channels, the numbers are usable) is the same as Slack's.
"""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts import open_accounts
from bot.cli.oncall import with_calendars
from bot.dispatch import Dispatcher
from bot.paging.service import PageView, PagingService
from bot.paging.slack import took
from bot.paging.states import AckOutcome, PageState, state_of
from bot.paging.watch import plain_name
from bot.plan import Planner
from bot.policy import Rejection
from bot.send.service import SendService
from bot.server.env import BridgeEnv
from bot.store import Store, utcnow
from bot.values import RecipientStatus
from config import Settings


def add_page_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("escalation", help="escalation name from the config")
    parser.add_argument("text", nargs="+", help="what is happening (the words of the page)")


def add_ack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page_id", metavar="PAGE_ID", help="the page's id, e.g. P7K3QX9A2")


def operator() -> str:
    """Who acknowledges from this terminal: the login name, as the page's record shows it."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container
        return "operator"


@asynccontextmanager
async def open_paging(
    settings: Settings, env: BridgeEnv, store: Store, escalation: str | None = None
) -> AsyncIterator[PagingService]:
    """The paging service wired as the runtime wires it, minus Slack: a page started here has
    no Slack channel, so nothing is posted. https calendars are fetched once, so step 1 pages
    whoever is on call now. Sends started in the block are finished before it ends."""
    from bot.server.runtime import ack_links  # the same link settings as the running bridge

    names = _accounts_of(settings, escalation)
    configs = {name: settings.provider(name) for name in names}
    live = await with_calendars(settings) if escalation is not None else settings
    async with open_accounts(configs, claimer=store.slot_claimer()) as accounts:
        dispatcher = Dispatcher(accounts, recorder=store)
        planner = Planner(live, dispatcher)
        service = SendService(live, planner, store, dispatcher, None, clock=utcnow)
        paging = PagingService(
            live,
            store,
            service,
            AsyncWebClient(token=None),  # never called: no page started here has a channel
            clock=utcnow,
            links=ack_links(env),
            command=env.command,
        )
        try:
            yield paging
        finally:
            await service.wait_idle()
            await paging.stop()


def _accounts_of(settings: Settings, escalation: str | None) -> set[str]:
    policy = settings.escalations.get(escalation) if escalation is not None else None
    if policy is None:
        return set()
    channels = {name for step in policy.steps for name in step.via}
    return {settings.channels[c].provider_name for c in channels if c in settings.channels}


EXPLAINED = ("note:", "refused:", "failed:", "nofallback:")  # timeline events that say why
_NAMED = re.compile(r"\{\{|\}\}|\{([^{}]+)\}")  # as bot.paging.slack reads the timeline


def plain_event(settings: Settings, text: str) -> str:
    """A timeline event for a terminal: ``{name}`` as the person's plain name, ``{{`` as ``{``."""
    return _NAMED.sub(
        lambda m: plain_name(settings, m.group(1)) if m.group(1) else m.group(0)[0], text
    )


def view_lines(settings: Settings, view: PageView) -> list[str]:
    """Who was paged by what, and how each send went, one line each."""
    lines = []
    for send, status in view.sends:
        repeat = f" (repeat {send.round})" if send.round else ""
        word = status.value if status is not None else "recorded"
        who = plain_name(settings, send.person)
        lines.append(f"  step {send.step + 1}{repeat}  {who:<20} by {send.channel:<16} {word}")
    return lines


async def run_page(
    args: argparse.Namespace,
    settings: Settings,
    env: BridgeEnv,
    store: Store,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """0: step 1 reached someone; 1: started, but no send of step 1 went out (it escalates
    all the same); 2: refused, nothing started."""
    text = " ".join(args.text)
    async with open_paging(settings, env, store, args.escalation) as paging:
        try:
            page = await paging.start(args.escalation, text, None, None)
        except Rejection as exc:
            err.write(f"error: {exc.plain}\nNo page was started.\n")
            return 2
        await paging.service.wait_idle()
        view = await paging.view(page.page_id, None)
        events = await store.page_events(page.page_id)
    problems = [plain_event(settings, e.text) for e in events if e.event_key.startswith(EXPLAINED)]
    assert view is not None  # the terminal sees every page, and this one was just recorded
    page = view.page
    steps = len(settings.escalations[page.escalation].steps)
    out.write(f"Page {page.page_id}: escalation {page.escalation}, {steps} step(s)\n")
    out.writelines(line + "\n" for line in view_lines(settings, view))
    reached = [s for s, status in view.sends if status is not RecipientStatus.FAILED]
    if not view.sends:
        out.write("  step 1 paged nobody\n")
    out.writelines(f"  note: {line}\n" for line in problems)
    if state_of(page) is PageState.ACTIVE and page.next_at is not None:
        out.write(
            f"Unless someone acknowledges by {page.next_at:%H:%M:%S} UTC, the page moves on: "
            "a running bridge (`serve` or `socket` on this BRIDGE_DB) runs its later steps; "
            "this command does not wait. If no bridge is running, nothing escalates.\n"
        )
    out.write(
        f"Acknowledge: python -m bot ack {page.page_id}  (or {env.command} ack {page.page_id} "
        "in Slack, or the link in the SMS)\n"
    )
    return 0 if reached else 1


async def run_ack(
    args: argparse.Namespace,
    settings: Settings,
    env: BridgeEnv,
    store: Store,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """0: acknowledged now; 1: already acknowledged or ended; 2: no such page."""
    page_id = args.page_id.strip().strip("`'\"").upper()
    async with open_paging(settings, env, store) as paging:
        result = await paging.acknowledge(page_id, operator=operator(), via="terminal")
    page = result.page
    if page is None:
        err.write(f"error: there is no page {page_id}. Page ids look like P7K3QX9A2.\n")
        return 2
    if result.outcome is AckOutcome.ACKNOWLEDGED:
        out.write(f"Acknowledged page {page.page_id} ({page.escalation}): no later step runs.\n")
        return 0
    if page.acknowledged_at is not None:
        by = plain_name(settings, page.acknowledged_by or "?")
        out.write(
            f"Page {page.page_id} was already acknowledged by {by} at "
            f"{page.acknowledged_at:%H:%M:%S} UTC "
            f"({took(page.created_at, page.acknowledged_at)} after it started).\n"
        )
    else:
        out.write(f"Page {page.page_id} has already ended unanswered.\n")
    return 1
