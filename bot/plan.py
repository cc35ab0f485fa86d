"""Turning what a person asked for into Plans: who they are (cached user groups), policy, and
the provider's own local checks — all before anything is recorded or sent.

Why a class of its own, handed to the send service: these steps are pure but for the cached
directory, and the listeners need them *before* deciding what to answer Slack (inline modal
errors go in the ack).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from bot import metrics
from bot.directory import Directory, DirectoryError
from bot.dispatch import Dispatcher
from bot.policy import (
    Rejection,
    Sender,
    check_broadcast,
    plan_send,
    plan_to,
    usergroups_that_matter,
)
from bot.requests import SendRequest, new_request_id
from bot.values import Plan, Surface
from config import Settings
from providers.base import InvalidMessage, Message

log = logging.getLogger(__name__)


@contextmanager
def _counted_rejections(surface: Surface) -> Iterator[None]:
    """Count a refused request in /metrics by where it came from, then let it propagate."""
    try:
        yield
    except Rejection:
        metrics.REQUESTS.labels(surface, "rejected").inc()
        raise


class Planner:
    """Plans sends: who asks, what policy allows, what the provider would refuse."""

    def __init__(
        self, settings: Settings, dispatcher: Dispatcher, directory: Directory | None = None
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.directory = directory

    async def sender(
        self, user_id: str, slack_channel: str | None, *, within: float | None = None
    ) -> Sender:
        """Who asks; with ``within``, MembershipPending if Slack's user groups take longer."""
        groups = usergroups_that_matter(self.settings)
        if not groups or self.directory is None:
            return Sender(user_id, frozenset(), slack_channel)
        try:
            mine = await self.directory.groups_of(user_id, groups, within=within)
        except DirectoryError as exc:
            log.warning("user group lookup failed", extra={"user": user_id})
            return Sender(user_id, frozenset(), slack_channel, note=str(exc))
        return Sender(user_id, mine, slack_channel)

    def plan(
        self, request: SendRequest, sender: Sender | None, *, surface: Surface = Surface.SLASH
    ) -> Plan:
        """Policy and the provider's local checks; a Rejection is counted by surface."""
        with _counted_rejections(surface):
            plan = plan_send(self.settings, request, sender=sender, request_id=new_request_id())
            self._validate(plan)
        return plan

    def plan_page(self, channel_name: str, address: str, text: str) -> Plan:
        """A page's text to one person's number by one channel: the bridge pages on its own
        behalf (no sender rules, no ad-hoc rule: the number is the person's from the config),
        but the channel's message rules and the provider's local checks hold as for any send.
        Not counted in /metrics requests: the page's event log records the refusal."""
        plan = plan_to(self.settings, channel_name, address, Message(text=text), new_request_id())
        try:
            self.dispatcher.validate(plan)
        except InvalidMessage as exc:
            raise Rejection(str(exc)) from None
        return plan

    def _validate(self, plan: Plan) -> None:
        try:
            self.dispatcher.validate(plan)
        except InvalidMessage as exc:
            field = "media_url" if plan.message.media_url and "link" in exc.reason else "text"
            if plan.message.template_id and "template" in exc.reason:
                field = "template_id"
            raise Rejection(f"{exc}.", field=field) from None

    def plan_broadcast(
        self,
        preset: str,
        severity: str,
        text: str,
        channels: Sequence[str],
        sender: Sender,
        sender_name: str,
    ) -> list[Plan]:
        with _counted_rejections(Surface.BROADCAST):
            broadcast, chosen = check_broadcast(
                self.settings, preset, severity, text, channels, sender
            )
            body = broadcast.render(severity=severity, text=text.strip(), sender=sender_name)
            plans = []
            for name in chosen:
                request = SendRequest(channel=name, message=Message(text=body))
                try:
                    plan = plan_send(
                        self.settings, request, sender=None, request_id=new_request_id()
                    )
                except Rejection as exc:
                    if exc.field != "text":
                        raise
                    raise Rejection(
                        f"{exc.plain} That is the text as sent, with the preset's template "
                        f"around yours: {broadcast.template}",
                        field="text",
                    ) from None
                self._validate(plan)
                plans.append(plan)
            return plans
