"""``/send silence``, ``silences``, ``unsilence`` and ``alerts``: the words of the alert commands.

Why here: ``commands`` only routes; who may silence is ``bot.policy.silence``'s answer, what a
silence holds is ``bot.alerts.silences``'s, and the store keeps them. Every label, reason and
title shown is escaped (``md``): they come from people and from monitoring alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient

from bot.alerts.silences import new_silence_id
from bot.alerts.text import minute
from bot.policy import Rejection, Sender, may_silence, refuse
from bot.slack.deps import Deps
from bot.slack.failures import SLACK_FAILURES, slack_error
from bot.slack.mrkdwn import Limit, Mrkdwn, fit, join, md
from bot.slack.parse_alerts import SilenceAlerts
from bot.slack.refusals import rejection_text
from bot.store.base import Store, StoreError
from bot.store.silences_base import Silence

log = logging.getLogger(__name__)

MAX_SHOWN = 20  # lines in a list: the rest are counted


def _store_and_clock(deps: Deps) -> tuple[Store, Callable[[], datetime]]:
    if deps.paging is None:
        raise Rejection("Alerts are not running in this bridge.")
    return deps.paging.store, deps.paging.clock


def _matching(silence: Silence) -> Mrkdwn:
    if not silence.matchers:
        return md("every alert")
    return join(" ", (md("`{}={}`", k, v) for k, v in silence.matchers))


def _line(silence: Silence) -> Mrkdwn:
    reason = md(" — {}", silence.reason) if silence.reason else ""
    return md(
        "• `{}` on `{}`: {} until {}, by <@{}>{}",
        silence.silence_id,
        silence.integration,
        _matching(silence),
        minute(silence.ends_at),
        silence.created_by,
        reason,
    )


async def silence(
    deps: Deps, command: SilenceAlerts, sender: Sender, client: AsyncWebClient
) -> Mrkdwn:
    """Record the silence, and say so in the integration's channel: whoever watches it sees
    why its alerts went quiet."""
    integration = deps.settings.integrations.get(command.integration)
    if integration is None:
        names = ", ".join(deps.settings.integrations) or "none"
        return md("There is no integration `{}`. Integrations: {}.", command.integration, names)
    try:
        refuse(may_silence(integration, sender))
        store, clock = _store_and_clock(deps)
    except Rejection as exc:
        return rejection_text(exc)
    now = clock()
    made = Silence(
        new_silence_id(),
        integration.name,
        command.matchers,
        command.reason,
        sender.user_id,
        now,
        now + command.duration,
    )
    await store.create_silence(made)
    await _announce(client, integration.announce_in, md(":no_bell: {}", _line(made)))
    return md(
        "Silenced {} of `{}` until {}: silence *{}*. Alert groups that start firing meanwhile "
        "are shown in Slack as silenced and page nobody (pages already running go on). End it "
        "early with `{} unsilence {}`.",
        _matching(made),
        integration.name,
        minute(made.ends_at),
        made.silence_id,
        deps.command,
        made.silence_id,
    )


async def _announce(client: AsyncWebClient, channel: str, text: Mrkdwn) -> None:
    try:
        await client.chat_postMessage(channel=channel, text=text)
    except SLACK_FAILURES as exc:
        log.warning("could not announce a silence in %s: %s", channel, slack_error(exc))


async def silences(deps: Deps) -> Mrkdwn:
    try:
        store, clock = _store_and_clock(deps)
    except Rejection as exc:
        return rejection_text(exc)
    found = await store.active_silences(None, clock())
    if not found:
        return md("No silence is in force: every alert pages as its route says.")
    lines = [fit(_line(s), 500) for s in found[:MAX_SHOWN]]
    return _listed(md("*Silences in force* ({}):", len(found)), lines, len(found))


async def unsilence(deps: Deps, silence_id: str, sender: Sender) -> Mrkdwn:
    try:
        store, clock = _store_and_clock(deps)
    except Rejection as exc:
        return rejection_text(exc)
    now = clock()
    found = await store.silence(silence_id)
    if found is None or not found.active(now):
        return md(
            "No silence `{}` is in force (`{} silences` lists them).", silence_id, deps.command
        )
    integration = deps.settings.integrations.get(found.integration)
    if integration is not None:  # one removed from the config: anyone may end its silences
        try:
            refuse(may_silence(integration, sender))
        except Rejection as exc:
            return rejection_text(exc)
    if not await store.end_silence(found.silence_id, sender.user_id, now):
        return md("Silence `{}` had already ended.", found.silence_id)
    for look in deps.silence_ended:  # its groups' messages stop saying "silenced" now
        try:
            await look()
        except (StoreError, OSError, TimeoutError) as exc:  # ended all the same: the tick looks
            log.warning("could not look for an ended silence's groups: %s", type(exc).__name__)
    return md(
        "Ended silence *{}* on `{}`: its alerts page again from now on.",
        found.silence_id,
        found.integration,
    )


async def alerts(deps: Deps) -> Mrkdwn:
    """The groups firing now, the latest seen first, with their page's state."""
    try:
        store, clock = _store_and_clock(deps)
    except Rejection as exc:
        return rejection_text(exc)
    found, total = await store.firing_alert_groups(MAX_SHOWN)
    if not found:
        return md("No alert is firing.")
    holding = {s.silence_id for s in await store.active_silences(None, clock())}
    lines: list[Mrkdwn] = []
    for item in found:
        group = item.group
        if group.page_id is not None:
            state = md("page *{}* {}", group.page_id, item.page_state or "gone")
        elif group.silence_id in holding:
            state = md("silenced (`{}`)", group.silence_id)
        elif group.escalation is None:
            state = md("Slack only")
        elif group.silence_id is not None:  # its silence ended: a repeat starts its page
            state = md("silence `{}` ended, pages at its next notification", group.silence_id)
        else:
            state = md("page starting")
        lines.append(
            md(
                "• `{}` `{}` {} · {}× · last {} · {}",
                group.integration,
                group.group_id,
                fit(group.title, 100),
                group.count,
                minute(group.last_at),
                state,
            )
        )
    return _listed(md("*Firing now* ({}):", total), lines, total)


def _listed(head: Mrkdwn, lines: list[Mrkdwn], total: int) -> Mrkdwn:
    """``head`` and as many whole lines as fit one Slack text, then how many more there are."""
    room = Limit.TEXT - len(head) - 40  # the "…and N more" line
    shown: list[Mrkdwn] = []
    for line in lines:
        if len(line) + 1 > room:
            break
        shown.append(line)
        room -= len(line) + 1
    more = md("\n…and {} more", total - len(shown)) if total > len(shown) else ""
    return Mrkdwn(head + "\n" + "\n".join(shown) + more)
