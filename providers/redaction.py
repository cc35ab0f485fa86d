"""Masking an account's secrets in whatever a provider answers, before anything else reads it.

Why its own module: a provider may echo the API key in any field, in any letter case, or cut it
short itself; a key that survives into one reason, log line or stored code has leaked. So the
reply is redacted once, where it enters the bridge (``providers.http.post_json``), and every
piece of the key at least ``MIN_FRAGMENT`` characters long is masked, not only the whole key:
a truncation downstream can then never expose most of a key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"
MIN_FRAGMENT = 8  # a shorter run of a key's characters identifies nothing


def _fold(text: str) -> str:
    """Lower case, one character for one, so an index in the result is an index in ``text``."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


class Redactor:
    """Masks each secret, and every piece of it ``MIN_FRAGMENT`` or more long, in any case."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self._windows: dict[int, set[str]] = {}
        for secret in secrets:
            folded = _fold(secret)
            if not folded:
                continue
            size = min(MIN_FRAGMENT, len(folded))
            pieces = {folded[i : i + size] for i in range(len(folded) - size + 1)}
            self._windows.setdefault(size, set()).update(pieces)
        every_piece = sorted({p for pieces in self._windows.values() for p in pieces})
        # One pass in C over a reply's text says whether any piece is in it at all.
        self._any_piece = re.compile("|".join(map(re.escape, every_piece))) if every_piece else None

    def text(self, text: str) -> str:
        """``text`` with every run of secret characters replaced by one ``MASK``."""
        if self._any_piece is None or not text:
            return text
        folded = _fold(text)
        # Most text holds no piece at all: one search for all of them says so, and only text
        # that does is walked character by character to mark each run.
        if self._any_piece.search(folded) is None:
            return text
        hidden = bytearray(len(text))
        for size, pieces in self._windows.items():
            for start in range(len(folded) - size + 1):
                if folded[start : start + size] in pieces:
                    hidden[start : start + size] = b"\x01" * size
        if not any(hidden):
            return text
        out: list[str] = []
        for index, char in enumerate(text):
            if not hidden[index]:
                out.append(char)
            elif index == 0 or not hidden[index - 1]:
                out.append(MASK)
        return "".join(out)

    def holds_none(self, text: str) -> bool:
        """True when ``text`` is ASCII without a backslash and holds no piece of a secret: then
        no string JSON-decoded from it can hold one either, so a reply's parsed body needs no
        walk through ``value`` (the usual case, on every provider call).

        Why those conditions: without escapes every decoded string, key or value, is a run of
        ``text`` itself, and for ASCII the fold is per character, so a run's fold is a run of
        the whole text's fold (``str.lower`` of non-ASCII text can depend on the neighbours).
        """
        if self._any_piece is None or not text:
            return True
        return text.isascii() and "\\" not in text and self._any_piece.search(text.lower()) is None

    def value(self, value: Any) -> Any:
        """A parsed JSON value with every string (keys too) redacted; iterative, so a deeply
        nested body cannot exhaust the stack."""
        if isinstance(value, str):
            return self.text(value)
        if not isinstance(value, (dict, list)):
            return value
        root: list[Any] = [None]
        stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
        while stack:
            item, parent, slot = stack.pop()
            if isinstance(item, str):
                parent[slot] = self.text(item)
            elif isinstance(item, dict):
                copy: dict[str, Any] = {}
                parent[slot] = copy
                for key, child in item.items():
                    name = self.text(key)
                    copy[name] = None
                    stack.append((child, copy, name))
            elif isinstance(item, list):
                items: list[Any] = [None] * len(item)
                parent[slot] = items
                stack.extend((child, items, i) for i, child in enumerate(item))
            else:
                parent[slot] = item
        return root[0]

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {name: self.text(value) for name, value in headers.items()}
