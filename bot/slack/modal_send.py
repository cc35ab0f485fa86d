"""The send modal and a read-only notice modal (pure builders, no I/O).

Why rebuilt whole on every change: the fields follow the chosen channel and message type, and a
``views.update`` replaces the view; the form read back from the old view (``bot.slack.forms``)
becomes the new view's initial values, so nothing typed is lost. Blocks whose options depend on a
choice carry it in their block_id (``message_type.<channel>``), so Slack never keeps a selection
that is not among the new options. Built with ``slack_sdk``'s models (``View``, ``InputBlock``…),
whose ``to_dict()`` checks Slack's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    InputInteractiveElement,
    PlainTextInputElement,
    StaticSelectElement,
    UrlInputElement,
)
from slack_sdk.models.views import View as ModalView

from bot.slack import ids
from bot.slack.forms import ModalOrigin, SendForm
from bot.slack.messages import plain_preview, provider_name, type_names
from bot.slack.mrkdwn import Block, Limit, Mrkdwn, md, option, plain, section
from config import ResolvedChannel
from providers.base import MEDIA_TYPES, MessageType, Service
from providers.sms_parts import CONCAT_PART, SINGLE_PART, count

View = dict[str, Any]

MAX_OPTIONS = 100  # static_select
MAX_CHECKBOXES = 10
TYPE_LABELS = {
    MessageType.TEXT: "Text",
    MessageType.IMAGE: "Image",
    MessageType.VIDEO: "Video",
    MessageType.AUDIO: "Audio",
    MessageType.DOCUMENT: "Document",
    MessageType.TEMPLATE: "Template",
}
CONFIRM_LABEL = "I'm sending to many people"
SMS_PARTS_BLOCK = "sms_parts"


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any] | InputInteractiveElement,
    *,
    optional: bool = False,
    hint: str | None = None,
    dispatch: bool = False,
) -> Block:
    return InputBlock(
        block_id=block_id,
        label=plain(label, Limit.FIELD),
        element=element,
        optional=optional,
        dispatch_action=True if dispatch else None,
        hint=plain(hint, Limit.FIELD) if hint else None,
    ).to_dict()


def text_element(
    action_id: str,
    value: str = "",
    *,
    multiline: bool = False,
    placeholder: str | None = None,
    url: bool = False,
) -> InputInteractiveElement:
    """A text input (``url``: Slack's URL input, which checks the link as it is typed)."""
    hint = plain(placeholder, Limit.PLACEHOLDER) if placeholder else None
    if url:
        return UrlInputElement(action_id=action_id, initial_value=value or None, placeholder=hint)
    return PlainTextInputElement(
        action_id=action_id, initial_value=value or None, multiline=multiline, placeholder=hint
    )


def select_element(
    action_id: str,
    options: list[dict[str, Any]],
    chosen: str | None,
    placeholder: str | None = None,
) -> StaticSelectElement:
    initial = next((o for o in options if o["value"] == chosen), None)
    return StaticSelectElement(
        action_id=action_id,
        options=options,
        initial_option=initial,
        placeholder=plain(placeholder, Limit.PLACEHOLDER) if placeholder else None,
    )


def modal_view(callback_id: str, title: str, blocks: list[Block], origin: ModalOrigin) -> View:
    return ModalView(
        type="modal",
        callback_id=callback_id,
        title=plain(title, Limit.VIEW_TITLE),
        submit=plain("Send", Limit.VIEW_TITLE),
        close=plain("Cancel", Limit.VIEW_TITLE),
        private_metadata=origin.encode(),
        blocks=blocks,
    ).to_dict()


def notice_modal(title: str, text: Mrkdwn, callback_id: str = ids.NOTICE_MODAL) -> View:
    """A modal with only a message and a Close button (nothing to submit)."""
    return ModalView(
        type="modal",
        callback_id=callback_id,
        title=plain(title, Limit.VIEW_TITLE),
        close=plain("Close", Limit.VIEW_TITLE),
        blocks=[section(text)],
    ).to_dict()


def confirm_block(confirmed: bool, hint: str) -> Block:
    opt = option(CONFIRM_LABEL, ids.CONFIRM_VALUE)
    element = CheckboxesElement(
        action_id=ids.CONFIRM_ACTION, options=[opt], initial_options=[opt] if confirmed else None
    )
    return input_block(ids.CONFIRM_BLOCK, "Confirm", element, optional=True, hint=hint)


# --- the send modal -----------------------------------------------------------------------------


def modal_types(channel: ResolvedChannel) -> list[MessageType]:
    """What the modal can build for this channel (interactive messages are not offered)."""
    return [MessageType(t) for t in type_names(channel.message_types) if t in TYPE_LABELS]


def reach(channel: ResolvedChannel) -> str:
    n = len(channel.recipients)
    return f"reaches {n}" if n else "no recipients of its own"


def _channel_block(channels: Sequence[ResolvedChannel], chosen: ResolvedChannel) -> Block:
    options = [
        option(c.name, c.name, f"{provider_name(c)} {c.service.value} · {reach(c)}")
        for c in channels[:MAX_OPTIONS]
    ]
    hint = f"{provider_name(chosen)} {chosen.service.value}; " + (
        f"reaches {len(chosen.recipients)}: {plain_preview(chosen.recipients)}"
        if chosen.recipients
        else "no recipients of its own: give numbers below"
    )
    element = select_element(ids.CHANNEL_ACTION, options, chosen.name, "Pick a channel")
    return input_block(ids.CHANNEL_BLOCK, "Channel", element, hint=hint, dispatch=True)


def _message_fields(kind: MessageType, form: SendForm) -> list[Block]:
    if kind in MEDIA_TYPES:
        noun = kind.value
        blocks = [
            input_block(
                ids.MEDIA_URL_BLOCK,
                "Media URL",
                text_element(ids.MEDIA_URL_ACTION, form.media_url, url=True),
                hint=f"A public https:// link to the {noun}; the provider fetches it.",
            ),
            input_block(
                ids.TEXT_BLOCK,
                "Caption",
                text_element(ids.TEXT_ACTION, form.text, multiline=True),
                optional=True,
            ),
        ]
        if kind is MessageType.DOCUMENT:
            blocks += [
                input_block(
                    ids.FILENAME_BLOCK,
                    "File name",
                    text_element(ids.FILENAME_ACTION, form.filename, placeholder="report.pdf"),
                    optional=True,
                ),
                input_block(
                    ids.MIME_BLOCK,
                    "MIME type",
                    text_element(ids.MIME_ACTION, form.mime_type, placeholder="application/pdf"),
                    optional=True,
                ),
            ]
        return blocks
    if kind is MessageType.TEMPLATE:
        return [
            input_block(
                ids.TEMPLATE_BLOCK,
                "Template id",
                text_element(ids.TEMPLATE_ACTION, form.template_id),
                hint="The approved WhatsApp template's id, as your provider lists it.",
            ),
            input_block(
                ids.LANGUAGE_BLOCK,
                "Language",
                text_element(ids.LANGUAGE_ACTION, form.language or "en"),
                hint="The template's language code, e.g. en or en_US.",
            ),
            input_block(
                ids.VARIABLES_BLOCK,
                "Variables, one per line",
                text_element(ids.VARIABLES_ACTION, form.variables, multiline=True),
                optional=True,
                hint="Line 1 fills {{1}} in the template body, line 2 fills {{2}}, and so on.",
            ),
        ]
    return [
        input_block(
            ids.TEXT_BLOCK, "Message", text_element(ids.TEXT_ACTION, form.text, multiline=True)
        )
    ]


def sms_parts_block(channel: ResolvedChannel, text: str) -> Block:
    """A line under an SMS's text with its parts and encoding. Why only as built: Slack sends
    nothing while a person types, so it is recounted when the view is rebuilt and on Send."""
    limit = channel.max_sms_parts
    if text:
        line = (
            f"SMS so far: {count(text).explain()} ({len(text)} characters); at most {limit} "
            f"{'part' if limit == 1 else 'parts'}. Counted again when you press Send."
        )
    else:
        table = SINGLE_PART if limit == 1 else CONCAT_PART
        line = (
            f"SMS: a part holds {SINGLE_PART['GSM-7']} GSM-7 characters, or "
            f"{SINGLE_PART['UCS-2']} once one is outside GSM-7 (’ “ — or an emoji); at most "
            f"{limit} {'part' if limit == 1 else 'parts'} ({limit * table['GSM-7']} or "
            f"{limit * table['UCS-2']} characters)."
        )
    return ContextBlock(block_id=SMS_PARTS_BLOCK, elements=[plain(line)]).to_dict()


def _numbers_block(channel: ResolvedChannel, form: SendForm) -> Block:
    n = len(channel.recipients)
    instead = (
        f"Sends to these INSTEAD of {channel.name}'s own {n} recipients."
        if n
        else f"{channel.name} has no recipients of its own: give at least one."
    )
    return input_block(
        ids.NUMBERS_BLOCK,
        "Numbers (optional)",
        text_element(ids.NUMBERS_ACTION, form.numbers, multiline=True, placeholder="+254712345678"),
        optional=True,
        hint=f"Comma or newline separated, with the country code. {instead}",
    )


def send_modal(
    channels: Sequence[ResolvedChannel],
    form: SendForm,
    origin: ModalOrigin,
    confirm_over: int,
) -> View:
    """The send modal for the channels this person may use here; ``form`` fills it in."""
    if not channels:
        return notice_modal(
            "Send a message",
            md(
                "There is no bridge channel you may use from here. Ask a bridge admin to add you "
                "(or one of your user groups) to a channel's `allowed_senders`, or run the command "
                "in a Slack channel the bridge channel allows."
            ),
        )
    chosen = next((c for c in channels if c.name == form.channel), channels[0])
    types = modal_types(chosen) or [MessageType.TEXT]
    kind = form.type if form.type in types else types[0]
    type_options = [option(TYPE_LABELS[t], t.value) for t in types]
    blocks: list[Block] = [
        _channel_block(channels, chosen),
        input_block(
            f"{ids.TYPE_BLOCK}.{chosen.name}",
            "Message type",
            select_element(ids.TYPE_ACTION, type_options, kind.value),
            dispatch=True,
        ),
        *_message_fields(kind, form),
    ]
    if chosen.service is Service.SMS and kind is MessageType.TEXT:
        blocks.append(sms_parts_block(chosen, form.text))
    if chosen.allow_adhoc:
        blocks.append(_numbers_block(chosen, form))
    blocks.append(
        confirm_block(
            form.confirmed,
            f"Needed when a send reaches more than {confirm_over} people, or a contact tag.",
        )
    )
    return modal_view(ids.SEND_MODAL, "Send a message", blocks, origin)
