"""Writes the SQLite connection may run as one: a send's attempt claims queued together.

Why: a big send's claims arrive a few at a time, each in its caller's task and each on the path
to its provider call; those that queue behind a commit are one operation on one request, so the
database thread runs them as one set of statements (``Shared``) and answers each caller with
its own share. Everything else queued with them runs as before, each in its own savepoint.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.store.sqlite_thread import Body, SyncDB


@dataclass(frozen=True)
class Shared:
    """A write that may run as one with the queued writes of the same ``key``: ``body`` runs
    once over every caller's ``items`` and returns those it could not apply, and each caller
    gets back its own. They are one operation on one request, so they succeed or fail together.
    Why: a big send's attempt claims arrive a few at a time, each on the path to its call;
    merged, a transaction holding many of them still makes three statements (bench/store.py)."""

    key: Hashable
    items: Sequence[Any]
    body: Callable[[SyncDB, Sequence[Any]], Coroutine[Any, Any, list[Any]]]


Pending = tuple[Body[Any] | Shared, asyncio.Future[Any]]


@dataclass
class Unit:
    """What one savepoint runs: a write, or shared writes merged; ``split`` answers each."""

    body: Body[Any]
    futures: list[asyncio.Future[Any]]
    split: Callable[[Any], list[Any]]


def units_of(batch: Sequence[Pending]) -> list[Unit]:
    """Queued writes in order, shared ones of one key merged into the first of them."""
    units: list[Unit] = []
    shared: dict[Hashable, tuple[Unit, list[Sequence[Any]]]] = {}
    for write, done in batch:
        if not isinstance(write, Shared):
            units.append(Unit(write, [done], lambda value: [value]))
            continue
        if write.key in shared:
            unit, parts = shared[write.key]
            unit.futures.append(done)
            parts.append(write.items)
            continue
        parts = [write.items]
        unit = Unit(_merged(write, parts), [done], functools.partial(_split, parts))
        shared[write.key] = (unit, parts)
        units.append(unit)
    return units


def _merged(write: Shared, parts: list[Sequence[Any]]) -> Body[list[Any]]:
    def body(db: SyncDB) -> Coroutine[Any, Any, list[Any]]:
        return write.body(db, [item for part in parts for item in part])

    return body


def _split(parts: list[Sequence[Any]], left: list[Any]) -> list[list[Any]]:
    """Each caller's share of what the merged body could not apply (by identity)."""
    ids = {id(item) for item in left}
    return [[item for item in part if id(item) in ids] for part in parts]
