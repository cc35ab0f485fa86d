"""What a channel's route must, may and must not hold, declared per provider as data.

Why a module of its own: config validation (``route_problems``) and the adapters' local check
before a send read the same declaration, so the two can never disagree about a route.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from providers.base import Route, Service

# Route fields and the key a config file spells them with, in the order problems name them.
ROUTE_KEYS: Mapping[str, str] = {
    "sender_id": "sender_id",
    "session_id": "session_id",
    "waba_id": "waba_id",
    "from_number": "from",
}


@dataclass(frozen=True)
class RouteRules:
    """One provider's route rules; every problem text is a person's instruction, so it is data."""

    unsupported: str  # the problem for a service the provider lacks; "{service}" is its name
    reads: frozenset[str]  # the route fields this provider uses at all; others are refused
    needs: Mapping[str, str] = field(default_factory=dict)  # field -> problem when unset
    needs_for: Mapping[Service, Mapping[str, str]] = field(default_factory=dict)
    refuses_for: Mapping[Service, Mapping[str, str]] = field(default_factory=dict)

    def problems(self, provider: str, services: frozenset[Service], route: Route) -> list[str]:
        """Every problem with ``route`` for this provider (empty: fine)."""
        problems: list[str] = []
        if route.service not in services:
            problems.append(self.unsupported.format(service=route.service.value))
        problems += [why for name, why in self.needs.items() if not getattr(route, name)]
        needed = self.needs_for.get(route.service, {})
        problems += [why for name, why in needed.items() if not getattr(route, name)]
        refused = self.refuses_for.get(route.service, {})
        problems += [why for name, why in refused.items() if getattr(route, name)]
        foreign = [name for name in ROUTE_KEYS if name not in self.reads]
        if any(getattr(route, name) for name in foreign):
            problems.append(f"{_and(ROUTE_KEYS[n] for n in foreign)} are not {provider} settings")
        return problems


def _and(words: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    items = list(words)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
