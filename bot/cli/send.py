"""`python -m bot send`: the same checks and adapters as Slack, from a terminal or a script."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from bot.accounts import open_accounts
from bot.dispatch import Dispatcher
from bot.plan import Planner
from bot.policy import Rejection, sms_note
from bot.requests import SendRequest
from bot.send.service import SendService
from bot.store import Store, utcnow
from bot.values import Origin, Surface
from config import Settings
from config.numbers import mask_address
from providers.base import Message, MessageType, Outcome, OutcomeStatus

MARKS = {
    OutcomeStatus.SENT: "sent",
    OutcomeStatus.FAILED: "FAILED",
    OutcomeStatus.UNKNOWN: "UNKNOWN",
}


# A refusal names the form field at fault (its words serve Slack's modal and /send too, as
# "give numbers to send to"); on the command line the flag is what to fix, so it is named.
FLAGS = {
    "channel": "--channel",
    "to": "--to",
    "type": "--type",
    "text": "--text",
    "media_url": "--media-url",
    "template_id": "--template-id",
}


def refusal(exc: Rejection) -> str:
    """The refusal's words, led by the flag to change (``--to: …``) when it names a field."""
    flag = FLAGS.get(exc.field or "")
    return f"{flag}: {exc.plain}" if flag and not exc.plain.startswith(flag) else exc.plain


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--channel", default=None, help="outbound channel name from the config (required)"
    )
    parser.add_argument(
        "--to",
        default="",
        help="comma-separated numbers or contact lists instead of the channel's own "
        "(the channel must allow_adhoc)",
    )
    parser.add_argument(
        "--type",
        default="text",
        help="text, image, video, audio (voice), document (file), template, interactive",
    )
    parser.add_argument("--text", default=None, help="the message, or the caption for media")
    parser.add_argument("--media-url", default=None, help="public https URL of the media")
    parser.add_argument("--filename", default=None, help="file name shown for a document")
    parser.add_argument("--mime-type", default=None, help="e.g. application/pdf")
    parser.add_argument("--template-id", default=None, help="numeric id of an approved template")
    parser.add_argument("--language", default=None, help="template language, e.g. en_US")
    parser.add_argument(
        "--components", default=None, help="template components as JSON, or @file.json"
    )
    parser.add_argument(
        "--interactive", default=None, help="interactive payload as JSON, or @file.json"
    )
    parser.add_argument("--preview-url", action="store_true", help="render a link preview")


def _json_arg(value: str | None, name: str) -> Any:
    """A JSON value given inline or as @path; errors say which flag and why."""
    if value is None:
        return None
    try:
        text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
        return json.loads(text)
    except OSError as exc:
        raise Rejection(f"--{name}: cannot read {value[1:]!r} ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise Rejection(f"--{name} is not valid JSON: {exc.msg} at column {exc.colno}") from None


def message_from_args(args: argparse.Namespace) -> Message:
    try:
        kind = MessageType.parse(args.type)
    except ValueError as exc:
        raise Rejection(f"--type: {exc}") from None
    components = _json_arg(args.components, "components")
    interactive = _json_arg(args.interactive, "interactive")
    if components is not None and not isinstance(components, list):
        raise Rejection("--components must be a JSON array of components")
    if interactive is not None and not isinstance(interactive, dict):
        raise Rejection("--interactive must be a JSON object")
    return Message(
        type=kind,
        text=args.text,
        media_url=args.media_url,
        filename=args.filename,
        mime_type=args.mime_type,
        template_id=args.template_id,
        language=args.language,
        components=components,
        interactive=interactive,
        preview_url=args.preview_url,
    )


class ProgressBar:
    """A one-line bar on a terminal's stderr, redrawn at most ten times a second."""

    def __init__(self, total: int, stream: TextIO, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.done = 0
        self._drawn_at = 0.0

    def advance(self) -> None:
        self.done += 1
        now = time.monotonic()
        if now - self._drawn_at >= 0.1 or self.done == self.total:
            self._drawn_at = now
            filled = self.width * self.done // max(1, self.total)
            bar = "█" * filled + "░" * (self.width - filled)
            self.stream.write(f"\r  sending [{bar}] {self.done}/{self.total}")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def format_outcome(outcome: Outcome, *, full_numbers: bool = True) -> str:
    address = outcome.recipient.address
    shown = address if full_numbers else mask_address(address)
    mark = MARKS.get(outcome.status, outcome.status.value)
    if outcome.status is OutcomeStatus.SENT:
        detail = f"id {outcome.provider_message_id}" if outcome.provider_message_id else "queued"
    else:
        codes = " ".join(str(c) for c in (outcome.http_status, outcome.code) if c)
        detail = (outcome.reason or "") + (f" [{codes}]" if codes else "")
        if outcome.status is OutcomeStatus.UNKNOWN:
            detail += " — not retried: check before sending again"
    return f"{mark:<8} {shown:<28} {detail}"


async def run_send(
    args: argparse.Namespace,
    settings: Settings,
    store: Store,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """0: every recipient accepted; 1: any failed or unknown; 2: refused before sending."""
    if args.channel is None:
        err.write("error: --channel: give the channel to send through (or --test PERSON)\n")
        return 2
    try:
        message = message_from_args(args)
        to = tuple(part for part in args.to.split(",") if part.strip())
        request = SendRequest(channel=args.channel, to=to, message=message)
        channel = settings.channels.get(request.channel)
        accounts_needed = {channel.provider_name} if channel is not None else set()
    except Rejection as exc:
        err.write(f"error: {refusal(exc)}\nNothing was sent.\n")
        return 2
    configs = {name: settings.provider(name) for name in accounts_needed}
    async with open_accounts(configs, claimer=store.slot_claimer()) as accounts:
        dispatcher = Dispatcher(accounts, recorder=store)
        planner = Planner(settings, dispatcher)
        service = SendService(settings, planner, store, dispatcher, None, clock=utcnow)
        try:
            plan = service.plan(request, None, surface=Surface.CLI)
        except Rejection as exc:
            err.write(f"error: {refusal(exc)}\nNothing was sent.\n")
            return 2
        request_id = plan.request_id
        total = len(plan.recipients)
        out.write(
            f"Request {request_id}: {plan.message.type.value} to {total} recipient(s) "
            f"through {plan.channel}\n"
        )
        sms = sms_note([plan])
        if sms:
            out.write(f"{sms}, to each\n")
        out.flush()
        bar = ProgressBar(total, err) if err.isatty() and total > 1 else None
        counts = dict.fromkeys(OutcomeStatus, 0)
        async for outcome in service.send_inline(plan, Origin(Surface.CLI, user_id=None)):
            counts[outcome.status] += 1
            if bar is not None:
                bar.stream.write("\r\033[K")
            out.write(format_outcome(outcome) + "\n")
            out.flush()
            if bar is not None:
                bar.advance()
        record = await store.get_request(request_id)
    if record is not None and record.provider_count is not None:
        out.write(f"The provider queued it for {record.provider_count} people.\n")
    sent = counts[OutcomeStatus.SENT]
    failed = counts[OutcomeStatus.FAILED]
    unknown = counts[OutcomeStatus.UNKNOWN]
    out.write(f"{sent} sent, {failed} failed, {unknown} unknown — request {request_id}\n")
    return 0 if failed == 0 and unknown == 0 else 1
