"""A provider that echoes the API key in its error never gets it into a reason, code, exception
or log line: the key is masked where the reply enters the bridge, before anything is cut short.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from bridge_sandbox.emulators.common import EmulatorState
from bridge_sandbox.emulators.suite import EmulatorSuite
from hypothesis import given, settings
from hypothesis import strategies as st

from providers import AnyProviderConfig
from providers.base import ProviderError, Route
from providers.redaction import MASK, Redactor
from tests.bot.dispatch_kit import (
    KALEYRA,
    SMS,
    WABA,
    WHATSAPP,
    Sightings,
    ak_config,
    dispatcher,
    kal_config,
    plan,
    tnt_config,
)
from tests.providers.leaks import (
    AK_KEY,
    KAL_KEY,
    TNT_KEY,
    assert_no_leak,
    echo_fault,
    leaky_emulators,
)

__all__ = ["leaky_emulators"]


@dataclass
class Account:
    name: str
    config: AnyProviderConfig
    route: Route
    state: EmulatorState
    key: str
    to: str


@pytest.fixture(params=["talkntalk-sms", "talkntalk-whatsapp", "autokonnect", "kaleyra"])
def account(request: pytest.FixtureRequest, leaky_emulators: EmulatorSuite) -> Account:
    name: str = request.param
    kenya = "+254712345678"
    accounts: dict[str, tuple[Callable[..., AnyProviderConfig], str, Route, str, str]] = {
        "talkntalk-sms": (tnt_config, "talkntalk", SMS, TNT_KEY, kenya),
        "talkntalk-whatsapp": (tnt_config, "talkntalk", WHATSAPP, TNT_KEY, kenya),
        "autokonnect": (ak_config, "autokonnect", WABA, AK_KEY, kenya),
        "kaleyra": (kal_config, "kaleyra", KALEYRA, KAL_KEY, "+919812345678"),
    }
    make, emulator, route, key, to = accounts[name]
    state = getattr(leaky_emulators, emulator)
    config = make(leaky_emulators.url(emulator), api_key=key)
    return Account(name, config, route, state, key, to)


@pytest.mark.parametrize("status", [400, 401, 502])
async def test_a_key_echoed_in_every_field_appears_in_no_outcome_error_or_log(
    account: Account, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    account.state.inject(echo_fault(account.key, status))
    recorder = Sightings(account.state)
    the_plan = plan(account.name, account.route, [account.to])

    async with dispatcher({account.name: account.config}, recorder=recorder) as sender:
        [outcome] = await sender.run(the_plan)
        account.state.inject(echo_fault(account.key, status))  # again, straight to the adapter
        provider = sender.accounts[account.name].provider
        with pytest.raises(ProviderError) as err:
            await provider.send(account.route, the_plan.message, the_plan.recipients)

    assert outcome.status.value in ("failed", "unknown")
    assert_no_leak(account.key, "the outcome", repr(outcome))
    assert_no_leak(account.key, "the recorded outcome", repr(recorder.recorded))
    e = err.value
    for where, seen in {
        "str(error)": str(e),
        "repr(error)": repr(e),
        "error.reason": e.reason,
        "error.code": str(e.code),
        "error.args": repr(e.args),
        "the log": caplog.text,
        "log records' extras": repr([vars(r) for r in caplog.records]),
    }.items():
        assert_no_leak(account.key, where, seen)


def test_redaction_masks_the_key_and_its_pieces_in_any_case() -> None:
    redactor = Redactor(["tk_live_ABCdef123456"])

    assert redactor.text("key TK_LIVE_abcDEF123456 refused") == f"key {MASK} refused"
    assert redactor.text("cut: tk_live_ABCd…") == f"cut: {MASK}…"  # a provider's own cut
    assert redactor.text("tk_live_ is the doc's prefix") == f"{MASK} is the doc's prefix"
    assert redactor.text("no secret here, 1234567") == "no secret here, 1234567"
    assert redactor.value({"tk_live_abcdef123456": ["x TK_LIVE_ABCDEF123456", 7]}) == {
        MASK: [f"x {MASK}", 7]
    }


def test_redaction_survives_a_body_nested_deeper_than_the_stack() -> None:
    deep: list[object] = ["secret-key-0001"]
    for _ in range(5000):
        deep = [deep]
    masked = Redactor(["secret-key-0001"]).value(deep)
    for _ in range(5000):
        masked = masked[0]
    assert masked == [MASK]


def test_a_reply_is_parsed_without_a_walk_only_when_no_decoded_string_could_hold_a_piece() -> None:
    """``holds_none`` lets every provider call skip walking its reply; it must never say so
    when a string decoded from the JSON could hold a piece of the key."""
    redactor = Redactor(["tk_live_ABCdef123456"])

    assert redactor.holds_none('{"status": "queued", "message_id": "m-1"}')
    assert not redactor.holds_none('{"error": "bad key TK_LIVE_abcdef"}')  # a piece, any case
    assert not redactor.holds_none('{"k": "tk_live_\\u0041BCdef"}')  # escapes: decoded, could be
    assert not redactor.holds_none('{"k": "ΣΣ tk_live"}')  # not ASCII: folding depends on context
    assert Redactor([]).holds_none('{"anything": "at all"}')


_JSON_TEXT = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='tk_liveABCdef123456xyz\\"Σ .'),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet='tk_liveABC\\"', max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@given(value=_JSON_TEXT, ascii_only=st.booleans())
@settings(max_examples=300, deadline=None)
def test_when_holds_none_says_so_the_walk_would_have_changed_nothing(
    value: object, ascii_only: bool
) -> None:
    redactor = Redactor(["tk_live_ABCdef123456"])
    text = json.dumps(value, ensure_ascii=ascii_only)
    if redactor.holds_none(text):
        assert redactor.value(json.loads(text)) == json.loads(text)
        assert redactor.text(text) == text
