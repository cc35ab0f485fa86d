"""What a person typed into a modal, read back from ``view.state.values``; and the modal's origin.

Why apart from the builders: the same reading serves the rebuild on a dispatch action (values
already typed survive a ``views.update``) and the submission (the SendRequest). Only blocks that
are in the view now are read, and an element the person never touched falls back to its
``initial_*`` value (Slack includes those in the state; so must we when it does not).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.requests import SendRequest
from bot.slack import ids
from providers.base import MEDIA_TYPES, Message, MessageType

MAX_METADATA = 3000  # Slack's limit on private_metadata


@dataclass(frozen=True)
class ModalOrigin:
    """Where the modal was opened: results go back there (``private_metadata``)."""

    surface: str = "modal"  # "modal" (from /send) or "shortcut" (from a message)
    slack_channel: str | None = None
    thread_ts: str | None = None
    preset: str | None = None  # the broadcast modal's chosen preset

    def encode(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if v is not None}
        text = json.dumps(data, separators=(",", ":"))
        if len(text) > MAX_METADATA:  # cannot happen with Slack ids; refuse rather than cut
            raise ValueError("private_metadata would exceed 3000 characters")
        return text

    @classmethod
    def decode(cls, text: str | None) -> ModalOrigin:
        try:
            data = json.loads(text or "{}")
        except json.JSONDecodeError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        known = {k: str(v) for k, v in data.items() if k in cls.__dataclass_fields__ and v}
        return cls(**known)


@dataclass(frozen=True)
class SendForm:
    """The send modal's fields; ``None``/empty means "not given"."""

    channel: str | None = None
    type: MessageType = MessageType.TEXT
    text: str = ""
    media_url: str = ""
    filename: str = ""
    mime_type: str = ""
    template_id: str = ""
    language: str = "en"
    variables: str = ""
    numbers: str = ""
    confirmed: bool = False

    def message(self) -> Message:
        if self.type in MEDIA_TYPES:
            document = self.type is MessageType.DOCUMENT
            return Message(
                type=self.type,
                text=self.text.strip() or None,
                media_url=self.media_url.strip() or None,
                filename=(self.filename.strip() or None) if document else None,
                mime_type=(self.mime_type.strip() or None) if document else None,
            )
        if self.type is MessageType.TEMPLATE:
            return Message(
                type=self.type,
                template_id=self.template_id.strip() or None,
                language=self.language.strip() or None,
                components=template_components(self.variables),
            )
        return Message(type=self.type, text=self.text)

    def request(self) -> SendRequest:
        return SendRequest(
            channel=self.channel or "", to=split_numbers(self.numbers), message=self.message()
        )


@dataclass(frozen=True)
class BroadcastForm:
    preset: str | None = None
    severity: str | None = None
    text: str = ""
    channels: tuple[str, ...] | None = None  # None: untouched (the preset's channels)
    confirmed: bool = False


def split_numbers(raw: str) -> tuple[str, ...]:
    """Numbers typed one per line or comma/semicolon separated (spaces inside a number kept)."""
    return tuple(p.strip() for p in re.split(r"[,;\n]+", raw) if p.strip())


def template_components(variables: str) -> list[dict[str, Any]] | None:
    """ "Variables, one per line" -> one WhatsApp body component (None when there are none)."""
    lines = [line.strip() for line in variables.splitlines() if line.strip()]
    if not lines:
        return None
    return [{"type": "body", "parameters": [{"type": "text", "text": line} for line in lines]}]


# --- reading a view -----------------------------------------------------------------------------


def _initial(element: Mapping[str, Any]) -> Any:
    kind = element.get("type")
    if kind in ("static_select", "radio_buttons"):
        opt = element.get("initial_option")
        return opt.get("value") if isinstance(opt, dict) else None
    if kind in ("checkboxes", "multi_static_select"):
        return [o.get("value") for o in element.get("initial_options") or []]
    return element.get("initial_value")


def _entry_value(entry: Mapping[str, Any]) -> Any:
    if "selected_option" in entry:
        opt = entry["selected_option"]
        return opt.get("value") if isinstance(opt, dict) else None
    if "selected_options" in entry:
        return [o.get("value") for o in entry["selected_options"] or []]
    return entry.get("value")


def view_values(view: Mapping[str, Any]) -> dict[str, Any]:
    """``{block_id: value}`` for the input blocks in the view now (state, else initial)."""
    state = (view.get("state") or {}).get("values") or {}
    values: dict[str, Any] = {}
    for block in view.get("blocks") or []:
        element = block.get("element")
        if block.get("type") != "input" or not isinstance(element, dict):
            continue
        block_id = block.get("block_id")
        entry = (state.get(block_id) or {}).get(element.get("action_id"))
        values[block_id] = _entry_value(entry) if isinstance(entry, dict) else _initial(element)
    return values


def _by_prefix(values: Mapping[str, Any], prefix: str) -> Any:
    """Blocks whose options depend on a choice carry it in their id (``message_type.sms-x``)."""
    for key, value in values.items():
        if key == prefix or key.startswith(prefix + "."):
            return value
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def read_send_form(view: Mapping[str, Any]) -> SendForm:
    values = view_values(view)
    raw_type = _by_prefix(values, ids.TYPE_BLOCK)
    try:
        kind = MessageType(raw_type) if raw_type else MessageType.TEXT
    except ValueError:
        kind = MessageType.TEXT
    return SendForm(
        channel=_by_prefix(values, ids.CHANNEL_BLOCK) or None,
        type=kind,
        text=_text(values.get(ids.TEXT_BLOCK)),
        media_url=_text(values.get(ids.MEDIA_URL_BLOCK)),
        filename=_text(values.get(ids.FILENAME_BLOCK)),
        mime_type=_text(values.get(ids.MIME_BLOCK)),
        template_id=_text(values.get(ids.TEMPLATE_BLOCK)),
        language=_text(values.get(ids.LANGUAGE_BLOCK)) or "en",
        variables=_text(values.get(ids.VARIABLES_BLOCK)),
        numbers=_text(values.get(ids.NUMBERS_BLOCK)),
        confirmed=ids.CONFIRM_VALUE in (values.get(ids.CONFIRM_BLOCK) or []),
    )


def read_broadcast_form(view: Mapping[str, Any]) -> BroadcastForm:
    """Severity and channels are read for the preset chosen now; a switch starts them afresh."""
    values = view_values(view)
    origin = ModalOrigin.decode(view.get("private_metadata"))
    preset = values.get(ids.PRESET_BLOCK) or origin.preset
    channels = values.get(f"{ids.CHANNELS_BLOCK}.{preset}")
    return BroadcastForm(
        preset=preset,
        severity=values.get(f"{ids.SEVERITY_BLOCK}.{preset}") or None,
        text=_text(values.get(ids.TEXT_BLOCK)),
        channels=tuple(channels) if isinstance(channels, list) else None,
        confirmed=ids.CONFIRM_VALUE in (values.get(ids.CONFIRM_BLOCK) or []),
    )


def block_for_field(view: Mapping[str, Any], name: str | None) -> str:
    """The input block a Rejection's ``field`` points at, among those in the view now.

    Falls back to the channel (or preset, or text) block, so an error is always shown inline.
    """
    present = [b.get("block_id") for b in view.get("blocks") or [] if b.get("type") == "input"]
    wanted = {
        "channel": ids.CHANNEL_BLOCK,
        "type": ids.TYPE_BLOCK,
        "text": ids.TEXT_BLOCK,
        "media_url": ids.MEDIA_URL_BLOCK,
        "template_id": ids.TEMPLATE_BLOCK,
        "to": ids.NUMBERS_BLOCK,
        "preset": ids.PRESET_BLOCK,
        "severity": ids.SEVERITY_BLOCK,
        "channels": ids.CHANNELS_BLOCK,
        "confirm": ids.CONFIRM_BLOCK,
    }.get(name or "", ids.CHANNEL_BLOCK)
    for candidate in (
        wanted,
        ids.CHANNEL_BLOCK,
        ids.CHANNELS_BLOCK,
        ids.PRESET_BLOCK,
        ids.TEXT_BLOCK,
    ):
        for block_id in present:
            if block_id == candidate or str(block_id).startswith(candidate + "."):
                return str(block_id)
    return str(present[0]) if present else ids.TEXT_BLOCK
