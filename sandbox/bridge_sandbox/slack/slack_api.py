"""A loopback stand-in for the Slack Web API and for response_url hooks.

Why: the app's ``AsyncWebClient(base_url=SLACK_API_URL)`` must be exercised over real HTTP in
tests and in ``python -m bot demo``, with no Slack account. Like Slack, every Web API answer is
HTTP 200 with ``ok`` true/false, except rate limits (429 + ``Retry-After``). slack_sdk sends
JSON bodies for most methods, form bodies or GET query strings for others; all are accepted.

    sandbox = await start_slack_sandbox()
    client = AsyncWebClient(token=sandbox.state.bot_token, base_url=sandbox.api_url)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bridge_sandbox.emulators.common import RunningServer, serve
from bridge_sandbox.slack.history import HISTORY_METHODS
from bridge_sandbox.slack.methods import APP_TOKEN_METHODS, METHODS, SlackError, auth_test_as_user
from bridge_sandbox.slack.socket_mode import SOCKET_PATH, serve_socket
from bridge_sandbox.slack.state import ApiCall, Ephemeral, ResponsePost, ResponseTarget, SlackState

SLACK_STATE = web.AppKey("slack_state", SlackState)


def _answer(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


async def _read_args(request: web.Request) -> dict[str, Any]:
    """Query string, then the body: JSON object or form fields (what slack_sdk may send)."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        raw = await request.read()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def _token(request: web.Request, args: dict[str, Any]) -> str | None:
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth.removeprefix("Bearer ").strip()
    token = args.get("token")
    return str(token) if token else None


def _auth_error(state: SlackState, method: str, token: str) -> str | None:
    """Like Slack, a known kind of token used where the other kind is needed is told apart."""
    if token in state.token_errors:
        return state.token_errors[token]
    expected = state.app_token if method in APP_TOKEN_METHODS else state.bot_token
    if token == expected or (token in state.user_tokens and method not in APP_TOKEN_METHODS):
        return None
    is_app = token.startswith("xapp-")
    if token.startswith(("xoxb-", "xoxp-", "xapp-")) and is_app != expected.startswith("xapp-"):
        return "not_allowed_token_type"
    return "invalid_auth"


async def _api(request: web.Request) -> web.Response:
    state = request.app[SLACK_STATE]
    method = request.match_info["method"]
    delay = state.latency.get(method, state.latency.get("*", 0.0))
    if delay:
        await state.sleep(delay)
    held = state.holds.get(method)
    if held is not None:
        await held.wait()
    try:
        args = await _read_args(request)
    except (SlackError, json.JSONDecodeError, UnicodeDecodeError):
        args = {}
        call = ApiCall(method, args, state.clock(), "invalid_json")
        state.calls.append(call)
        return _answer({"ok": False, "error": "invalid_json"})
    token = _token(request, args)
    args.pop("token", None)  # never keep a credential in the record
    call = ApiCall(method, args, state.clock())
    state.calls.append(call)

    handler = METHODS.get(method) or HISTORY_METHODS.get(method)
    if method == "auth.test" and token in state.user_tokens:
        handler = auth_test_as_user
    if handler is None:
        call.error = "unknown_method"
        return _answer({"ok": False, "error": "unknown_method", "req_method": method})
    if token is None:
        call.error = "not_authed"
        return _answer({"ok": False, "error": "not_authed"})
    error = _auth_error(state, method, token)
    if error is not None:
        call.error = error
        return _answer({"ok": False, "error": error})
    failure = state.take_failure(method)
    if failure is not None:
        call.error = failure.error
        headers = {}
        if failure.retry_after is not None:
            # Slack sends whole seconds (slack_sdk's retry handler parses it with int()).
            headers["Retry-After"] = str(math.ceil(failure.retry_after))
        return _answer({"ok": False, "error": failure.error}, failure.status, headers)
    try:
        result = handler(state, args)
    except SlackError as exc:
        call.error = exc.error
        return _answer({"ok": False, "error": exc.error, **exc.extra})
    reply_held = state.reply_holds.get(method)
    if reply_held is not None:
        await reply_held.wait()
    return _answer({"ok": True, **result})


# --- response_url hooks -----------------------------------------------------------------------


def apply_response(state: SlackState, target: ResponseTarget, body: dict[str, Any]) -> None:
    """Do what Slack does with a response_url post: delete, replace, or post a new message."""
    text = body.get("text")
    blocks = body.get("blocks")
    original = (
        state.find_message(target.channel, target.message_ts)
        if target.channel and target.message_ts
        else None
    )
    live = [e for e in target.ephemerals if not e.deleted]
    if body.get("delete_original"):
        if original is not None:
            original.deleted = True
        for eph in live:
            eph.deleted = True
        return
    if body.get("replace_original"):
        if original is not None:  # the whole message is replaced: no blocks means none left
            original.edit(str(text or ""), list(blocks or []), state.clock())
            return
        if live:
            live[-1].text = str(text or "")
            live[-1].blocks = list(blocks or [])
            return
    if target.channel is None:
        return
    if body.get("response_type") == "in_channel":
        state.post(target.channel, str(text or ""), blocks, thread_ts=target.thread_ts)
        return
    eph = Ephemeral(
        target.channel,
        target.user or "",
        state.next_ts(),
        str(text or ""),
        list(blocks or []),
        target.thread_ts,
        via="response_url",
    )
    target.ephemerals.append(eph)
    state.ephemerals.append(eph)


async def _hook(request: web.Request) -> web.Response:
    state = request.app[SLACK_STATE]
    target = state.response_targets.get(request.match_info["token"])
    if target is None:
        return web.Response(status=404, text="no_service")
    try:
        body = json.loads(await request.read())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.Response(status=400, text="invalid_payload")
    if not isinstance(body, dict):
        return web.Response(status=400, text="invalid_payload")
    if not (body.get("text") or body.get("blocks") or body.get("delete_original")):
        return web.Response(status=400, text="no_text")
    kind = request.match_info["kind"]
    state.responses.append(ResponsePost(str(request.url), kind, body, state.clock()))
    apply_response(state, target, body)
    return web.Response(status=200, text="ok")


async def _socket(request: web.Request) -> web.StreamResponse:
    state = request.app[SLACK_STATE]
    return await serve_socket(request, state.socket, state.app_id)


async def _close_sockets(app: web.Application) -> None:
    await app[SLACK_STATE].socket.close_all()


def create_slack_app(state: SlackState | None = None) -> web.Application:
    """The sandbox Slack as an aiohttp app.

    Serve it with ``start_slack_sandbox`` (or ``serve``, then set ``state.base_url`` to the URL so
    payload builders can hand out response_urls that point here).
    """
    app = web.Application()
    app[SLACK_STATE] = state or SlackState()
    app.router.add_route("POST", "/api/{method}", _api)
    app.router.add_route("GET", "/api/{method}", _api)
    app.router.add_get(SOCKET_PATH, _socket)  # Socket Mode: the URL apps.connections.open gives
    app.on_shutdown.append(_close_sockets)
    app.router.add_post(r"/hooks/{kind:commands|actions|app}/{team}/{id}/{token}", _hook)
    return app


@dataclass
class SlackSandbox:
    """A served sandbox: ``api_url`` is what SLACK_API_URL should be set to."""

    server: RunningServer
    state: SlackState

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_url(self) -> str:
        return f"{self.server.url}/api/"

    async def close(self) -> None:
        await self.server.close()


async def start_slack_sandbox(state: SlackState | None = None) -> SlackSandbox:
    """Serve the sandbox on loopback and tell the state its URL (for response_urls)."""
    state = state or SlackState()
    server = await serve(create_slack_app(state))
    state.base_url = server.url
    return SlackSandbox(server, state)
