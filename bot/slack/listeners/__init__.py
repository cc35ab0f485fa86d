"""Every Slack listener, registered on one app: the routing table, in one place.

Why module-level functions registered as bolt's sample apps do (``app.command(...)(fn)``): a test
can call any listener directly. Each gets this app's ``Deps`` from bolt's ``context`` (put there
by ``context.ProvideDeps`` in ``create_app``), not from a global or a closure, so tests build as
many independent apps as they like.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack import ids
from bot.slack.deps import Deps
from bot.slack.listeners import actions, commands, errors, paging, shortcuts, views


def register(app: AsyncApp, deps: Deps) -> None:
    app.command(deps.command)(commands.on_send)
    app.global_shortcut(ids.BROADCAST_SHORTCUT)(shortcuts.on_broadcast_shortcut)
    app.message_shortcut(ids.MESSAGE_SHORTCUT)(shortcuts.on_message_shortcut)
    app.action(ids.CHANNEL_ACTION)(views.on_send_modal_change)
    app.action(ids.TYPE_ACTION)(views.on_send_modal_change)
    app.action(ids.PRESET_ACTION)(views.on_preset_change)
    app.view(ids.SEND_MODAL)(views.on_send_submit)
    app.view(ids.BROADCAST_MODAL)(views.on_broadcast_submit)
    for modal in (ids.SEND_MODAL, ids.BROADCAST_MODAL, ids.NOTICE_MODAL):
        app.view_closed(modal)(views.on_modal_closed)
    app.action(ids.RETRY_FAILED)(actions.on_retry_failed)
    app.action(ids.RETRY_UNKNOWN)(actions.on_retry_unknown)
    app.action(ids.CONFIRM_SEND)(actions.on_confirm)
    app.action(ids.CANCEL_SEND)(actions.on_cancel)
    app.action(ids.ACK_PAGE)(paging.on_ack_page)
    app.error(errors.on_error)
