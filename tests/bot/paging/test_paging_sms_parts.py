"""A page's SMS is counted exactly as it is sent: text, acknowledge line and the link of the
person it goes to; the refusal names the longest text that fits.

Why: the check used to compose the link for the longest name anywhere in the config (a contact
number, 13 characters, where the step pages ``alice``), so a page of 296-306 characters that
goes out as 2 parts was refused as 3, and its advice named the whole SMS's size (306) as the
text's. Each boundary below is checked against what the engine really composes.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import config
from bot.paging.links import AckLinks
from bot.paging.service import new_page_id
from bot.paging.text import page_text, sms_problem
from config import Settings
from providers.sms_parts import GSM7_BASIC, GSM7_EXTENSION, count
from tests.bot.bridge_kit import CONFIG
from tests.bot.paging_kit import PAGING, PUBLIC, Clock, sms_texts, start_paging
from tests.bot.slack_steps import slash
from tests.clocks import wait_until

TWO_PARTS = """
  sms-two:
    provider: tnt
    service: sms
    allowed_senders: [sre]
    allow_adhoc: true
    max_sms_parts: 2
"""
EXTRA = """
  two-parts:
    allowed_senders: [sre]
    steps:
      - {notify: [alice], via: [sms-two], wait: 5m}
"""
KEYS = {
    "TALKNTALK_API_KEY": "k1",
    "AUTOKONNECT_API_KEY": "k2",
    "KALEYRA_API_KEY": "k3",
    "TNT_URL": "http://127.0.0.1:9",
    "AK_URL": "http://127.0.0.1:9",
    "KAL_URL": "http://127.0.0.1:9",
}
LINKS = AckLinks(PUBLIC, "s" * 40)


def config_text() -> str:
    return CONFIG.replace("channels:\n", "channels:" + TWO_PARTS, 1) + PAGING + EXTRA


@pytest.fixture(scope="module")
def paging_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path = tmp_path_factory.mktemp("cfg") / "bridge.yaml"
    path.write_text(config_text(), encoding="utf-8")
    return config.load(path, KEYS)


def problem(settings_: Settings, text: str) -> str | None:
    return sms_problem(settings_, settings_.escalations["two-parts"], text, "/send", LINKS)


def sent_parts(text: str) -> int:
    """The parts of the SMS the engine composes for alice, with a real page id."""
    return count(page_text(text, new_page_id(), "/send", LINKS, "alice")).parts


def advised(refusal: str | None) -> int:
    assert refusal is not None
    found = re.search(r"at most (\d+) characters", refusal)
    assert found is not None, refusal
    return int(found.group(1))


@pytest.mark.parametrize("letter", ["a", "ж"], ids=["gsm7", "ucs2"])
def test_the_advice_names_the_longest_text_that_fits(
    paging_settings: Settings, letter: str
) -> None:
    longest = advised(problem(paging_settings, letter * 400))
    assert problem(paging_settings, letter * longest) is None
    assert sent_parts(letter * longest) == 2
    over = problem(paging_settings, letter * (longest + 1))
    assert sent_parts(letter * (longest + 1)) == 3
    assert advised(over) == longest
    assert over is not None
    assert "is 3 parts" in over


def test_a_whole_sms_of_296_to_306_gsm_characters_is_accepted(paging_settings: Settings) -> None:
    suffix = len(page_text("", "P00000000", "/send", LINKS, "alice"))
    for whole in range(296, 307):
        text = "a" * (whole - suffix)
        assert sent_parts(text) == 2
        assert problem(paging_settings, text) is None, whole


def test_extension_characters_count_two_in_the_advice(paging_settings: Settings) -> None:
    longest = advised(problem(paging_settings, "a" * 400))
    assert problem(paging_settings, "{" + "a" * (longest - 2)) is None
    refusal = problem(paging_settings, "{" + "a" * (longest - 1))
    assert refusal is not None
    assert "{ count as two each" in refusal


_ALPHABET = st.sampled_from([*sorted(GSM7_BASIC | GSM7_EXTENSION), "ж", "’", "😀"])


# Around the boundaries (about 205 GSM-7 or 55 UCS-2 characters of text): a plain run, then
# anything, which may switch the encoding or add two-septet characters.
_NEAR = st.builds(
    lambda run, tail: "a" * run + tail,
    st.integers(min_value=0, max_value=260),
    st.lists(_ALPHABET, max_size=60).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.lists(_ALPHABET, max_size=340).map("".join), _NEAR))
def test_accepted_exactly_when_the_composed_sms_fits(paging_settings: Settings, text: str) -> None:
    if not text.strip():
        return
    fits = sent_parts(text) <= 2
    assert (problem(paging_settings, text) is None) == fits


async def test_a_page_at_the_limit_goes_out_and_one_over_is_refused_with_the_limit(
    tmp_path: Path,
) -> None:
    bridge = await start_paging(
        tmp_path,
        Clock(),
        config=CONFIG.replace("channels:\n", "channels:" + TWO_PARTS, 1),
        extra=EXTRA,
    )
    try:
        refused = await slash(bridge, "page two-parts " + "a" * 400)
        longest = advised(refused.text)
        assert longest > 200  # the text's room, not the whole SMS's 306
        again = await slash(bridge, "page two-parts " + "a" * (longest + 1))
        assert advised(again.text) == longest
        assert not sms_texts(bridge)
        await slash(bridge, "page two-parts " + "a" * longest)
        await wait_until(lambda: sms_texts(bridge), what="the page's SMS")
        (delivered,) = bridge.emulators.talkntalk.deliveries
        assert count(str(delivered.payload["message"])).parts == 2
    finally:
        await bridge.world.close()
