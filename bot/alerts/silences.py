"""Which silence, if any, holds a notification: the matching rule, once.

Why "every pair equals the group's labels, or every alert's": the group's common labels are
what routes match on, but a group of alerts from db-1 and db-2 has no ``instance`` in common;
``instance=db-1`` must not silence db-2's alert, and a silence over ``instance=db-1`` should
still hold a group made only of db-1's alerts. So a group is silenced when the pairs equal its
common labels, or when every one of its alerts carries them (as Alertmanager silences each
alert and a group with none left sends nothing). A silence with no pairs holds every alert of
its integration.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping

from bot.alerts.payloads import Notification
from bot.store.silences_base import Silence

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # as page ids: typed into /send unsilence


def new_silence_id() -> str:
    return "S" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def _has(labels: Mapping[str, str], pairs: Iterable[tuple[str, str]]) -> bool:
    return all(labels.get(name) == value for name, value in pairs)


def holds(silence: Silence, note: Notification) -> bool:
    if _has(note.labels, silence.matchers):
        return True
    return bool(note.alerts) and all(_has(a.labels, silence.matchers) for a in note.alerts)


def silencing(silences: Iterable[Silence], note: Notification) -> Silence | None:
    """The first of ``silences`` (in force, newest first) that holds ``note``."""
    return next((s for s in silences if holds(s, note)), None)
