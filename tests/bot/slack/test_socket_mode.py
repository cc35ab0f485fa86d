"""``python -m bot socket`` end to end: a real child process in Socket Mode against the sandbox.

README, "Setting up the Slack app" (step 4): Socket Mode needs SLACK_APP_TOKEN and still serves the
HTTP endpoints on $PORT; and README's opening: the ack is instant (Slack allows 3 s) and nothing is
sent twice on a Slack retry. The sandbox Slack (Web API + the WebSocket of apps.connections.open)
and the provider emulators run in the test process; the bridge connects to them as it would to
Slack.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.emulators.suite import EmulatorSuite, start_suite
from bridge_sandbox.slack import SlackSandbox, payloads, start_slack_sandbox
from bridge_sandbox.slack.socket_mode import SocketAck, envelope_payload
from bridge_sandbox.world import KEYS, world_env

from bot.slack import ids
from tests.bot.bridge_kit import ALICE, BOB, CONFIG, INCIDENTS
from tests.bot.crash_kit import (
    REPO,
    BridgeProcess,
    Snapshot,
    eventually,
    free_port,
    snapshot,
    snapshot_when,
)

# What the work after an ack calls on Slack; held in ``push`` until the ack has arrived.
AFTER_ACK = ("chat.postMessage", "chat.update", "chat.postEphemeral", "views.open", "views.update")
ONCALL = ["254712345678", "254798765432"]
NOC_GROUP = "120363410923125768@g.us"


def settled(snap: Snapshot) -> bool:
    return bool(snap.requests) and all(
        r["state"] in ("done", "cancelled") and r["reported_at"] for r in snap.requests
    )


@dataclass
class SocketRig:
    """Slack and the providers in the test process; the bridge as ``python -m bot socket``."""

    tmp: Path
    slack: SlackSandbox
    emulators: EmulatorSuite
    port: int = field(default_factory=free_port)
    child: BridgeProcess | None = None

    def env(self, app_token: str | None = None) -> dict[str, str]:
        """Socket Mode needs no signing secret: there is no HTTP request to sign."""
        env = {
            **os.environ,
            **world_env(self.emulators, self.slack, self.db),
            "SLACK_APP_TOKEN": app_token or self.slack.state.app_token,
            "PORT": str(self.port),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("SLACK_SIGNING_SECRET")
        return env

    @property
    def db(self) -> Path:
        return self.tmp / "bridge.db"

    async def launch(self, app_token: str | None = None) -> BridgeProcess:
        """``python -m bot --config … socket`` as a child process, not waited for."""
        config = self.tmp / "bridge.yaml"
        config.write_text(CONFIG, encoding="utf-8")
        log = self.tmp / "bridge.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(config), "socket",
                env=self.env(app_token), cwd=REPO, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        self.child = BridgeProcess(proc, f"http://127.0.0.1:{self.port}", log)
        return self.child

    async def start(self) -> BridgeProcess:
        """Launched, healthy on PORT and connected to the sandbox's socket."""
        child = await self.launch()
        await child.healthy()
        await self.slack.state.socket.connection(timeout=10)
        return child

    async def push(self, kind: str, body: bytes, **options: Any) -> tuple[str, SocketAck]:
        """Deliver what a person did (built for HTTP by ``payloads``) as an envelope; its ack.

        Slack's 3-second deadline is checked by order, not by the wall clock (which flakes on a
        loaded machine): every Web API call the work after the ack makes is held until the ack
        has arrived, so an ack that waited on any of them never comes (the generous deadline
        only bounds a failing run).
        """
        state = self.slack.state
        for method in AFTER_ACK:
            state.hold(method)
        try:
            envelope_id = await state.socket_send(kind, envelope_payload(body), **options)
            ack = await state.socket.wait_ack(envelope_id, timeout=30)
        finally:
            for method in AFTER_ACK:
                state.release(method)
        return envelope_id, ack

    def deliveries(self) -> list[str]:
        return sorted(d.recipient for d in self.emulators.talkntalk.deliveries)

    def roots(self) -> list[Any]:
        return [
            m
            for m in self.slack.state.messages.get(INCIDENTS, [])
            if m.user is None and not m.is_reply
        ]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[SocketRig]:
    emulators = await start_suite(
        talkntalk_key=KEYS["TALKNTALK_API_KEY"],
        autokonnect_key=KEYS["AUTOKONNECT_API_KEY"],
        kaleyra_key=KEYS["KALEYRA_API_KEY"],
    )
    slack = await start_slack_sandbox()
    slack.state.usergroups["S0SRE1234"] = [BOB]
    running = SocketRig(tmp_path, slack, emulators)
    try:
        yield running
    finally:
        if running.child is not None:
            await running.child.kill()
        await slack.close()
        await emulators.close()


def slash_body(rig: SocketRig, text: str) -> bytes:
    return payloads.slash_command(rig.slack.state, "/send", text, user=ALICE, channel=INCIDENTS)


async def test_socket_mode_connects_serves_http_and_sends_a_slash_command(rig: SocketRig) -> None:
    child = await rig.start()
    state = rig.slack.state
    [opened] = state.calls_to("apps.connections.open")  # with the app token, through SLACK_API_URL
    assert opened.error is None
    assert state.socket.opened == 1
    async with aiohttp.ClientSession() as http:
        async with http.get(child.url + "/healthz") as response:
            assert response.status == 200
            assert (await response.json())["ok"] is True
        async with http.post(child.url + "/slack/events", data=b"command=/send") as response:
            assert response.status in (404, 405)  # no signature to check: not served at all

    _, ack = await rig.push("slash_commands", slash_body(rig, "oncall-sms Disk full"))
    assert ack.payload is None  # an empty ack; the answer follows through the response_url

    await eventually(lambda: len(rig.deliveries()) == 2, 10, "2 SMS at TalkNTalk")
    assert rig.deliveries() == ONCALL
    assert {d.payload["message"] for d in rig.emulators.talkntalk.deliveries} == {"Disk full"}
    root = await state.wait_for(lambda s: rig.roots())
    assert len(root) == 1
    assert "oncall-sms" in root[0].text + repr(root[0].blocks)
    reply = await state.wait_for(lambda s: [r for r in s.responses if "Queued" in str(r.body)])
    assert reply[0].body.get("response_type") == "ephemeral"
    assert state.socket.stray == []


async def test_broadcast_shortcut_and_modal_submission_over_the_socket(rig: SocketRig) -> None:
    await rig.start()
    state = rig.slack.state
    body = payloads.global_shortcut(state, ids.BROADCAST_SHORTCUT, user=ALICE)
    _, ack = await rig.push("interactive", body)
    assert ack.payload is None
    await state.wait_for(lambda s: s.calls_to("views.open"))
    assert state.calls_to("views.open")[0].error is None  # the trigger was still fresh
    view = state.last_view()
    assert view is not None
    assert view["callback_id"] == ids.BROADCAST_MODAL

    # An invalid submission is answered inline, in the ack frame's payload.
    nothing = {
        f"{ids.SEVERITY_BLOCK}.oncall": "SEV2",
        ids.TEXT_BLOCK: "x",
        f"{ids.CHANNELS_BLOCK}.oncall": [],
    }
    _, ack = await rig.push("interactive", payloads.view_submission(state, view["id"], nothing))
    assert ack.payload == {
        "response_action": "errors",
        "errors": {f"{ids.CHANNELS_BLOCK}.oncall": "Pick at least one channel to send to."},
    }

    values = {
        f"{ids.SEVERITY_BLOCK}.oncall": "SEV1",
        ids.TEXT_BLOCK: "Checkout is down",
        f"{ids.CHANNELS_BLOCK}.oncall": ["oncall-sms", "noc-group"],
    }
    _, ack = await rig.push("interactive", payloads.view_submission(state, view["id"], values))
    assert ack.payload is None  # closes the modal
    await eventually(lambda: len(rig.deliveries()) == 3, 10, "3 messages at TalkNTalk")
    assert rig.deliveries() == sorted([*ONCALL, NOC_GROUP])
    expected = "[SEV1] Checkout is down (from alice)"
    assert {d.payload["message"] for d in rig.emulators.talkntalk.deliveries} == {expected}
    await state.wait_for(lambda s: rig.roots())  # announce_in: C0INCIDENT


async def test_an_envelope_delivered_twice_is_sent_once(rig: SocketRig) -> None:
    """Slack redelivers an envelope whose ack it did not get; the same frame arrives again."""
    await rig.start()
    state = rig.slack.state
    body = slash_body(rig, "oncall-sms Disk full")
    envelope_id, _ = await rig.push("slash_commands", body)
    await rig.push("slash_commands", body, envelope_id=envelope_id)
    assert [a.envelope_id for a in state.socket_acks] == [envelope_id, envelope_id]

    answers = await state.wait_for(lambda s: s.responses if len(s.responses) >= 2 else None)
    texts = [str(r.body.get("text")) for r in answers]
    assert sum("nothing new was sent" in t for t in texts) == 1, texts
    await eventually(lambda: len(rig.deliveries()) == 2, 10, "2 SMS at TalkNTalk")
    # Once every recorded request is done and reported, nothing more can go out late.
    snap = await snapshot_when(rig.db, settled, what="every request done and reported")
    assert len(snap.requests) == 1
    assert rig.deliveries() == ONCALL
    assert len(rig.emulators.talkntalk.requests) == 2
    assert len(rig.roots()) == 1


async def test_bridge_reconnects_when_slack_recycles_the_connection(rig: SocketRig) -> None:
    """Slack sends ``disconnect`` before it recycles a connection; the app opens a new one."""
    await rig.start()
    state = rig.slack.state
    await state.socket.disconnect()
    await state.wait_for(lambda s: s.socket.opened == 2 and len(s.socket.connections) == 1)
    assert len(state.calls_to("apps.connections.open")) == 2
    await rig.push("slash_commands", slash_body(rig, "oncall-sms Disk full"))
    await eventually(lambda: len(rig.deliveries()) == 2, 10, "2 SMS at TalkNTalk")


async def test_sigterm_closes_the_socket_and_keeps_what_was_acked(rig: SocketRig) -> None:
    """A deploy sends SIGTERM: the bridge stops as ``serve`` does, after recording acked work."""
    child = await rig.start()
    await rig.push("slash_commands", slash_body(rig, "oncall-sms Disk full"))
    child.proc.send_signal(signal.SIGTERM)  # right after the ack
    assert await asyncio.wait_for(child.proc.wait(), 10) == 0, child.tail()
    assert rig.slack.state.socket.connections == []
    assert len((await snapshot(rig.db)).requests) == 1  # acked, so recorded before the exit
    assert "Unclosed" not in child.tail()


async def test_a_refused_app_token_stops_the_start_with_a_clear_error(rig: SocketRig) -> None:
    child = await rig.launch(app_token="xapp-1-A0CHATOPS1-0000000000-revoked")
    assert await asyncio.wait_for(child.proc.wait(), 15) == 1, child.tail()
    assert "Slack refused SLACK_APP_TOKEN (invalid_auth)" in child.tail()
    assert "xapp-1-A0CHATOPS1-0000000000-revoked" not in child.tail()  # no secret in the log
    assert [c.error for c in rig.slack.state.calls_to("apps.connections.open")] == ["invalid_auth"]


async def test_a_socket_url_slack_fails_to_give_is_asked_again(rig: SocketRig) -> None:
    """apps.connections.open answering 500 is not a wrong token: one warning, then a retry."""
    rig.slack.state.fail_next("apps.connections.open", "internal_error", 500, retry_after=None)
    child = await rig.launch()
    await rig.slack.state.socket.connection(timeout=20)
    opened = rig.slack.state.calls_to("apps.connections.open")
    assert [c.error for c in opened] == ["internal_error", None]
    assert await child.stop() == 0
    assert "Traceback" not in child.tail()
    assert child.tail().count("Socket Mode cannot be reached") == 1


async def test_socket_mode_without_app_token_exits_naming_the_variable(tmp_path: Path) -> None:
    config = tmp_path / "bridge.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {
        **os.environ,
        **KEYS,
        "TNT_URL": "http://127.0.0.1:9",
        "AK_URL": "http://127.0.0.1:9",
        "KAL_URL": "http://127.0.0.1:9",
        "SLACK_BOT_TOKEN": "xoxb-sandbox-0000000000-token",
        "BRIDGE_DB": str(tmp_path / "bridge.db"),
        "PORT": str(free_port()),
    }
    env.pop("SLACK_APP_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "socket",
        env=env, cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 1
    message = err.decode()
    assert "SLACK_APP_TOKEN" in message
    assert "xapp-" in message
    assert "Basic Information" in message  # where to get it


async def test_slash_texts_that_look_like_other_formats_reach_the_listener(
    rig: SocketRig,
) -> None:
    """Over the socket as over HTTP: a text saying "payload" or starting with "{" is answered."""
    await rig.start()
    state = rig.slack.state
    texts = ["db payload too big", "payload=x", "{json", "a&b=c"]
    for text in texts:
        await rig.push("slash_commands", slash_body(rig, text))
    answers = await state.wait_for(lambda s: s.responses if len(s.responses) >= 4 else None)
    assert all(r.body.get("response_type") == "ephemeral" for r in answers)
    assert len(answers) == len(texts)


async def test_an_unreachable_slack_says_one_line_and_sigterm_stops_it_promptly(
    rig: SocketRig,
) -> None:
    """Issue 15 item 12: no ClientConnectorError traceback; live, not ready, and SIGTERM ends it
    (the bound is generous: only a start-up that ignores the signal fails it)."""
    closed = f"http://127.0.0.1:{free_port()}/api/"
    config = rig.tmp / "bridge.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "socket",
        env={**rig.env(), "SLACK_API_URL": closed}, cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{rig.port}"
    try:
        await eventually_async(lambda: probe_status(url, "/livez"), 200, 20)
        assert await probe_status(url, "/readyz") == 503
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.stderr is not None
    lines = (await proc.stderr.read()).decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    assert "Slack cannot be reached at SLACK_API_URL" in lines[0]
    assert rig.slack.state.calls == []  # the stand-in was never the one asked


async def probe_status(url: str, path: str) -> int | None:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(url + path, timeout=aiohttp.ClientTimeout(total=2)) as response,
        ):
            return response.status
    except (aiohttp.ClientError, TimeoutError):
        return None


async def eventually_async(
    ask: Callable[[], Awaitable[object]],
    wanted: object,
    timeout: float,  # noqa: ASYNC109 - a polling deadline
) -> None:
    deadline = time.monotonic() + timeout
    while (got := await ask()) != wanted:
        if time.monotonic() >= deadline:
            raise TimeoutError(f"wanted {wanted!r}, last got {got!r}")
        await asyncio.sleep(0.05)
