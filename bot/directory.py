"""Slack user-group membership, cached, so policy can stay pure and Slack is not asked each time.

Why a TTL: membership changes rarely and `usergroups.users.list` is rate-limited; five minutes of
staleness is the price of a send that does not wait on Slack.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

MISSING_SCOPE = (
    "The bridge cannot read Slack user groups (it lacks the usergroups:read scope). "
    "Ask a Slack admin to add that scope to the app and reinstall it."
)


class DirectoryError(Exception):
    """Membership could not be looked up; the message says what an admin should do."""


class Directory:
    """``groups_of(user, groups)``: which of those user groups the user belongs to."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def members(self, usergroup: str) -> frozenset[str]:
        cached = self._members.get(usergroup)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        lock = self._locks.setdefault(usergroup, asyncio.Lock())
        async with lock:
            cached = self._members.get(usergroup)
            if cached is not None and self._clock() - cached[0] < self._ttl:
                return cached[1]
            try:
                response = await self._client.usergroups_users_list(usergroup=usergroup)
            except SlackApiError as exc:
                error = exc.response.get("error") if exc.response is not None else None
                if error == "missing_scope":
                    raise DirectoryError(MISSING_SCOPE) from None
                if error == "no_such_subteam":
                    members: frozenset[str] = frozenset()  # a deleted group allows nobody
                else:
                    raise DirectoryError(
                        f"Slack did not list the members of user group {usergroup} ({error}). "
                        "Try again in a minute."
                    ) from None
            else:
                members = frozenset(str(u) for u in response.get("users") or ())
            self._members[usergroup] = (self._clock(), members)
            return members

    async def groups_of(self, user_id: str, usergroups: Iterable[str]) -> frozenset[str]:
        groups = sorted(set(usergroups))
        found = await asyncio.gather(*(self.members(g) for g in groups))
        return frozenset(g for g, members in zip(groups, found, strict=True) if user_id in members)
