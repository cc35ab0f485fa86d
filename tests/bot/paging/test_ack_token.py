"""The acknowledge token: an opaque target id (never a number or a name), signed, and accepted
in exactly one spelling (issue 15, items 2 and 8)."""

from __future__ import annotations

import base64
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.paging.links import TOKEN_LENGTH, AckClaim, AckLinks

LINKS = AckLinks("https://bridge.example/", "an-ack-secret-of-at-least-32-bytes!")
PAGE = "P7K3QX9A2"
NUMBER = "+254712345678"
TOKEN = LINKS.token(PAGE, NUMBER)
# Characters a mutation may bring in: every base64 alphabet, padding, separators, escapes, junk.
NOISE = string.ascii_letters + string.digits + "-_+/=.%~ \t\n:@!*'()"


def test_the_token_is_read_back_to_its_page_and_opaque_target() -> None:
    assert len(TOKEN) == TOKEN_LENGTH == 36
    assert LINKS.read(TOKEN) == AckClaim(PAGE, LINKS.target(PAGE, NUMBER))
    assert LINKS.url(PAGE, NUMBER) == f"https://bridge.example/ack/{TOKEN}"


def test_the_token_carries_no_number_and_no_name() -> None:
    for person in (NUMBER, "alice"):
        token = LINKS.token(PAGE, person)
        raw = base64.urlsafe_b64decode(token)
        assert raw.startswith(PAGE.encode())  # the page id, typed into /send ack anyway
        for hidden in (person, person.lstrip("+"), "254712345678", "712345678", "alice"):
            assert hidden.encode() not in raw
            assert hidden not in token
        assert not re.search(rb"\d{5,}", raw[len(PAGE) :])  # no run of digits after the id


def test_each_target_of_a_page_has_its_own_token_and_another_secret_reads_none() -> None:
    assert LINKS.token(PAGE, NUMBER) != LINKS.token(PAGE, "+254700000009")
    assert LINKS.token(PAGE, NUMBER) != LINKS.token("P7K3QX9A3", NUMBER)
    other = AckLinks("https://bridge.example", "another-ack-secret-of-32-bytes-or-more")
    assert other.read(TOKEN) is None


def test_the_old_token_with_the_number_in_it_is_refused() -> None:
    payload = base64.urlsafe_b64encode(f"{PAGE}:{NUMBER}".encode()).decode().rstrip("=")
    assert LINKS.read(f"{payload}.AAAAAAAAAAAAAAAA") is None


def test_other_spellings_of_the_same_bytes_are_refused() -> None:
    raw = base64.urlsafe_b64decode(TOKEN)
    spellings = {
        base64.b64encode(raw).decode(),  # the standard alphabet (+ and /)
        TOKEN + "=",
        TOKEN + "==",
        TOKEN + ".",
        TOKEN[:18] + "." + TOKEN[18:],
        " " + TOKEN,
        TOKEN + "\n",
        TOKEN.lower(),
        TOKEN.upper(),
        TOKEN[:-1],
        TOKEN + "A",
    }
    spellings.discard(TOKEN)
    assert [s for s in spellings if LINKS.read(s) is not None] == []


@st.composite
def mutations(draw: st.DrawFn) -> str:
    """The token changed by one edit or a few: replaced, inserted or deleted characters."""
    token = list(TOKEN)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["replace", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(token) - 1)))
        if kind == "delete" and token:
            del token[at]
        elif kind == "insert":
            token.insert(at, draw(st.sampled_from(NOISE)))
        elif token:
            token[at] = draw(st.sampled_from(NOISE))
    return "".join(token)


@settings(max_examples=600, deadline=None)
@given(mutations())
def test_any_mutation_that_is_not_byte_identical_is_refused(mutated: str) -> None:
    if mutated == TOKEN:
        assert LINKS.read(mutated) is not None
    else:
        assert LINKS.read(mutated) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=NOISE, max_size=80))
def test_any_other_text_is_refused(text: str) -> None:
    assert text == TOKEN or LINKS.read(text) is None
