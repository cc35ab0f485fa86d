"""Command line: serve | socket | check | send | page | ack | oncall | history | demo. The only
place that calls sys.exit."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from bot.cli import history as cli_history
from bot.cli import oncall as cli_oncall
from bot.cli import paging as cli_paging
from bot.cli import proving as cli_proving
from bot.cli import send as cli_send
from bot.server import logs
from bot.server.env import BridgeEnv, EnvError, read_env
from bot.store import Store, StoreError, open_store
from config import ConfigError, Settings, load
from config.describe import describe


def _config_path(args: argparse.Namespace) -> str:
    return str(args.config or os.environ.get("BRIDGE_CONFIG") or "config/bridge.yaml")


def _moment(text: str) -> datetime:
    """``check --at``: an ISO time with an offset (or Z), so nobody guesses whose 09:00 it is."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: write e.g. 2026-11-24T20:00+03:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no offset: write e.g. 2026-11-24T20:00+03:00 or …Z for UTC"
        )
    return moment


def _load(args: argparse.Namespace) -> Settings | None:
    try:
        return load(_config_path(args), now=getattr(args, "at", None))
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return None


async def _with_store(
    env: BridgeEnv, run: Callable[[Store], Awaitable[int]], *, reader: bool = False
) -> int:
    """``reader``: the command only reads, so it may run beside a ``serve`` that owns the file."""
    async with open_store(env.db, reader=reader) as store:
        return await run(store)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="chatops-bridge: send SMS and WhatsApp from Slack through your own accounts.",
    )
    parser.add_argument(
        "--config",
        default=None,
        help="config file (default: $BRIDGE_CONFIG, else config/bridge.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="HTTP mode: Slack posts to /slack/events on $PORT")
    commands.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN); HTTP endpoints too")
    check = commands.add_parser("check", help="validate the config and print what it resolves to")
    check.add_argument(
        "--at",
        type=_moment,
        default=None,
        help="show who is on call at this time (ISO with offset) instead of now; gaps are "
        "looked for in the 4 weeks from it",
    )
    check.add_argument(
        "--live",
        action="store_true",
        help="also run every canary once: this SENDS a real test message through each listed "
        "channel (recorded in BRIDGE_DB); exit 1 if a provider refuses one",
    )
    send = commands.add_parser("send", help="send a message through a channel from the terminal")
    cli_send.add_arguments(send)
    send.add_argument(
        "--test",
        metavar="PERSON",
        default=None,
        help="instead of a message: a test through each way PERSON (from people) is paged; "
        "this SENDS real messages; exit 1 if one fails",
    )
    page = commands.add_parser(
        "page",
        help="page through an escalation: step 1 now, later steps by the running bridge",
        description="Start a page as /send page does: step 1 is sent now; a running `serve` or "
        "`socket` on the same BRIDGE_DB runs the later steps until someone acknowledges.",
    )
    cli_paging.add_page_arguments(page)
    ack = commands.add_parser("ack", help="acknowledge a page: no later step runs")
    cli_paging.add_ack_arguments(ack)
    oncall = commands.add_parser(
        "oncall", help="who is on call now and next, or whom an escalation would page now"
    )
    cli_oncall.add_arguments(oncall)
    commands.add_parser(
        "demo", help="run the whole bridge locally with no accounts and print the Slack thread"
    )
    history = commands.add_parser("history", help="recent sends, or one send's recipients")
    cli_history.add_arguments(history)
    for sub in commands.choices.values():
        sub.add_argument("--config", default=argparse.SUPPRESS, help="config file")
    return parser


def _demo() -> int:
    """The demo runs on the loopback Slack and the emulators, which ship apart from the product
    (the ``chatops-bridge-sandbox`` distribution in ``sandbox/``): say how to get them."""
    try:
        from bridge_sandbox.demo import run_demo
    except ImportError:
        sys.stderr.write(
            "The demo needs the sandbox (loopback Slack and provider emulators): from a clone of "
            "the repository, run: pip install -e ./sandbox\n"
        )
        return 2
    logs.configure({"LOG_LEVEL": "ERROR"})
    return asyncio.run(run_demo())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure()
    if args.command == "demo":
        return _demo()
    settings = _load(args)
    if settings is None:
        return 1
    if args.command == "check":
        sys.stdout.write(describe(settings, args.at) + "\n")
        if not args.live:
            return 0
    if args.command == "oncall":
        live = asyncio.run(cli_oncall.with_calendars(settings))
        return cli_oncall.run_oncall(args, live, datetime.now(UTC))
    try:
        env = read_env(os.environ)
        if args.command in ("page", "ack"):
            run = cli_paging.run_page if args.command == "page" else cli_paging.run_ack
            return asyncio.run(_with_store(env, lambda store: run(args, settings, env, store)))
        if args.command == "check":
            return asyncio.run(
                _with_store(env, lambda store: cli_proving.run_live(settings, store))
            )
        if args.command == "send" and args.test is not None:
            person = args.test
            return asyncio.run(
                _with_store(env, lambda store: cli_proving.run_phone_test(person, settings, store))
            )
        if args.command == "send":
            return asyncio.run(
                _with_store(env, lambda store: cli_send.run_send(args, settings, store))
            )
        if args.command == "history":
            keep = settings.defaults.keep_records
            return asyncio.run(
                _with_store(
                    env,
                    lambda store: cli_history.run_history(args, store, keep=keep),
                    reader=True,
                )
            )
        from bot.server import servers  # the Slack stack loads only for the commands that serve

        if args.command == "serve":
            asyncio.run(servers.run_http(settings, env))
        elif args.command == "socket":
            asyncio.run(servers.run_socket(settings, env))
        else:
            raise AssertionError(f"unhandled command {args.command}")
    except (EnvError, StoreError) as exc:  # a store that cannot open says why and what to do
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
