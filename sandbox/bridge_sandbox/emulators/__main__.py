"""`python -m bridge_sandbox.emulators`: run the three provider emulators until interrupted.

Point a config's base_url at the printed URLs to try `python -m bot send` with no accounts;
faults can be injected over HTTP at `<url>/_emulator/fault`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bridge_sandbox.emulators.suite import start_suite


async def _run(args: argparse.Namespace) -> None:
    suite = await start_suite(
        talkntalk_key=args.talkntalk_key,
        autokonnect_key=args.autokonnect_key,
        kaleyra_key=args.kaleyra_key,
        host=args.host,
        ports=(args.port, args.port + 1 if args.port else 0, args.port + 2 if args.port else 0),
    )
    suite.talkntalk.latency = suite.autokonnect.latency = suite.kaleyra.latency = args.latency
    for name, server in suite.servers.items():
        print(f"{name:<12} {server.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await suite.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bridge_sandbox.emulators")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="first port (0: any free ports)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument("--talkntalk-key", default="tnt-demo-key")
    parser.add_argument("--autokonnect-key", default="ak-demo-key")
    parser.add_argument("--kaleyra-key", default="kal-demo-key")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
