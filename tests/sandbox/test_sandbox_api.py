"""The sandbox Slack Web API, driven by the real slack_sdk AsyncWebClient over loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from bridge_sandbox.slack import SlackSandbox, SlackState, start_slack_sandbox
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.clocks import HeldSleep
from tests.fixtures import slack_payload


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    sb = await start_slack_sandbox()
    yield sb
    await sb.close()


@pytest.fixture
def client(sandbox: SlackSandbox) -> AsyncWebClient:
    return AsyncWebClient(token=sandbox.state.bot_token, base_url=sandbox.api_url)


def modal() -> dict[str, Any]:
    view: dict[str, Any] = slack_payload("views_open_modal.json")
    return view


async def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value


# --- auth and unknown methods -----------------------------------------------------------------


async def test_auth_test_names_the_bot_and_team(client: AsyncWebClient) -> None:
    reply = await client.auth_test()
    assert reply["ok"] is True
    assert reply["team_id"] == "T0ACME0001"
    assert reply["bot_id"] == "B0CHATOPS1"


async def test_a_wrong_token_is_invalid_auth(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token="xoxb-wrong", base_url=sandbox.api_url)
    err = await slack_error(client.chat_postMessage(channel="C0INCIDENT", text="hi"))
    assert err.response.status_code == 200
    assert err.response["error"] == "invalid_auth"
    assert sandbox.state.messages == {}


async def test_auth_test_answers_per_token(sandbox: SlackSandbox) -> None:
    """A token can be made inactive or revoked, or a person's (auth.test names no bot)."""
    sandbox.state.token_errors["xoxb-gone"] = "account_inactive"
    sandbox.state.user_tokens.add("xoxp-alice")
    gone = AsyncWebClient(token="xoxb-gone", base_url=sandbox.api_url)
    assert (await slack_error(gone.auth_test())).response["error"] == "account_inactive"
    person = await AsyncWebClient(token="xoxp-alice", base_url=sandbox.api_url).auth_test()
    assert person["ok"] is True
    assert "bot_id" not in person.data
    app = AsyncWebClient(token=sandbox.state.app_token, base_url=sandbox.api_url)
    assert (await slack_error(app.auth_test())).response["error"] == "not_allowed_token_type"


async def test_a_missing_token_is_not_authed(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(base_url=sandbox.api_url)
    err = await slack_error(client.auth_test())
    assert err.response["error"] == "not_authed"


async def test_an_unknown_method_is_unknown_method(client: AsyncWebClient) -> None:
    err = await slack_error(client.api_call("chat.fly"))
    assert err.response["error"] == "unknown_method"


async def test_the_token_is_never_recorded(sandbox: SlackSandbox) -> None:
    async with aiohttp.ClientSession() as http:
        form = {"token": sandbox.state.bot_token, "channel": "C0INCIDENT", "text": "hi"}
        async with http.post(sandbox.api_url + "chat.postMessage", data=form) as resp:
            assert (await resp.json())["ok"] is True
    assert "token" not in sandbox.state.calls[0].args
    assert sandbox.state.bot_token not in repr(sandbox.state.calls)


# --- chat.* -----------------------------------------------------------------------------------


async def test_post_message_returns_unique_increasing_ts(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    first = await client.chat_postMessage(channel="C0INCIDENT", text="one")
    second = await client.chat_postMessage(channel="C0INCIDENT", text="two")
    assert first["ts"] == "1767225600.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == "C0INCIDENT"
    assert first["message"]["text"] == "one"
    assert first["message"]["bot_id"] == "B0CHATOPS1"
    assert [m.text for m in sandbox.state.messages["C0INCIDENT"]] == ["one", "two"]


async def test_replies_with_thread_ts_form_a_thread(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    root = await client.chat_postMessage(channel="C0INCIDENT", text="root")
    await client.chat_postMessage(channel="C0INCIDENT", text="r1", thread_ts=root["ts"])
    await client.chat_postMessage(
        channel="C0INCIDENT", text="r2", thread_ts=root["ts"], reply_broadcast=True
    )
    await client.chat_postMessage(channel="C0INCIDENT", text="elsewhere")
    thread = sandbox.state.thread("C0INCIDENT", root["ts"])
    assert [m.text for m in thread] == ["root", "r1", "r2"]
    assert thread[2].reply_broadcast is True


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
async def test_post_message_without_text_or_blocks_is_no_text(client: AsyncWebClient) -> None:
    err = await slack_error(client.chat_postMessage(channel="C0INCIDENT", text=""))
    assert err.response["error"] == "no_text"


async def test_post_message_with_an_overlong_section_is_invalid_blocks(
    client: AsyncWebClient,
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    err = await slack_error(client.chat_postMessage(channel="C0INCIDENT", text="t", blocks=blocks))
    assert err.response["error"] == "invalid_blocks"
    assert "3001" in err.response["response_metadata"]["messages"][0]


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        ({"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]}, "elements/0"),
        ({"type": "section", "text": {"type": "mrkdwn", "text": ""}}, "/text/text"),
        ({"type": "section", "text": {"type": "mrkdwn", "text": "x"}, "block_id": "b" * 256}, "id"),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "a",
                        "text": {"type": "plain_text", "text": "Retry"},
                        "value": "R1",
                        "confirm": {
                            "title": {"type": "plain_text", "text": "t"},
                            "text": {"type": "mrkdwn", "text": "x" * 301},
                            "confirm": {"type": "plain_text", "text": "y"},
                            "deny": {"type": "plain_text", "text": "n"},
                        },
                    }
                ],
            },
            "confirm/text",
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [
                            {"text": {"type": "plain_text", "text": "o"}, "value": "v" * 151}
                        ],
                    }
                ],
            },
            "options/0/value",
        ),
    ],
)
async def test_post_message_beyond_any_block_kit_limit_is_invalid_blocks(
    client: AsyncWebClient, block: dict[str, object], pointer: str
) -> None:
    err = await slack_error(client.chat_postMessage(channel="C0INCIDENT", text="t", blocks=[block]))
    assert err.response["error"] == "invalid_blocks"
    assert pointer in err.response["response_metadata"]["messages"][0]


async def test_update_edits_in_place_and_keeps_history(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    posted = await client.chat_postMessage(channel="C0INCIDENT", text="sent 0/3")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*sent 3/3*"}}]
    reply = await client.chat_update(
        channel="C0INCIDENT", ts=posted["ts"], text="sent 3/3", blocks=blocks
    )
    assert reply["ts"] == posted["ts"]
    msg = sandbox.state.messages["C0INCIDENT"][0]
    assert (msg.text, msg.blocks) == ("sent 3/3", blocks)
    assert [h.text for h in msg.history] == ["sent 0/3"]


async def test_update_of_an_unknown_ts_is_message_not_found(client: AsyncWebClient) -> None:
    err = await slack_error(client.chat_update(channel="C0INCIDENT", ts="1.000001", text="x"))
    assert err.response["error"] == "message_not_found"


async def test_post_ephemeral_returns_message_ts(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    reply = await client.chat_postEphemeral(channel="C0INCIDENT", user="U0ALICE001", text="psst")
    assert reply["message_ts"]
    eph = sandbox.state.ephemerals[0]
    assert (eph.user, eph.text, eph.ts) == ("U0ALICE001", "psst", reply["message_ts"])


async def test_get_permalink_links_a_reply_into_its_thread(client: AsyncWebClient) -> None:
    root = await client.chat_postMessage(channel="C0INCIDENT", text="root")
    reply = await client.chat_postMessage(channel="C0INCIDENT", text="r", thread_ts=root["ts"])
    link = await client.chat_getPermalink(channel="C0INCIDENT", message_ts=reply["ts"])
    assert link["permalink"].endswith(f"?thread_ts={root['ts']}&cid=C0INCIDENT")
    err = await slack_error(client.chat_getPermalink(channel="C0INCIDENT", message_ts="9.9"))
    assert err.response["error"] == "message_not_found"


async def test_form_encoded_bodies_are_accepted_like_json(sandbox: SlackSandbox) -> None:
    blocks = [{"type": "divider"}]
    form = {"channel": "C0INCIDENT", "text": "hi", "blocks": json.dumps(blocks)}
    headers = {"Authorization": f"Bearer {sandbox.state.bot_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(sandbox.api_url + "chat.postMessage", data=form, headers=headers) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert sandbox.state.messages["C0INCIDENT"][0].blocks == blocks


# --- views.* ----------------------------------------------------------------------------------


async def test_views_open_with_a_fresh_trigger_returns_the_view(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    trigger = sandbox.state.issue_trigger("U0ALICE001")
    reply = await client.views_open(trigger_id=trigger, view=modal())
    view = reply["view"]
    assert view["id"].startswith("V0")
    assert view["hash"]
    assert view["state"] == {"values": {}}
    assert view["callback_id"] == "broadcast_submit"
    assert view["private_metadata"] == modal()["private_metadata"]
    assert view["root_view_id"] == view["id"]
    assert sandbox.state.last_view() == view


async def test_a_trigger_is_single_use(client: AsyncWebClient, sandbox: SlackSandbox) -> None:
    # Slack: exchanged_trigger_id, "The trigger_id was already exchanged in a previous call."
    trigger = sandbox.state.issue_trigger()
    await client.views_open(trigger_id=trigger, view=modal())
    err = await slack_error(client.views_open(trigger_id=trigger, view=modal()))
    assert err.response["error"] == "exchanged_trigger_id"


async def test_a_trigger_older_than_3_s_is_expired(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    now = [1000.0]
    sandbox.state.clock = lambda: now[0]
    trigger = sandbox.state.issue_trigger()
    now[0] += 3.5  # README: "trigger_id is single-use and expires after 3 s"
    err = await slack_error(client.views_open(trigger_id=trigger, view=modal()))
    assert err.response["error"] == "expired_trigger_id"


async def test_an_unknown_trigger_is_invalid(client: AsyncWebClient) -> None:
    err = await slack_error(client.views_open(trigger_id="1.2.3", view=modal()))
    assert err.response["error"] == "invalid_trigger_id"


async def test_private_metadata_over_3000_chars_is_invalid_arguments(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    # README: "private_metadata is a string of at most 3000 characters"
    view = {**modal(), "private_metadata": "x" * 3001}
    err = await slack_error(client.views_open(trigger_id=sandbox.state.issue_trigger(), view=view))
    assert err.response["error"] == "invalid_arguments"


async def test_views_update_with_the_current_hash_gives_a_new_hash(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    opened = (await client.views_open(trigger_id=sandbox.state.issue_trigger(), view=modal()))[
        "view"
    ]
    changed = {**modal(), "callback_id": "broadcast_progress"}
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed))[
        "view"
    ]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert sandbox.state.views[opened["id"]]["callback_id"] == "broadcast_progress"


async def test_views_update_with_a_stale_hash_is_hash_conflict(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    opened = (await client.views_open(trigger_id=sandbox.state.issue_trigger(), view=modal()))[
        "view"
    ]
    await client.views_update(view_id=opened["id"], view=modal())
    err = await slack_error(
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    )
    assert err.response["error"] == "hash_conflict"


async def test_views_update_by_external_id(client: AsyncWebClient, sandbox: SlackSandbox) -> None:
    view = {**modal(), "external_id": "req-42"}
    await client.views_open(trigger_id=sandbox.state.issue_trigger(), view=view)
    updated = await client.views_update(external_id="req-42", view={**modal(), "callback_id": "x"})
    assert updated["view"]["external_id"] == "req-42"
    err = await slack_error(client.views_update(external_id="nope", view=modal()))
    assert err.response["error"] == "not_found"


async def test_views_push_stacks_on_the_view_the_trigger_came_from(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    root = (await client.views_open(trigger_id=sandbox.state.issue_trigger(), view=modal()))["view"]
    trigger = sandbox.state.issue_trigger("U0ALICE001", view_id=root["id"])
    pushed = (await client.views_push(trigger_id=trigger, view=modal()))["view"]
    assert pushed["previous_view_id"] == root["id"]
    assert pushed["root_view_id"] == root["id"]


# --- directory --------------------------------------------------------------------------------


async def test_usergroup_members_and_unknown_group(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    sandbox.state.usergroups["S0SRE1234"] = ["U0ALICE001", "U0BOB00002"]
    reply = await client.usergroups_users_list(usergroup="S0SRE1234")
    assert reply["users"] == ["U0ALICE001", "U0BOB00002"]
    err = await slack_error(client.usergroups_users_list(usergroup="S0NOPE"))
    assert err.response["error"] == "no_such_subteam"


async def test_usergroups_without_the_scope_is_missing_scope(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    sandbox.state.usergroups["S0SRE1234"] = ["U0ALICE001"]
    sandbox.state.missing_scopes.add("usergroups:read")
    err = await slack_error(client.usergroups_users_list(usergroup="S0SRE1234"))
    assert err.response["error"] == "missing_scope"
    assert err.response["needed"] == "usergroups:read"
    assert "usergroups:read" not in err.response["provided"].split(",")
    assert "chat:write" in err.response["provided"].split(",")


async def test_users_info_and_conversations_info(client: AsyncWebClient) -> None:
    assert (await client.users_info(user="U0ALICE001"))["user"]["name"] == "alice"
    channel = (await client.conversations_info(channel="C0INCIDENT"))["channel"]
    assert channel["name"] == "ops-incidents"
    assert (await slack_error(client.users_info(user="U0NOBODY"))).response[
        "error"
    ] == "user_not_found"
    assert (await slack_error(client.conversations_info(channel="C0NOPE"))).response[
        "error"
    ] == "channel_not_found"


# --- faults -----------------------------------------------------------------------------------


async def test_an_injected_rate_limit_answers_429_with_retry_after(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    sandbox.state.fail_next("chat.postMessage", retry_after=7)
    err = await slack_error(client.chat_postMessage(channel="C0INCIDENT", text="hi"))
    assert err.response.status_code == 429
    assert err.response["error"] == "ratelimited"
    headers = {k.lower(): v for k, v in err.response.headers.items()}
    assert headers["retry-after"] in ("7", ["7"])
    ok = await client.chat_postMessage(channel="C0INCIDENT", text="hi")  # only the next call
    assert ok["ok"] is True
    assert [c.error for c in sandbox.state.calls_to("chat.postMessage")] == ["ratelimited", None]


async def test_slack_sdks_rate_limit_handler_waits_and_retries(sandbox: SlackSandbox) -> None:
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler

    client = AsyncWebClient(
        token=sandbox.state.bot_token,
        base_url=sandbox.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    sandbox.state.fail_next("chat.postMessage", retry_after=0)
    reply = await client.chat_postMessage(channel="C0INCIDENT", text="hi")
    assert reply["ok"] is True
    assert len(sandbox.state.calls_to("chat.postMessage")) == 2


async def test_an_injected_error_hits_only_its_method(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    sandbox.state.fail_next("chat.update", error="internal_error", status=200, retry_after=None)
    await client.chat_postMessage(channel="C0INCIDENT", text="hi")
    err = await slack_error(client.chat_update(channel="C0INCIDENT", ts="1.1", text="x"))
    assert err.response["error"] == "internal_error"


async def test_per_method_latency_delays_only_that_method(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    import asyncio

    held = HeldSleep()
    sandbox.state.sleep = held
    sandbox.state.set_latency("views.open", 0.3)
    opening = asyncio.create_task(
        client.views_open(trigger_id=sandbox.state.issue_trigger(), view=modal())
    )
    await asyncio.wait_for(held.waiting.wait(), 10)
    await client.auth_test()  # answered while views.open is still held
    assert held.asked == [0.3]
    assert not opening.done()
    assert [c.method for c in sandbox.state.calls] == ["auth.test"]
    held.release()
    assert (await opening)["ok"]
    assert [c.method for c in sandbox.state.calls] == ["auth.test", "views.open"]


async def test_wait_for_returns_once_the_message_appears(
    client: AsyncWebClient, sandbox: SlackSandbox
) -> None:
    import asyncio

    async def later() -> None:
        await client.chat_postMessage(channel="C0INCIDENT", text="Broadcast #42 done")

    task = asyncio.create_task(later())  # runs once the wait below has started
    msg = await sandbox.state.wait_for_message("C0INCIDENT", "#42", timeout=10)
    await task
    assert msg.text == "Broadcast #42 done"
    with pytest.raises(TimeoutError):
        await sandbox.state.wait_for(lambda s: s.calls_to("views.open"), timeout=0.05)


def test_state_is_usable_without_a_server() -> None:
    state = SlackState()
    msg = state.post("C0INCIDENT", "seeded by carol", user="U0CAROL003")
    assert state.find_message("C0INCIDENT", msg.ts) is msg
