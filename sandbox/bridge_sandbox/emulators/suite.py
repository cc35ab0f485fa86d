"""All three provider emulators at once, for the demo, the benchmarks and manual trials."""

from __future__ import annotations

from dataclasses import dataclass

from bridge_sandbox.emulators import autokonnect, kaleyra, talkntalk
from bridge_sandbox.emulators.common import RunningServer, serve


@dataclass
class EmulatorSuite:
    """The running emulators and their states (for faults and to count deliveries)."""

    talkntalk: talkntalk.TalkNTalkState
    autokonnect: autokonnect.AutoKonnectState
    kaleyra: kaleyra.KaleyraState
    servers: dict[str, RunningServer]

    def url(self, name: str) -> str:
        return self.servers[name].url

    async def close(self) -> None:
        for server in self.servers.values():
            await server.close()


async def start_suite(
    *,
    talkntalk_key: str = "tnt-demo-key",
    autokonnect_key: str = "ak-demo-key",
    kaleyra_key: str = "kal-demo-key",
    host: str = "127.0.0.1",
    ports: tuple[int, int, int] = (0, 0, 0),
) -> EmulatorSuite:
    """Start the three emulators on loopback (port 0: any free port)."""
    tnt = talkntalk.TalkNTalkState(api_key=talkntalk_key)
    ak = autokonnect.AutoKonnectState(api_key=autokonnect_key)
    kal = kaleyra.KaleyraState(api_key=kaleyra_key)
    servers = {
        "talkntalk": await serve(talkntalk.create_app(tnt), host, ports[0]),
        "autokonnect": await serve(autokonnect.create_app(ak), host, ports[1]),
        "kaleyra": await serve(kaleyra.create_app(kal), host, ports[2]),
    }
    return EmulatorSuite(tnt, ak, kal, servers)
