"""Numbers: E.164 normalisation with clear reasons, and masking for logs and Slack."""

from __future__ import annotations

import pytest

from config.numbers import InvalidNumber, mask_address, normalize_address, normalize_number


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("0798 765 432", "KE", "+254798765432"),
        ("+254 712-345-678", "KE", "+254712345678"),
        ("254712345678", "KE", "+254712345678"),
        ("(0712) 345678", "KE", "+254712345678"),
        ("+918123456789", "KE", "+918123456789"),
        ("08123456789", "IN", "+918123456789"),
    ],
)
def test_numbers_are_normalised_to_e164(raw: str, region: str, expected: str) -> None:
    assert normalize_number(raw, region) == expected


def test_local_number_that_is_not_valid_asks_for_a_country_code() -> None:
    with pytest.raises(InvalidNumber) as caught:
        normalize_number("07987", "KE")
    assert str(caught.value) == (
        "'07987' is not a valid KE number (too short); write it with a country code, "
        "e.g. +254712123456"
    )


def test_international_number_that_is_not_valid_names_the_country() -> None:
    with pytest.raises(InvalidNumber, match=r"not a valid KE \(\+254\) number"):
        normalize_number("+25471234", "KE")


def test_letters_are_not_a_number() -> None:
    with pytest.raises(InvalidNumber, match="has letters"):
        normalize_number("+91XXXXXXXXXX", "KE")


def test_local_number_without_a_region_needs_a_country_code() -> None:
    with pytest.raises(InvalidNumber, match="no country code"):
        normalize_number("0712345678", None)


def test_empty_number_is_invalid() -> None:
    with pytest.raises(InvalidNumber, match="empty"):
        normalize_number("  ", "KE")


def test_addresses_pass_groups_and_tags_through() -> None:
    assert normalize_address("120363410923125768@g.us", "KE") == "120363410923125768@g.us"
    assert normalize_address(" tag:42 ", "KE") == "tag:42"
    assert normalize_address("0712345678", "KE") == "+254712345678"


@pytest.mark.parametrize("raw", ["abc@g.us", "tag:", "tag:vip"])
def test_malformed_groups_and_tags_are_invalid(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        normalize_address(raw, "KE")


def test_mask_keeps_country_and_last_digits() -> None:
    assert mask_address("+254712345678") == "+2547•••••678"
    assert mask_address("+918123456789") == "+9181•••••789"


def test_mask_shows_groups_and_tags_as_they_are() -> None:
    assert mask_address("120363410923125768@g.us") == "120363410923125768@g.us"
    assert mask_address("tag:42") == "tag:42"


def test_mask_hides_most_of_short_numbers() -> None:
    masked = mask_address("+4412345")
    assert masked.count("•") >= 3
    assert masked[-2:] == "45"
