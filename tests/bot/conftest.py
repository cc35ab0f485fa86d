"""Fixtures for the Slack app's end-to-end tests (see bridge_kit.py)."""

from tests.bot.bridge_kit import bridge

__all__ = ["bridge"]
