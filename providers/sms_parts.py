"""How many billable SMS parts a text becomes, and in which encoding (GSM-7 or UCS-2).

Why here and by hand: every SMS provider bills per part, and one character outside the GSM 7-bit
alphabet (a curly quote, an emoji) switches the whole message to UCS-2, cutting a part from 160
characters to 70. No maintained, typed PyPI package counts this (see README, "Libraries, and
why"), and the rules are small: 3GPP TS 23.038 §6.2.1 (the default alphabet and its extension
table) and TS 23.040 §9.2.3.24.1 (a concatenated part gives 6 bytes to its header: 153 septets or
67 UCS-2 code units are left). Pure and linear in the text's length.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

# 3GPP TS 23.038 §6.2.1, the GSM 7 bit default alphabet, in code order (0x1B, the escape to the
# extension table, is left out: it is not a character anyone types).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# §6.2.1.1, the default extension table: each costs two septets (ESC + the character).
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")

SINGLE_PART = {"GSM-7": 160, "UCS-2": 70}  # septets / UTF-16 code units in a lone SMS
CONCAT_PART = {"GSM-7": 153, "UCS-2": 67}  # ... in each part of a concatenated SMS

# What people paste from word processors and phones, and the GSM-7 character that says the same.
GSM7_LOOKALIKES = {
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "′": "'",
    "`": "'",
    "´": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "″": '"',
    "«": '"',
    "»": '"',
    "–": "-",
    "—": "-",
    "‐": "-",
    "‑": "-",
    "−": "-",
    "…": "...",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\t": " ",
    "•": "-",
    "·": "-",
}


class Encoding(enum.StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsCount:
    """The parts a text costs. ``units``: septets (GSM-7) or UTF-16 code units (UCS-2);
    ``forced_by``/``forced_at``: the first character outside GSM-7 and its 1-based position."""

    encoding: Encoding
    parts: int
    units: int
    forced_by: str | None = None
    forced_at: int | None = None

    @property
    def per_part(self) -> int:
        """What one part holds at this length (160/70 alone, 153/67 when concatenated)."""
        table = SINGLE_PART if self.parts <= 1 else CONCAT_PART
        return table[self.encoding.value]

    def describe(self) -> str:
        """E.g. ``2 parts, GSM-7`` — what the modal, the confirmation and the CLI show."""
        noun = "part" if self.parts == 1 else "parts"
        return f"{self.parts} {noun}, {self.encoding.value}"

    def explain(self) -> str:
        """E.g. ``3 parts, UCS-2 because of '’' at position 3``."""
        noun = "part" if self.parts == 1 else "parts"
        return f"{self.parts} {noun}, {self.why_ucs2()}"

    def why_ucs2(self) -> str:
        """E.g. ``UCS-2 because of '’' at position 12``; just the encoding for GSM-7."""
        if self.forced_by is None or self.forced_at is None:
            return self.encoding.value
        return f"UCS-2 because of {show_char(self.forced_by)} at position {self.forced_at}"


def show_char(char: str) -> str:
    """A character as a person can see it: quoted, or by its Unicode name if it is invisible."""
    if char.isprintable() and not char.isspace():
        return f"'{char}'"
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} ({name.lower()})" if name else code


def _quote(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


def _units(char: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # a surrogate pair in UTF-16


def _first_non_gsm(text: str) -> int | None:
    for index, char in enumerate(text):
        if char not in GSM7_BASIC and char not in GSM7_EXTENSION:
            return index
    return None


def count(text: str) -> SmsCount:
    """The parts ``text`` is sent as. A character's units are never split between two parts (an
    escape and its character, a surrogate pair), as handsets and SMSCs split them; so a
    concatenated text can need one part more than ``ceil(units / 153)``."""
    forced = _first_non_gsm(text)
    encoding = Encoding.GSM7 if forced is None else Encoding.UCS2
    sizes = [_units(char, encoding) for char in text]
    total = sum(sizes)
    parts = 1
    if total > SINGLE_PART[encoding.value]:
        room = CONCAT_PART[encoding.value]
        parts, used = 1, 0
        for size in sizes:
            if used + size > room:
                parts, used = parts + 1, 0
            used += size
    if forced is None:
        return SmsCount(encoding, parts, total)
    return SmsCount(encoding, parts, total, forced_by=text[forced], forced_at=forced + 1)


def gsm7_lookalike(text: str) -> str | None:
    """``text`` with lookalikes replaced, if that makes it all GSM-7; else None."""
    replaced = "".join(GSM7_LOOKALIKES.get(char, char) for char in text)
    return replaced if _first_non_gsm(replaced) is None else None


def room_for_text(limit: int, encoding: Encoding, suffix: str = "") -> int:
    """The most units (septets or UTF-16 code units) a text in ``encoding`` may have so that
    text + ``suffix`` fits in ``limit`` parts; negative when ``suffix`` alone does not fit.

    Searched, not subtracted: the single-part and concatenated sizes differ, and a character of
    the suffix is never split between parts, so ``limit * 153 - len(suffix)`` can be off."""
    filler = "a" if encoding is Encoding.GSM7 else "\u0436"  # a GSM-7 / a UCS-2 letter, 1 unit
    if count(suffix).encoding is not encoding and encoding is Encoding.GSM7:
        return -1  # the suffix alone forces UCS-2: no GSM-7 text goes with it as GSM-7

    def fits(units: int) -> bool:
        return count(filler * units + suffix).parts <= limit

    if not fits(0):
        return -1
    low, high = 0, limit * SINGLE_PART[encoding.value] + 1  # fits(low); nothing fits at high
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


def too_many_parts(text: str, limit: int, where: str, suffix: str = "") -> str | None:
    """Why ``text`` + ``suffix`` may not go out as an SMS through ``where`` (over ``limit``
    parts), with what to change in ``text``; None when it fits. ``suffix`` is what the bridge
    adds (a page's acknowledge line and link): counted, but the advice is about ``text`` alone."""
    whole = text + suffix
    sms = count(whole)
    if sms.parts <= limit:
        return None
    head = f"This SMS to `{where}` is {sms.parts} parts ({sms.why_ucs2()}); the limit is {limit}."
    room = room_for_text(limit, sms.encoding, suffix)
    if room < 1:
        extra = count(suffix).describe()
        return f"{head} What the bridge adds alone is {extra}: raise max_sms_parts of `{where}`."
    what = "the text" if suffix else "it"
    if sms.forced_by is None:
        doubles = sorted({c for c in text if c in GSM7_EXTENSION} - {"\f"})
        note = f" ({' '.join(doubles)} count as two each)" if doubles else ""
        return f"{head} Shorten {what} to at most {room} characters{note} (nothing is cut for you)."
    plain = gsm7_lookalike(text)
    if plain is None:
        wide = " (emoji count as two each)" if any(ord(c) > 0xFFFF for c in text) else ""
        return f"{head} Shorten {what} to at most {room} characters{wide} (nothing is cut for you)."
    char = show_char(sms.forced_by)
    fix = f"replace {char} with {_quote(GSM7_LOOKALIKES[sms.forced_by])}"
    others = {c for c in text if c in GSM7_LOOKALIKES} - {sms.forced_by}
    if others:
        fix += " (and " + ", ".join(show_char(c) for c in sorted(others)) + " likewise)"
    gsm = count(plain + suffix)
    then = "it would then fit" if gsm.parts <= limit else f"it would then be {gsm.describe()}"
    return f"{head} Shorten {what} or {fix}: {then}."
