"""Where the HTTP handlers find the running bridge: a slot the runtime fills once it is open.

Why a slot: an aiohttp app's state is frozen before its runtime opens, and the probes (served on
the metrics port too) must tell "starting" and "stopping" from "open".
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from bot.server.runtime import Runtime


@dataclass
class RuntimeSlot:
    """Filled by cleanup_ctx once the runtime is open (an app's state is frozen by then)."""

    runtime: Runtime | None = None
    stopping: bool = False  # set when shutdown begins: not ready while acked work drains

    @property
    def phase(self) -> str:
        if self.stopping:
            return "stopping"
        return "starting" if self.runtime is None else "open"


SLOT = web.AppKey("runtime_slot", RuntimeSlot)


def runtime_of(request: web.Request) -> Runtime:
    runtime = request.app[SLOT].runtime
    if runtime is None:
        raise web.HTTPServiceUnavailable(text="the bridge is starting")
    return runtime
