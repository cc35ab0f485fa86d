"""``/send test-me`` and ``/send test <person>`` after the ack: policy, then one message in the
channel that each method's result updates.

Why the follow-up runs in a task of its own: it waits up to minutes for receipts, and the
person's next command (run in turn after this one) must not wait for it; the send service tracks
the task, so shutdown waits for it like any acked work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy import Rejection, Sender, may_test, own_person
from bot.policy.refusals import Refusal
from bot.proving.phone_test import MethodResult
from bot.slack.deps import Deps
from bot.slack.mrkdwn import md
from bot.slack.parse import PhoneCheck
from bot.slack.phone_test import phone_test_blocks, phone_test_title
from bot.values import Surface

log = logging.getLogger(__name__)


async def run(
    deps: Deps,
    command: PhoneCheck,
    sender: Sender,
    body: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
) -> None:
    settings, tests = deps.settings, deps.phone_tests
    if tests is None:
        raise Rejection("Phone tests are not available in this bridge.")
    found = (
        own_person(settings, sender)
        if command.person is None
        else may_test(settings, sender, command.person)
    )
    if isinstance(found, Refusal):
        raise Rejection(found)
    person = found
    if not tests.methods(person):
        raise Rejection(
            f"No channel reaches {person.name}: give them reach rules in people, or put them "
            "on an escalation whose via has a channel for their number."
        )
    key = f"test:{body['trigger_id']}"
    asker = settings.person_with_slack(sender.user_id)
    asker_name = asker.name if asker is not None else "a colleague"
    started = await tests.start(person, asker_name, Surface.SLASH, key, sender.user_id)
    if not any(r.fresh for r in started if r.request_id is not None) and any(
        r.request_id for r in started
    ):
        # Slack delivered the command again: the first delivery's message shows the results.
        await respond(
            text=md("This test is already running: its results are in the message above."),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    channel = body.get("channel_id") or sender.user_id
    title = phone_test_title(person, sender.user_id)
    try:
        posted = await client.chat_postMessage(
            channel=channel,
            text=title,
            blocks=phone_test_blocks(settings, person, sender.user_id, started),
        )
    except SlackApiError as exc:
        why = str(exc.response.get("error"))
        log.warning("could not post a phone test: %s", why)
        await respond(
            text=md("{}: the results could not be posted here ({}).", title, why),
            response_type="ephemeral",
            replace_original=False,
        )
        return
    where, ts = str(posted["channel"]), str(posted["ts"])

    async def changed(results: Sequence[MethodResult]) -> None:
        try:
            await client.chat_update(
                channel=where,
                ts=ts,
                text=title,
                blocks=phone_test_blocks(settings, person, sender.user_id, results),
            )
        except SlackApiError as exc:
            log.warning("could not update a phone test: %s", exc.response.get("error"))

    # Followed apart from the command's turn: this person's next command must not wait for a
    # delivery report; the send service tracks it so shutdown lets it finish its update.
    async def follow_up() -> None:
        try:
            await tests.follow(started, changed)
        except Exception as exc:  # the message stays as it was; the sends are recorded anyway
            log.error("a phone test stopped updating: %s", type(exc).__name__)

    follow = asyncio.create_task(follow_up(), name="phone-test")
    deps.service.track_listener(follow)
