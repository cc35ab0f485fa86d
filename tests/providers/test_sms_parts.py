"""SMS part counting: GSM-7 vs UCS-2, the part sizes, and the fuzzed promise that it never raises.

TalkNTalk's Send SMS documentation (copied from docs/providers/talkntalk-sms-send.txt):
    "message  string  Yes  SMS body — up to 160 characters per SMS part"
so a longer text is billed as several parts; the sizes below are GSM 03.38 / 3GPP TS 23.040's.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.sms_parts import (
    CONCAT_PART,
    GSM7_BASIC,
    GSM7_EXTENSION,
    SINGLE_PART,
    Encoding,
    count,
    room_for_text,
    too_many_parts,
)

TALKNTALK_DOC = "SMS body — up to 160 characters per SMS part"


def test_talkntalk_documents_160_characters_a_part() -> None:
    assert "160 characters per SMS part" in TALKNTALK_DOC
    assert SINGLE_PART["GSM-7"] == 160


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (918, 6), (919, 7)],
)
def test_gsm7_lengths(length: int, parts: int) -> None:
    sms = count("a" * length)
    assert (sms.encoding, sms.parts, sms.units) == (Encoding.GSM7, parts, length)
    assert sms.forced_by is None


@pytest.mark.parametrize(
    ("length", "parts"),
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3)],
)
def test_ucs2_lengths(length: int, parts: int) -> None:
    sms = count("’" + "a" * (length - 1))
    assert (sms.encoding, sms.parts, sms.units) == (Encoding.UCS2, parts, length)


def test_one_curly_quote_turns_160_characters_into_3_parts() -> None:
    straight = "It's down. " + "x" * 149
    curly = straight.replace("'", "’")
    assert count(straight).describe() == "1 part, GSM-7"
    sms = count(curly)
    assert sms.describe() == "3 parts, UCS-2"
    assert (sms.forced_by, sms.forced_at) == ("’", 3)
    assert sms.why_ucs2() == "UCS-2 because of '’' at position 3"


def test_extension_characters_count_two_septets() -> None:
    assert count("{" * 80).units == 160
    assert count("{" * 80).parts == 1
    assert count("€" * 81).parts == 2
    for char in "{}[]~\\^|€\f":
        assert count(char).units == 2, char
        assert count(char).encoding is Encoding.GSM7


def test_an_escape_is_not_split_between_parts() -> None:
    # 152 septets, then an escaped '{' (2): it opens part two rather than straddle the boundary,
    # so 306 septets (2 x 153 by size) need a third part.
    edge = "a" * 152 + "{" + "a" * 152
    assert count(edge).units == 306
    assert count(edge).parts == 3
    assert count("a" * 151 + "{" + "a" * 153).parts == 2


def test_emoji_count_two_utf16_units_and_are_not_split() -> None:
    assert count("😀" * 35).units == 70
    assert count("😀" * 35).parts == 1
    assert count("😀" * 36).parts == 2
    edge = "a" * 66 + "😀" + "a" * 66  # 134 units = 2 x 67, but the pair cannot straddle
    assert count(edge).units == 134
    assert count(edge).parts == 3


def test_the_gsm_alphabet_is_the_standard_one() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, less the escape
    assert len(GSM7_EXTENSION) == 10
    assert count("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà").encoding is Encoding.GSM7
    for char in "’`ç\tÀ\x1b":
        assert count(char).encoding is Encoding.UCS2, repr(char)


def test_empty_text_is_one_part() -> None:
    assert count("").describe() == "1 part, GSM-7"


def test_refusal_names_count_encoding_character_and_fix() -> None:
    text = "Disk full ’ on db-1. " + "x" * 1000
    message = too_many_parts(text, 6, "oncall-sms")
    assert message == (
        "This SMS to `oncall-sms` is 16 parts (UCS-2 because of '’' at position 11); the limit "
        "is 6. Shorten it or replace '’' with \"'\": it would then be 7 parts, GSM-7."
    )
    assert too_many_parts("a" * 918, 6, "oncall-sms") is None
    gsm = too_many_parts("a" * 919, 6, "oncall-sms")
    assert gsm is not None
    assert "is 7 parts (GSM-7); the limit is 6. Shorten it to at most 918 characters" in gsm
    wide = too_many_parts("中" * 500, 6, "oncall-sms")
    assert wide is not None
    assert "8 parts (UCS-2 because of '中' at position 1)" in wide
    assert "at most 402 characters" in wide


def test_an_invisible_character_is_named() -> None:
    message = too_many_parts("\u00a0" + "a" * 500, 6, "oncall-sms")
    assert message is not None
    assert "U+00A0 (no-break space) at position 1" in message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_counting_never_raises_and_parts_hold_the_text(text: str) -> None:
    sms = count(text)
    capacity = SINGLE_PART if sms.parts == 1 else CONCAT_PART
    assert sms.parts * capacity[sms.encoding.value] >= sms.units >= len(text)
    if sms.parts > 1:
        assert sms.parts >= math.ceil(sms.units / CONCAT_PART[sms.encoding.value])
    assert (sms.forced_by is None) == (sms.encoding is Encoding.GSM7)
    too_many_parts(text, 1, "x")


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab{€\n~ж😀"), max_size=200),
    st.integers(min_value=1, max_value=4),
    st.sampled_from([Encoding.GSM7, Encoding.UCS2]),
)
def test_room_for_text_is_the_boundary_of_what_fits(
    suffix: str, limit: int, encoding: Encoding
) -> None:
    room = room_for_text(limit, encoding, suffix)
    filler = "a" if encoding is Encoding.GSM7 else "ж"
    if count(suffix).encoding is not encoding and encoding is Encoding.GSM7:
        assert room < 0
        return
    if room < 0:
        assert count(suffix).parts > limit
        return
    assert count(filler * room + suffix).parts <= limit
    assert count(filler * (room + 1) + suffix).parts > limit
