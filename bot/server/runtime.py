"""Assembles a running bridge from settings and environment: store, accounts, Slack client,
dispatcher, reporter, service and the Slack app — and tears it down in reverse order.

Why one place: `serve`, `socket`, the demo and the end-to-end tests must run the same wiring.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import retention
from bot.accounts import Account, open_accounts
from bot.directory import Directory
from bot.dispatch import Dispatcher, RetryPolicy
from bot.oncall.calendars import Calendars, https_calendars
from bot.paging.links import AckLinks
from bot.paging.service import PagingService
from bot.plan import Planner
from bot.policy import usergroups_that_matter
from bot.proving.canaries import Canaries
from bot.proving.phone_test import PhoneTests
from bot.report import Reporter
from bot.send.ownership import Ownership
from bot.send.service import SendService
from bot.server.env import BridgeEnv
from bot.server.slack_auth import SlackAuth, SlackCheck
from bot.slack.app import create_app
from bot.slack.deps import Deps
from bot.store import Store, open_store, utcnow
from config import Settings


@dataclass(frozen=True)
class RuntimeOptions:
    """Knobs tests and the demo turn through configuration, never by patching."""

    retry: RetryPolicy = field(default_factory=RetryPolicy)
    report_interval: float = 1.0
    directory_ttl: float = 300.0
    recover: bool = True
    shutdown_grace: float = 5.0  # for acked Slack actions to record their requests
    max_in_flight_grace: float = 20.0
    # What "now" is for the store's timestamps and the ages the service judges (how old a
    # confirmation or a Retry is): tests move it instead of sleeping.
    clock: Callable[[], datetime] = utcnow
    page_tick: float = 1.0  # seconds between the paging scheduler's looks at due pages
    replica_id: str | None = None  # None: generated at start (host, pid, random suffix)
    slack_check: SlackCheck = field(default_factory=SlackCheck)  # auth.test's waits
    purge_interval: float = retention.INTERVAL  # seconds between keep_records purges
    # Repeats of a firing alert group update its Slack message at most once per this many
    # seconds (the first at once, the rest in one trailing update); 0: every repeat (tests).
    alert_update_gap: float = 5.0


def _in_flight_grace(settings: Settings, options: RuntimeOptions) -> float:
    """How long shutdown waits for provider calls already made: up to the longest timeout, so
    they end sent or failed rather than unknown (capped: a deploy should not hang)."""
    longest = max((p.timeout_seconds for p in settings.providers.values()), default=0.0)
    return min(longest, options.max_in_flight_grace)


@dataclass
class Runtime:
    settings: Settings
    env: BridgeEnv
    store: Store
    accounts: dict[str, Account]
    client: AsyncWebClient
    service: SendService
    app: AsyncApp
    paging: PagingService
    slack_auth: SlackAuth  # whether Slack has accepted the bot token (readiness)
    canaries: Canaries | None = None  # each channel's scheduled test (bot.proving.canaries)
    deps: Deps | None = None  # what the Slack listeners were handed (bot.alerts adds to it)
    alert_update_gap: float = 5.0  # RuntimeOptions.alert_update_gap


def slack_session() -> aiohttp.ClientSession:
    """One session for every Slack call and response_url reply: connections are kept alive.

    The timeout lives on the session because slack_sdk applies its own only to sessions it makes.
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=10), connector=aiohttp.TCPConnector(limit=32)
    )


def slack_client(env: BridgeEnv, session: aiohttp.ClientSession) -> AsyncWebClient:
    """The Web API client; Slack's 429s are waited out by slack_sdk's own retry handler."""
    client = AsyncWebClient(
        token=env.slack_bot_token, base_url=env.slack_api_url, timeout=10, session=session
    )
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    return client


def ack_links(env: BridgeEnv) -> AckLinks | None:
    """Acknowledge links when ``BRIDGE_PUBLIC_URL`` is set (``EnvError`` for a weak key or a
    plain-http address: see ``BridgeEnv.ack_key``)."""
    secret = env.ack_key()
    if env.public_url is None or secret is None:
        return None
    return AckLinks(env.public_url, secret)


def _purger(
    settings: Settings, store: Store, options: RuntimeOptions, owner: str
) -> retention.Purger | None:
    """The hourly purge of old records, when ``defaults.keep_records`` asks for one."""
    keep = settings.defaults.keep_records
    if keep is None:
        return None
    purger = retention.Purger(
        store, keep, clock=options.clock, owner=owner, interval=options.purge_interval
    )
    purger.start()
    return purger


@asynccontextmanager
async def open_runtime(
    settings: Settings, env: BridgeEnv, options: RuntimeOptions | None = None
) -> AsyncIterator[Runtime]:
    options = options or RuntimeOptions()
    store = open_store(env.db, clock=options.clock)
    await store.open()
    try:
        async with (
            open_accounts(settings.providers, claimer=store.slot_claimer()) as accounts,
            slack_session() as http,
            contextlib.AsyncExitStack() as closing,
        ):
            calendars = Calendars(
                settings.schedules,
                https_calendars(settings),
                people=settings.people,
                session=http,
                clock=options.clock,
                tick=options.page_tick,
            )
            # Every reader of schedules (paging, /send oncall) sees the latest good calendars.
            settings = dataclasses.replace(settings, schedules=calendars.live)
            client = slack_client(env, http)
            # Before anything is resumed or served: a refused token stops the start here.
            slack_auth = SlackAuth(client, options.slack_check)
            closing.push_async_callback(slack_auth.close)  # its retries stop, however this ends
            await slack_auth.start()
            dispatcher = Dispatcher(accounts, recorder=store, retry=options.retry)
            ownership = Ownership(
                store, settings.defaults.takeover_after, replica_id=options.replica_id
            )
            reporter = Reporter(
                client,
                store,
                min_interval=options.report_interval,
                session=http,
                book=ownership.book,
            )
            directory = Directory(client, ttl=options.directory_ttl)
            planner = Planner(settings, dispatcher, directory)
            service = SendService(
                settings,
                planner,
                store,
                dispatcher,
                reporter,
                clock=options.clock,
                ownership=ownership,
            )
            paging = PagingService(
                settings,
                store,
                service,
                client,
                clock=options.clock,
                links=ack_links(env),
                command=env.command,
                tick=options.page_tick,
            )
            canaries = Canaries(
                settings, service, client, clock=options.clock, tick=options.page_tick
            )
            phone_tests = PhoneTests(settings, service, options.clock, poll=options.page_tick)
            deps = Deps(
                settings=settings,
                service=service,
                command=env.command,
                paging=paging,
                phone_tests=phone_tests,
            )
            app = create_app(
                settings,
                deps,
                client=client,
                http_session=http,
            )
            runtime = Runtime(
                settings,
                env,
                store,
                accounts,
                client,
                service,
                app,
                paging,
                slack_auth,
                canaries=canaries,
                deps=deps,
                alert_update_gap=options.alert_update_gap,
            )
            if options.recover:
                await service.recover()
                service.watch()
            paging.start_loop()
            canaries.start_loop()
            calendars.start()
            purger = _purger(settings, store, options, ownership.replica_id)
            # In the background: start-up must not wait on Slack, and a failure only means the
            # first lookup of a group waits for it instead.
            warming = asyncio.create_task(directory.warm(usergroups_that_matter(settings)))
            try:
                yield runtime
            finally:
                warming.cancel()
                if purger is not None:
                    await purger.stop()
                await calendars.stop()
                await paging.stop()
                await canaries.stop()
                await directory.close()
                await service.drain_listeners(within=options.shutdown_grace)
                await service.stop(grace=_in_flight_grace(settings, options))
    finally:
        await store.close()
