"""Slack user-group membership, cached, so policy can stay pure and Slack is not asked each time.

Why stale-while-revalidate: a modal must open within 3 s of the command (its trigger expires),
so a lookup should never wait on Slack once a group is known. Past the TTL the cached members
are still answered at once while a refresh runs behind; only a cache far past its TTL (Slack
unreachable for a long while) or a group never seen makes the caller wait. The groups that
matter are warmed at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

MISSING_SCOPE = (
    "The bridge cannot read Slack user groups (it lacks the usergroups:read scope). "
    "Ask a Slack admin to add that scope to the app and reinstall it."
)


class DirectoryError(Exception):
    """Membership could not be looked up; the message says what an admin should do."""


class MembershipPending(Exception):
    """Slack did not answer within the caller's deadline; the lookup goes on behind (and fills
    the cache), so the caller acks now and decides when ``groups_of`` answers without one."""


# What a caller that must still ack or open a modal waits for a first lookup: well under
# Slack's 3 s, leaving time for the ack or views.open itself.
LOOKUP_WITHIN = 1.0


class Directory:
    """``groups_of(user, groups)``: which of those user groups the user belongs to."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 300.0,
        max_stale: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._max_stale = 4 * ttl if max_stale is None else max_stale
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._lookups: set[asyncio.Future[list[frozenset[str]]]] = set()

    async def members(self, usergroup: str) -> frozenset[str]:
        cached = self._members.get(usergroup)
        if cached is not None:
            age = self._clock() - cached[0]
            if age < self._ttl:
                return cached[1]
            if age < self._max_stale:
                self._refresh_behind(usergroup)
                return cached[1]
        return await self._fetch(usergroup)

    async def groups_of(
        self, user_id: str, usergroups: Iterable[str], *, within: float | None = None
    ) -> frozenset[str]:
        """Which of ``usergroups`` the user is in; MembershipPending if that takes over ``within``
        seconds (the lookup is not cancelled: its answer is cached for the next call)."""
        groups = sorted(set(usergroups))
        lookup = asyncio.ensure_future(asyncio.gather(*(self.members(g) for g in groups)))
        self._lookups.add(lookup)
        lookup.add_done_callback(self._lookup_done)
        try:
            found = await asyncio.wait_for(asyncio.shield(lookup), within)
        except TimeoutError:
            raise MembershipPending(
                f"user groups of {user_id} not known within {within} s"
            ) from None
        return frozenset(g for g, members in zip(groups, found, strict=True) if user_id in members)

    def _lookup_done(self, task: asyncio.Future[list[frozenset[str]]]) -> None:
        self._lookups.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a caller that gave up waiting never sees it

    async def warm(self, usergroups: Iterable[str]) -> None:
        """Fetch these groups now (start-up), so no Slack action waits on a first lookup."""
        for group in sorted(set(usergroups)):
            try:
                await self._fetch(group)
            except DirectoryError as exc:
                log.warning("could not warm a user group", extra={"usergroup": group, "why": exc})

    async def close(self) -> None:
        """Cancel refreshes and lookups still running (shutdown)."""
        running: list[asyncio.Future[Any]] = [*self._refreshing.values(), *self._lookups]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def settle(self) -> None:
        """Wait for background refreshes (tests)."""
        await asyncio.gather(*self._refreshing.values(), return_exceptions=True)

    def _refresh_behind(self, usergroup: str) -> None:
        if usergroup in self._refreshing:
            return

        async def refresh() -> None:
            try:
                with contextlib.suppress(DirectoryError):  # the stale answer stands meanwhile
                    await self._fetch(usergroup)
            finally:
                self._refreshing.pop(usergroup, None)

        self._refreshing[usergroup] = asyncio.create_task(refresh())

    async def _fetch(self, usergroup: str) -> frozenset[str]:
        lock = self._locks.setdefault(usergroup, asyncio.Lock())
        async with lock:
            cached = self._members.get(usergroup)
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]  # someone else fetched it while we waited
            try:
                response = await self._client.usergroups_users_list(usergroup=usergroup)
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if error == "missing_scope":
                    raise DirectoryError(MISSING_SCOPE) from None
                if error != "no_such_subteam":
                    raise DirectoryError(
                        f"Slack did not list the members of user group {usergroup} ({error}). "
                        "Try again in a minute."
                    ) from None
                members: frozenset[str] = frozenset()  # a deleted group allows nobody
            else:
                members = frozenset(str(u) for u in response.get("users") or ())
            self._members[usergroup] = (self._clock(), members)
            return members
