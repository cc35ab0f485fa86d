"""Fixtures for the Slack app's end-to-end tests (see bridge_kit.py) and the send record's
tests on both backends (see store_backends.py)."""

from tests.bot.bridge_kit import bridge
from tests.bot.store_backends import backend, postgres_backend, postgres_url, store

__all__ = ["backend", "bridge", "postgres_backend", "postgres_url", "store"]
