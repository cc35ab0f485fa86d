"""Leases on sends: which replica owns a send (a request group) until when, and the fence that
stops a replica that lost it.

Why: with several replicas on one PostgreSQL, a send must have exactly one owner at a time, and
a replica that dies must be replaced. The owner holds a lease in the database and renews it;
once it lapses, another replica claims it (one compare-and-set statement, which bumps the
lease's ``epoch``) and finishes the send. The ``epoch`` is a fencing token: every attempt claim
and every report write names the lease it was made under, and is refused once the epoch moved
on, so an owner that was only paused (not dead) cannot send or report after the takeover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from bot.store.errors import StoreError
from providers.base import Recipient

# Groups that are not sends but a chore one replica at a time does (removing old records): the
# watcher that takes over lapsed sends leaves them alone; ``LeaseBook.take`` takes them over.
CHORE_PREFIX = "chore:"


@dataclass(frozen=True)
class Lease:
    """A replica's hold on one send group; ``epoch`` grows with every takeover."""

    group_id: str
    owner: str
    epoch: int


class LeaseLost(StoreError):
    """This replica no longer owns the send: another took it over; stop touching it."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(
            f"send {lease.group_id} was taken over by another replica; this one ({lease.owner}) "
            "stops sending and reporting it"
        )
        self.lease = lease


class LeaseBook(Protocol):
    """Leases in the shared database, and the writes fenced by them (PostgreSQL).

    ``ttl`` is how long a lease lasts from now (the store's clock); every call is one statement.
    """

    async def acquire(self, group_id: str, owner: str, ttl: timedelta) -> Lease | None:
        """Own a send nobody holds (a new or just-confirmed one); None if someone does."""
        ...

    async def take(self, group_id: str, owner: str, ttl: timedelta) -> Lease | None:
        """Own a chore (a ``CHORE_PREFIX`` group, never a send) nobody holds, or whose holder
        let its lease lapse (it died mid-way); None while another holder's lease runs."""
        ...

    async def renew(self, leases: Sequence[Lease], ttl: timedelta) -> set[str]:
        """Extend the leases still held as named; returns their group ids (the rest are lost)."""
        ...

    async def release(self, lease: Lease) -> None:
        """The send is finished and reported: nobody needs to own it any more."""
        ...

    async def holds(self, lease: Lease) -> bool:
        """True while this lease is the group's current one."""
        ...

    async def claim_stale(
        self, owner: str, ttl: timedelta, grace: timedelta, limit: int = 50
    ) -> list[Lease]:
        """Take over, in one statement, sends whose lease lapsed, and unfinished or unreported
        sends nobody leased for ``grace`` (a replica that died between recording and leasing)."""
        ...

    async def attempt_started(
        self, lease: Lease, request_id: str, recipients: Sequence[Recipient], attempt: int
    ) -> None:
        """``Store.attempt_started``, refused with LeaseLost unless ``lease`` is current."""
        ...

    async def set_report(self, lease: Lease, request_id: str, channel: str, ts: str) -> None:
        """``Store.set_report``, refused with LeaseLost unless ``lease`` is current."""
        ...

    async def mark_reported(self, lease: Lease, request_ids: Sequence[str]) -> None:
        """``Store.mark_reported``, refused with LeaseLost unless ``lease`` is current."""
        ...
