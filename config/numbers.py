"""Phone numbers and other recipient addresses: normalise once, mask whenever shown.

Numbers go to E.164 with libphonenumber's metadata (not our own regexes); a number written
without a country code is read in the configured region. WhatsApp group ids (``…@g.us``) and
AutoKonnect contact tags (``tag:42``) pass through. Config, Slack policy and the CLI share these.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

_GROUP = re.compile(r"^[0-9]+(-[0-9]+)?@g\.us$")
_TAG = re.compile(r"^tag:[0-9]+$")
_MASK = "•"


class InvalidNumber(ValueError):
    """A recipient that cannot be normalised; ``str()`` says why and how to write it."""


def _example(region: str | None) -> str:
    """An example mobile number for the region, e.g. ``+254712123456``."""
    if region:
        example = phonenumbers.example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is not None:
            return phonenumbers.format_number(example, PhoneNumberFormat.E164)
    return "+254712123456"


def _country(number: phonenumbers.PhoneNumber) -> str:
    region = phonenumbers.region_code_for_country_code(number.country_code or 0)
    code = f"+{number.country_code}"
    return f"{region} ({code})" if region and region != "ZZ" else code


def normalize_number(raw: str, region: str | None) -> str:
    """``"0798 765 432"`` in KE -> ``"+254798765432"``; raises ``InvalidNumber``."""
    text = str(raw).strip()
    if not text:
        raise InvalidNumber("empty phone number")
    if re.search(r"[A-Za-z]", text):
        raise InvalidNumber(
            f"{text!r} is not a phone number (it has letters); write digits with a country "
            f"code, e.g. {_example(region)}"
        )
    international = text.startswith("+")
    try:
        number = phonenumbers.parse(text, None if international else region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            if international:
                raise InvalidNumber(
                    f"{text!r} does not start with a known country code; e.g. {_example(region)}"
                ) from None
            raise InvalidNumber(
                f"{text!r} has no country code and no default country is set; write it with "
                f"a country code, e.g. {_example(region)}"
            ) from None
        raise InvalidNumber(f"{text!r} is not a phone number; e.g. {_example(region)}") from None
    if phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, PhoneNumberFormat.E164)
    reason = phonenumbers.is_possible_number_with_reason(number)
    length = {
        phonenumbers.ValidationResult.TOO_SHORT: " (too short)",
        phonenumbers.ValidationResult.TOO_LONG: " (too long)",
        phonenumbers.ValidationResult.INVALID_LENGTH: " (wrong length)",
    }.get(reason, "")
    if international:
        raise InvalidNumber(
            f"{text!r} is not a valid {_country(number)} number{length}; check the digits"
        )
    raise InvalidNumber(
        f"{text!r} is not a valid {region} number{length}; write it with a country code, "
        f"e.g. {_example(region)}"
    )


def is_group(address: str) -> bool:
    return address.endswith("@g.us")


def is_tag(address: str) -> bool:
    return address.startswith("tag:")


def normalize_address(raw: str, region: str | None) -> str:
    """A number (to E.164), a WhatsApp group id or an AutoKonnect tag; raises ``InvalidNumber``."""
    text = str(raw).strip()
    if is_group(text):
        if not _GROUP.match(text):
            raise InvalidNumber(
                f"{text!r} is not a WhatsApp group id; it looks like 120363410923125768@g.us"
            )
        return text
    if is_tag(text):
        if not _TAG.match(text):
            raise InvalidNumber(
                f"{text!r} is not an AutoKonnect contact tag; tags are numeric ids, e.g. tag:42"
            )
        return text
    return normalize_number(text, region)


def mask_address(address: str) -> str:
    """``+254712345678`` -> ``+2547•••••678`` for logs and Slack; groups and tags as they are."""
    if is_group(address) or is_tag(address):
        return address
    n = len(address)
    if n <= 4:
        return _MASK * n
    tail = 3 if n >= 9 else 2
    head = min(5, n - tail - 3)
    head = max(head, 1)
    return address[:head] + _MASK * (n - head - tail) + address[-tail:]


def mask_for_operator(address: str) -> str:
    """``+254712345678`` -> ``+2547••••5678``: for ``check`` only, which the operator alone
    reads; the last four digits tell two numbers of one person apart (a wrong WhatsApp number
    can be spotted) while the number is still not printed whole."""
    if is_group(address) or is_tag(address) or len(address) < 12:
        return mask_address(address)
    return address[:5] + _MASK * (len(address) - 9) + address[-4:]
