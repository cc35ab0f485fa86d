"""Callback, block and action ids: the names Slack echoes back to route a click or a submission.

Why one module: the builders that put an id on a view or a button and the listeners that match it
must agree, and so must ``slack-manifest.yml`` for the shortcuts. Renaming one here renames both.
Values carried by buttons: ``RETRY_*`` carry a request id, ``CONFIRM_SEND``/``CANCEL_SEND`` a group
(request) id.
"""

from __future__ import annotations

from typing import Final

# --- shortcuts (declared in config/slack-manifest.yml) ----------------------------------------
BROADCAST_SHORTCUT: Final = "oncall_broadcast"  # global shortcut
MESSAGE_SHORTCUT: Final = "send_message"  # message shortcut: "send this message"

# --- modal callback ids -----------------------------------------------------------------------
SEND_MODAL: Final = "send_modal"
BROADCAST_MODAL: Final = "broadcast_modal"
NOTICE_MODAL: Final = "bridge_notice"  # a read-only modal ("you may not use this")

# --- buttons on messages (result summaries, confirmation prompts) ------------------------------
RETRY_FAILED: Final = "retry_failed"
RETRY_UNKNOWN: Final = "retry_unknown"
CONFIRM_SEND: Final = "confirm_send"
CANCEL_SEND: Final = "cancel_send"

# --- send modal: block ids (what Rejection.field maps onto) and their element action ids -------
CHANNEL_BLOCK: Final = "channel"
CHANNEL_ACTION: Final = "channel_select"
TYPE_BLOCK: Final = "message_type"
TYPE_ACTION: Final = "message_type_select"
TEXT_BLOCK: Final = "text"  # the message, or the caption of a media message
TEXT_ACTION: Final = "text_input"
MEDIA_URL_BLOCK: Final = "media_url"
MEDIA_URL_ACTION: Final = "media_url_input"
FILENAME_BLOCK: Final = "filename"
FILENAME_ACTION: Final = "filename_input"
MIME_BLOCK: Final = "mime_type"
MIME_ACTION: Final = "mime_type_input"
TEMPLATE_BLOCK: Final = "template_id"
TEMPLATE_ACTION: Final = "template_id_input"
LANGUAGE_BLOCK: Final = "language"
LANGUAGE_ACTION: Final = "language_input"
VARIABLES_BLOCK: Final = "variables"
VARIABLES_ACTION: Final = "variables_input"
NUMBERS_BLOCK: Final = "numbers"
NUMBERS_ACTION: Final = "numbers_input"
CONFIRM_BLOCK: Final = "confirm"
CONFIRM_ACTION: Final = "confirm_check"
CONFIRM_VALUE: Final = "yes"

# --- broadcast modal ----------------------------------------------------------------------------
PRESET_BLOCK: Final = "preset"
PRESET_ACTION: Final = "preset_select"
SEVERITY_BLOCK: Final = "severity"
SEVERITY_ACTION: Final = "severity_select"
CHANNELS_BLOCK: Final = "channels"
CHANNELS_ACTION: Final = "channels_check"
PREVIEW_BLOCK: Final = "preview"
# The broadcast modal reuses TEXT_BLOCK/TEXT_ACTION and CONFIRM_BLOCK/CONFIRM_ACTION.

# --- pages (bot.paging): the Acknowledge button on a page's root message carries the page id ---
ACK_PAGE: Final = "ack_page"
