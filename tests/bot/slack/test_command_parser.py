"""The ``/send`` text parser: what a person types becomes exactly one command, or a usage hint."""

from __future__ import annotations

import pytest

from bot.slack.parse import (
    EMPTY_TEXT,
    EMPTY_TEXT_AFTER_NUMBERS,
    STATUS_USAGE,
    Help,
    History,
    List,
    OpenModal,
    ParseError,
    Send,
    Status,
    parse_command,
    strip_quotes,
    unescape_slack,
)


@pytest.mark.parametrize("text", ["", "   ", "\n", " \t "])
def test_empty_text_opens_the_modal(text: str) -> None:
    assert parse_command(text) == OpenModal()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("help", Help()),
        ("HELP", Help()),
        (" Help me please", Help()),
        ("list", List()),
        ("List", List()),
        ("history", History()),
        ("HISTORY  ", History()),
    ],
)
def test_keywords_are_case_insensitive(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_status_reads_the_request_id_and_uppercases_it() -> None:
    assert parse_command("status R7K2M9QXA") == Status("R7K2M9QXA")
    assert parse_command("Status   r7k2m9qxa") == Status("R7K2M9QXA")
    assert parse_command("status `R7K2M9QXA`") == Status("R7K2M9QXA")


@pytest.mark.parametrize("text", ["status", "STATUS   ", "status\n"])
def test_status_without_an_id_explains_the_usage(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_command(text)
    assert info.value.message == STATUS_USAGE == "usage: /send status <request-id>"


def test_keyword_wins_over_a_channel_of_the_same_name() -> None:
    # Channel names are lower-case slugs, so "list" could be a channel; the keyword wins.
    assert parse_command("list Disk full") == List()


def test_channel_and_text() -> None:
    assert parse_command("oncall-sms Disk full on db-1") == Send(
        "oncall-sms", (), "Disk full on db-1"
    )


def test_channel_name_is_lowered() -> None:
    assert parse_command("OnCall-SMS hello").channel == "oncall-sms"  # type: ignore[union-attr]


def test_leading_hash_on_the_channel_is_dropped() -> None:
    assert parse_command("#oncall-sms hello") == Send("oncall-sms", (), "hello")


def test_extra_spaces_around_the_text_are_dropped_but_inner_spacing_is_kept() -> None:
    got = parse_command("  oncall-sms    Disk  full\n\n  on db-1   ")
    assert got == Send("oncall-sms", (), "Disk  full\n\n  on db-1")


def test_newline_separates_channel_from_text() -> None:
    assert parse_command("oncall-sms\nline one\nline two") == Send(
        "oncall-sms", (), "line one\nline two"
    )


@pytest.mark.parametrize(
    "text",
    [
        'oncall-sms   "Disk full on db-1"',
        "oncall-sms “Disk full on db-1”",
        "oncall-sms 'Disk full on db-1'",
        "oncall-sms ‘Disk full on db-1’",
        'oncall-sms " Disk full on db-1 "',
    ],
)
def test_one_pair_of_surrounding_quotes_is_removed(text: str) -> None:
    assert parse_command(text) == Send("oncall-sms", (), "Disk full on db-1")


def test_quotes_inside_the_text_are_kept() -> None:
    assert parse_command('oncall-sms "db-1" and "db-2" are full').text == (  # type: ignore[union-attr]
        '"db-1" and "db-2" are full'
    )
    assert parse_command("oncall-sms it's full").text == "it's full"  # type: ignore[union-attr]


def test_unmatched_quotes_are_kept() -> None:
    assert parse_command('oncall-sms "Disk full').text == '"Disk full'  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["oncall-sms", "oncall-sms   ", 'oncall-sms ""', "oncall-sms “ ”"])
def test_a_channel_without_text_explains_how_to_write_it(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_command(text)
    assert info.value.message == EMPTY_TEXT
    assert "/send oncall-sms Disk full on db-1" in info.value.message


def test_numbers_without_text_explain_how_to_write_it() -> None:
    with pytest.raises(ParseError) as info:
        parse_command("customers +254712345678")
    assert info.value.message == EMPTY_TEXT_AFTER_NUMBERS


@pytest.mark.parametrize(
    ("token", "to"),
    [
        ("+254712345678", ("+254712345678",)),
        ("0712345678", ("0712345678",)),
        ("+254712345678,+254700000001", ("+254712345678", "+254700000001")),
        ("+254712345678,0700000001,", ("+254712345678", "0700000001")),
        ("+1(415)555-0100", ("+1(415)555-0100",)),
        ("+44.20.7946.0958", ("+44.20.7946.0958",)),
        ("tag:42", ("tag:42",)),
        ("TAG:42,tag:7", ("tag:42", "tag:7")),
        ("tag:42,+254712345678", ("tag:42", "+254712345678")),
        ("120363410923125768@g.us", ("120363410923125768@g.us",)),
    ],
)
def test_second_token_of_addresses_is_read_as_recipients(token: str, to: tuple[str, ...]) -> None:
    assert parse_command(f"customers {token} Hello there") == Send("customers", to, "Hello there")


def test_numbers_separated_by_comma_and_space_are_one_list() -> None:
    got = parse_command("customers +254712345678, +254700000001 ,0711111111 Hello")
    assert got == Send("customers", ("+254712345678", "+254700000001", "0711111111"), "Hello")


def test_numbers_without_commas_between_them_end_the_list() -> None:
    got = parse_command("customers +254712345678 +254700000001 Hello")
    assert got == Send("customers", ("+254712345678",), "+254700000001 Hello")


@pytest.mark.parametrize(
    "text",
    [
        "oncall-sms 5 servers down",  # fewer than 7 digits: text
        "oncall-sms 123456 is the code",
        "oncall-sms 10:02 UTC outage",
        "oncall-sms +2547abc hello",
        "oncall-sms +254712345678,hello world",  # not all parts are numbers
        "oncall-sms tag: hello",
        'oncall-sms "5000000 users affected"',  # quoting keeps a long number in the text
    ],
)
def test_second_token_that_is_not_only_addresses_is_text(text: str) -> None:
    got = parse_command(text)
    assert isinstance(got, Send)
    assert got.to == ()


def test_a_long_number_first_in_the_text_is_read_as_a_recipient() -> None:
    # Documented rule: 7+ digits in the second token make it a number; quote the text to avoid it.
    assert parse_command("oncall-sms 5000000 users affected").to == ("5000000",)  # type: ignore[union-attr]


def test_slack_escapes_are_unescaped() -> None:
    got = parse_command("oncall-sms A &amp; B &lt;3 &gt; C &amp;lt;")
    assert got == Send("oncall-sms", (), "A & B <3 > C &lt;")


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("<https://meet.example/abc|https://meet.example/abc>", "https://meet.example/abc"),
        ("<https://meet.example/abc>", "https://meet.example/abc"),
        ("<http://example.com|example.com>", "example.com"),
        ("<mailto:ops@example.com|ops@example.com>", "ops@example.com"),
        ("<mailto:ops@example.com>", "ops@example.com"),
        ("<tel:+254712345678|+254712345678>", "+254712345678"),
        ("<tel:+254712345678>", "+254712345678"),
        ("<@U0BOB00002|bob>", "@bob"),
        ("<@U0BOB00002>", "@U0BOB00002"),
        ("<#C0INCIDENT|ops-incidents>", "#ops-incidents"),
        ("<!here>", "@here"),
        ("<!subteam^S0SRE1234|@sre>", "@sre"),
        ("<https://x.example/?a=1&amp;b=2|link>", "link"),
    ],
)
def test_slack_links_become_their_text(raw: str, plain: str) -> None:
    assert unescape_slack(raw) == plain


def test_link_in_text_is_plain() -> None:
    got = parse_command("oncall-sms join <https://meet.example/abc|https://meet.example/abc> now")
    assert got == Send("oncall-sms", (), "join https://meet.example/abc now")


def test_url_with_escaped_ampersand_is_unescaped() -> None:
    assert unescape_slack("<https://x.example/?a=1&amp;b=2>") == "https://x.example/?a=1&b=2"


def test_auto_linked_phone_numbers_are_recipients() -> None:
    # Slack links numbers it recognises: <tel:+254712345678|+254712345678>.
    text = "customers <tel:+254712345678|+254712345678>,<tel:+254700000001|+254700000001> Hello"
    assert parse_command(text) == Send("customers", ("+254712345678", "+254700000001"), "Hello")


def test_auto_linked_number_with_spaces_label_is_read_as_text() -> None:
    # The label has spaces ("0712 345 678"): spaces never occur inside the numbers token.
    got = parse_command("customers <tel:0712345678|0712 345 678> Hello")
    assert got == Send("customers", (), "0712 345 678 Hello")


def test_channel_link_as_channel_name() -> None:
    assert parse_command("<#C0X|oncall-sms> hi") == Send("oncall-sms", (), "hi")


def test_strip_quotes_removes_only_one_pair() -> None:
    assert strip_quotes('""hi""') == '""hi""'  # the quote appears inside: kept
    assert strip_quotes("“hi”") == "hi"
    assert strip_quotes("'") == "'"


def test_a_short_number_with_a_plus_is_read_as_a_number_so_it_is_refused_not_sent_as_text() -> None:
    # "+2547" is a mistyped number, not the start of a message to the channel's whole list.
    assert parse_command("customers +2547 hello") == Send(
        channel="customers", to=("+2547",), text="hello"
    )


def test_every_command_word_is_a_reserved_channel_name() -> None:
    """A word /send reads as a command must never be a channel's name (config refuses it)."""
    from bot.slack.parse import KEYWORDS
    from config.schema import RESERVED_NAMES

    assert KEYWORDS <= RESERVED_NAMES
