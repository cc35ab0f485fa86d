"""What every provider emulator shares: request recording, fault injection, latency, rate limits.

Why: tests, the demo and the benchmarks all talk HTTP to these emulators over loopback, so each
must be able to behave like a slow, rate-limited, broken or hung provider on demand — and must
remember what it accepted, so a test can count how many times a phone really got a message.

Faults are set in-process (``state.inject(...)``) or over HTTP at ``/_emulator/*`` when the
emulator runs in another process (``python -m bridge_sandbox.emulators``). Besides the queue of
faults for the next requests, a *chaos* mode answers a random share of requests with faults
(seeded, so a benchmark or a soak test can be replayed); queued faults always come first.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Fault:
    """One injected misbehaviour, applied to the next ``times`` send requests.

    ``process=True`` means the emulator first accepts the message (it "reaches the phone") and
    then misbehaves — the ambiguous case a bridge must never retry on its own.

    ``raw`` answers those exact bytes (``repeat`` times over, streamed, so a huge body costs no
    memory) with ``status`` (default 200) and ``content_type``: a reply no JSON encoder would
    write, such as invalid UTF-8 or a gateway's HTML page.
    """

    status: int | None = None
    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json"
    repeat: int = 1
    # What the emulator managed to write of ``raw`` before the client hung up, and whether it
    # has stopped writing: a test reads these to see that a client did not read a body whole.
    written: int = 0
    finished: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    hang: bool = False
    drop: bool = False
    process: bool = False
    times: int = 1


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes
    at: float


@dataclass
class Delivery:
    """A message the emulator accepted, i.e. one that would reach a phone or group."""

    recipient: str
    message_id: str | None
    payload: Any
    at: float


@dataclass
class EmulatorState:
    """Everything a test may want to set or read about an emulator."""

    api_key: str = "test-key"
    latency: float = 0.0
    rate_limit: int | None = None  # requests per window, enforced as a sliding window
    rate_window: float = 60.0
    retry_after: float = 1.0
    requests: list[RecordedRequest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    faults: deque[Fault] = field(default_factory=deque)
    throttled: int = 0  # 429s answered by the rate limit (not by injected faults)
    # Chaos: (probability, fault) pairs drawn for each request when no queued fault is pending.
    chaos: list[tuple[float, Fault]] = field(default_factory=list)
    chaos_seed: int | None = None
    chaos_applied: int = 0  # requests answered by a chaos fault
    # The clock the rate window and recorded requests read, and how delays wait: replaceable so
    # a test drives them by hand instead of depending on how fast a loaded machine runs.
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    _window: deque[float] = field(default_factory=deque)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.set_chaos(self.chaos, self.chaos_seed)

    def set_chaos(self, faults: Sequence[tuple[float, Fault]], seed: int | None = None) -> None:
        """Answer about ``probability`` of the requests with each fault (``[]`` turns it off).

        The seed makes the sequence of draws repeatable; which request gets which fault still
        depends on the order requests arrive in.
        """
        pairs = [(float(p), f) for p, f in faults]
        if any(not 0.0 <= p <= 1.0 for p, _ in pairs) or sum(p for p, _ in pairs) > 1.0 + 1e-9:
            raise ValueError("chaos probabilities must each be in [0, 1] and sum to at most 1")
        self.chaos, self.chaos_seed, self._rng = pairs, seed, random.Random(seed)

    def inject(self, fault: Fault | None = None, **kwargs: Any) -> Fault:
        fault = fault or Fault(**kwargs)
        self.faults.append(fault)
        return fault

    def reset(self) -> None:
        """Forget what was recorded and the queued faults; settings (latency, chaos) stay."""
        self.requests.clear()
        self.deliveries.clear()
        self.faults.clear()
        self._window.clear()
        self.throttled = 0
        self.chaos_applied = 0

    def next_fault(self) -> Fault | None:
        while self.faults:
            fault = self.faults[0]
            if fault.times <= 0:
                self.faults.popleft()
                continue
            fault.times -= 1
            if fault.times == 0:
                self.faults.popleft()
            return fault
        return self._chaos_fault()

    def _chaos_fault(self) -> Fault | None:
        if not self.chaos:
            return None
        roll = self._rng.random()
        for probability, fault in self.chaos:
            if roll < probability:
                self.chaos_applied += 1
                return replace(fault, headers=dict(fault.headers), times=1)
            roll -= probability
        return None

    def over_rate(self, now: float) -> bool:
        """Sliding-window rate check; counts only the requests it lets through."""
        if self.rate_limit is None:
            return False
        while self._window and self._window[0] <= now - self.rate_window:
            self._window.popleft()
        if len(self._window) >= self.rate_limit:
            return True
        self._window.append(now)
        return False

    def delivered_to(self, recipient: str) -> int:
        return sum(1 for d in self.deliveries if d.recipient == recipient)


STATE_KEY = web.AppKey("emulator_state", EmulatorState)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


async def record(request: web.Request) -> tuple[RecordedRequest, Any]:
    """Read and record the request; the body is parsed JSON, or None when it is not JSON."""
    raw = await request.read()
    try:
        body: Any = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    state = request.app[STATE_KEY]
    rec = RecordedRequest(
        request.method, request.path, dict(request.headers), body, raw, state.clock()
    )
    state.requests.append(rec)
    return rec, body


async def _hang_forever() -> None:
    await asyncio.Event().wait()


async def apply_fault_before(
    request: web.Request, fault: Fault | None
) -> web.StreamResponse | None:
    """Latency, rate limit and faults that happen before the message is processed."""
    state = request.app[STATE_KEY]
    if state.latency:
        await state.sleep(state.latency)
    if fault is not None and fault.delay:
        await state.sleep(fault.delay)
    if fault is not None and not fault.process:
        return await _misbehave(request, fault)
    return None


async def apply_fault_after(request: web.Request, fault: Fault | None) -> web.StreamResponse | None:
    """Faults that happen after the message was accepted (the ambiguous ones)."""
    if fault is not None and fault.process:
        return await _misbehave(request, fault)
    return None


async def _misbehave(request: web.Request, fault: Fault) -> web.StreamResponse | None:
    if fault.hang:
        await _hang_forever()
    if fault.drop:
        transport = request.transport
        if transport is not None:
            transport.abort()
        raise asyncio.CancelledError  # aiohttp treats this as a dropped client; nothing is written
    if fault.raw is not None:
        return await _raw_reply(request, fault, fault.raw)
    if fault.status is not None:
        body = fault.body if fault.body is not None else {}
        return json_response(fault.status, body, fault.headers)
    return None


async def _raw_reply(request: web.Request, fault: Fault, raw: bytes) -> web.StreamResponse:
    """Stream ``raw`` ``repeat`` times: the reply's size is the client's problem, not ours."""
    response = web.StreamResponse(
        status=fault.status or 200, headers={"Content-Type": fault.content_type, **fault.headers}
    )
    response.content_length = len(raw) * max(0, fault.repeat)
    try:
        await response.prepare(request)
        for _ in range(max(0, fault.repeat)):
            await response.write(raw)
            fault.written += len(raw)
    except ConnectionResetError:
        pass  # the client stopped reading, as a careful one should
    finally:
        fault.finished = True
    return response


def rate_limited(request: web.Request, body: Any) -> web.Response | None:
    """A 429 with Retry-After when the emulator's own rate limit is exceeded."""
    state = request.app[STATE_KEY]
    if state.over_rate(state.clock()):
        state.throttled += 1
        return json_response(429, body, {"Retry-After": f"{state.retry_after:g}"})
    return None


# --- control API, for an emulator running in another process ---------------------------------


async def _control_fault(request: web.Request) -> web.Response:
    """The fault as JSON; ``raw`` is given base64-encoded, as JSON cannot hold any bytes."""
    data = await request.json()
    try:
        if isinstance(data.get("raw"), str):
            data["raw"] = base64.b64decode(data["raw"], validate=True)
        fault = Fault(**data)
    except (TypeError, ValueError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)
    request.app[STATE_KEY].inject(fault)
    return web.json_response({"ok": True})


async def _control_chaos(request: web.Request) -> web.Response:
    """``{"seed": 7, "faults": [{"probability": 0.1, "fault": {"status": 500}}]}``; [] stops it."""
    data = await request.json()
    try:
        faults = [(float(item["probability"]), Fault(**item["fault"])) for item in data["faults"]]
        request.app[STATE_KEY].set_chaos(faults, data.get("seed"))
    except (KeyError, TypeError, ValueError) as exc:
        return web.json_response({"ok": False, "error": str(exc)}, status=400)
    return web.json_response({"ok": True})


async def _control_settings(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    data = await request.json()
    for name in ("latency", "rate_limit", "rate_window", "retry_after"):
        if name in data:
            setattr(state, name, data[name])
    return web.json_response({"ok": True})


async def _control_requests(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    return web.json_response(
        {
            "requests": [
                {"method": r.method, "path": r.path, "body": r.body} for r in state.requests
            ],
            "deliveries": [asdict(d) for d in state.deliveries],
            "throttled": state.throttled,
            "chaos_applied": state.chaos_applied,
        }
    )


async def _control_reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return web.json_response({"ok": True})


def new_app(state: EmulatorState | None) -> web.Application:
    """An aiohttp app carrying the state and the ``/_emulator/*`` control routes."""
    app = web.Application()
    app[STATE_KEY] = state or EmulatorState()
    app.router.add_post("/_emulator/fault", _control_fault)
    app.router.add_post("/_emulator/chaos", _control_chaos)
    app.router.add_post("/_emulator/settings", _control_settings)
    app.router.add_get("/_emulator/requests", _control_requests)
    app.router.add_post("/_emulator/reset", _control_reset)
    return app


@dataclass
class RunningServer:
    """A started aiohttp app on 127.0.0.1 with an OS-chosen port."""

    runner: web.AppRunner
    url: str

    async def close(self) -> None:
        await self.runner.cleanup()


def bind_loopback(host: str = "127.0.0.1") -> socket.socket:
    """A listening-ready socket on a free loopback port, bound now: its URL is known before the
    app that will serve it is built (the bridge's acknowledge links name its own URL)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}"


async def serve(
    app: web.Application,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    sock: socket.socket | None = None,
) -> RunningServer:
    """Start an app on loopback (port 0: any free port; or on ``sock`` from ``bind_loopback``)
    and return its base URL."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site: web.BaseSite = (
        web.SockSite(runner, sock) if sock is not None else web.TCPSite(runner, host, port)
    )
    await site.start()
    server = site._server
    assert isinstance(server, asyncio.base_events.Server)
    bound_host, bound_port = server.sockets[0].getsockname()[:2]
    return RunningServer(runner, f"http://{bound_host}:{bound_port}")
