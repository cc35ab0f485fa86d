"""Every Slack listener, registered on one app; each module has ``register(app, deps)``.

Why by closure: listeners get the settings and the send service from ``deps`` without globals, so
tests build as many independent apps as they like.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.deps import Deps
from bot.slack.listeners import actions, commands, errors, shortcuts, views


def register(app: AsyncApp, deps: Deps) -> None:
    for module in (commands, shortcuts, views, actions, errors):
        module.register(app, deps)
