"""The active-page caps, looked at before a paging modal closes, so its refusal shows inline.

Why only the look here: the caps and their refusal are policy (``bot.policy.page_caps``); the
store decides at start. This module reads the active pages within the modal's deadline.
"""

from __future__ import annotations

import asyncio

from bot.policy import Rejection
from bot.policy.page_caps import cap_reached, cap_refusal, caps_of
from bot.store.base import Store
from config.schema import DefaultsConfig


async def check_room(
    store: Store,
    defaults: DefaultsConfig,
    escalation: str,
    sender: str,
    command: str,
    within: float,
) -> None:
    """Rejection if ``sender`` or ``escalation`` is at its cap now: a look a modal makes before it
    closes, so the refusal shows inline. A look that takes longer than ``within`` is skipped."""
    try:
        async with asyncio.timeout(within):
            active = await store.active_pages()
    except TimeoutError:
        return
    cap = cap_reached(active, escalation, sender, caps_of(defaults))
    if cap is not None:
        raise Rejection(cap_refusal(cap, escalation, command))
