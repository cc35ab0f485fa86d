"""Block Kit limits the sandbox enforces, and the view state a person's input produces.

Why: real Slack rejects a message with a 3001-character section or a modal with 3001 characters of
private_metadata; a stand-in that accepts them hides the bug until production. Only the limits
this app can plausibly hit are checked. ``element_state`` builds the ``view.state.values`` entry
Slack sends for an input element, so payload builders and tests agree on its shape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100


def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def block_problems(blocks: Iterable[Any], max_blocks: int, pointer: str) -> list[str]:
    """Slack-style messages for the limits ``blocks`` exceed (empty when fine)."""
    problems: list[str] = []
    blocks = list(blocks)
    if len(blocks) > max_blocks:
        problems.append(f"[ERROR] no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"{pointer}/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"[ERROR] missing required field: type [json-pointer:{where}]")
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            problems += _too_long(block_id, 255, f"{where}/block_id")
            if block_id in seen:
                problems.append(f"[ERROR] duplicate block_id [json-pointer:{where}/block_id]")
            seen.add(block_id)
        problems += _one_block(block, where)
    return problems


def _too_long(value: str, limit: int, where: str) -> list[str]:
    if len(value) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}]"]
    return []


def _text(obj: Any, limit: int, where: str) -> list[str]:
    """A text object: not empty (Slack: "must be more than 0 characters"), not over ``limit``."""
    if not isinstance(obj, dict):
        return []
    if not _text_of(obj):
        return [f"[ERROR] must be more than 0 characters [json-pointer:{where}/text]"]
    return _too_long(_text_of(obj), limit, f"{where}/text")


def _one_block(block: dict[str, Any], where: str) -> list[str]:
    kind = block["type"]
    problems: list[str] = []
    if kind == "section":
        problems += _text(block.get("text"), 3000, f"{where}/text")
        fields = block.get("fields") or []
        if len(fields) > 10:
            problems.append(f"[ERROR] no more than 10 items allowed [json-pointer:{where}/fields]")
        for j, f in enumerate(fields):
            problems += _too_long(_text_of(f), 2000, f"{where}/fields/{j}/text")
        if "text" not in block and not fields:
            problems.append(f"[ERROR] must provide text or fields [json-pointer:{where}]")
    elif kind == "header":
        problems += _too_long(_text_of(block.get("text")), 150, f"{where}/text/text")
    elif kind == "context":
        elements = block.get("elements") or []
        if len(elements) > 10:
            problems.append(
                f"[ERROR] no more than 10 items allowed [json-pointer:{where}/elements]"
            )
        for j, element in enumerate(elements):
            if element.get("type") in ("mrkdwn", "plain_text"):
                problems += _text(element, 3000, f"{where}/elements/{j}")
    elif kind == "input":
        problems += _text(block.get("label"), 2000, f"{where}/label")
        problems += _text(block.get("hint"), 2000, f"{where}/hint")
        if isinstance(block.get("element"), dict):
            problems += _element(block["element"], f"{where}/element")
    elif kind == "actions":
        elements = block.get("elements") or []
        if len(elements) > 25:
            problems.append(
                f"[ERROR] no more than 25 items allowed [json-pointer:{where}/elements]"
            )
        for j, element in enumerate(elements):
            problems += _element(element, f"{where}/elements/{j}")
    if kind == "section" and isinstance(block.get("accessory"), dict):
        problems += _element(block["accessory"], f"{where}/accessory")
    return problems


def _element(element: dict[str, Any], where: str) -> list[str]:
    problems: list[str] = []
    if element.get("type") == "button":
        problems += _text(element.get("text"), 75, f"{where}/text")
        problems += _too_long(str(element.get("value", "")), 2000, f"{where}/value")
    confirm = element.get("confirm")
    if isinstance(confirm, dict):
        for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            problems += _text(confirm.get(key), limit, f"{where}/confirm/{key}")
    problems += _text(element.get("placeholder"), 150, f"{where}/placeholder")
    options = element.get("options") or []
    if len(options) > 100:
        problems.append(f"[ERROR] no more than 100 items allowed [json-pointer:{where}/options]")
    for j, opt in enumerate(options):
        if isinstance(opt, dict):
            problems += _text(opt.get("text"), 75, f"{where}/options/{j}/text")
            problems += _text(opt.get("description"), 75, f"{where}/options/{j}/description")
            problems += _too_long(str(opt.get("value", "")), 150, f"{where}/options/{j}/value")
    problems += _too_long(str(element.get("action_id", "")), 255, f"{where}/action_id")
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    """What Slack's views.* methods would reject in ``view``."""
    problems: list[str] = []
    if view.get("type") not in ("modal", "home"):
        problems.append("[ERROR] must be one of modal, home [json-pointer:/view/type]")
    if view.get("type") == "modal":
        if "title" not in view:
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        problems += _too_long(_text_of(view.get("title")), 24, "/view/title/text")
        for button in ("submit", "close"):
            problems += _too_long(_text_of(view.get(button)), 24, f"/view/{button}/text")
    problems += _too_long(str(view.get("private_metadata", "")), 3000, "/view/private_metadata")
    problems += _too_long(str(view.get("callback_id", "")), 255, "/view/callback_id")
    problems += _too_long(str(view.get("external_id", "")), 255, "/view/external_id")
    if not isinstance(view.get("blocks"), list):
        problems.append("[ERROR] missing required field: blocks [json-pointer:/view]")
    else:
        problems += block_problems(view["blocks"], MAX_VIEW_BLOCKS, "/view/blocks")
    return problems


# --- view state -------------------------------------------------------------------------------


def _option(element: dict[str, Any], value: str) -> dict[str, Any]:
    for opt in element.get("options") or []:
        if opt.get("value") == value:
            text = dict(opt["text"])
            if text.get("type") == "plain_text":
                text.setdefault("emoji", True)
            return {**opt, "text": text}
    for group in element.get("option_groups") or []:
        for opt in group.get("options") or []:
            if opt.get("value") == value:
                return dict(opt)
    raise ValueError(f"{element.get('action_id')!r} has no option with value {value!r}")


def element_state(element: dict[str, Any], value: Any) -> dict[str, Any]:
    """The ``view.state.values[block][action]`` entry for a person choosing ``value``."""
    kind = element.get("type", "")
    entry: dict[str, Any] = {"type": kind}
    values = [value] if isinstance(value, str) else list(value or [])
    if kind in ("static_select", "radio_buttons", "external_select"):
        entry["selected_option"] = _option(element, value) if value is not None else None
    elif kind in ("checkboxes", "multi_static_select"):
        entry["selected_options"] = [_option(element, v) for v in values]
    elif kind == "users_select":
        entry["selected_user"] = value
    elif kind == "multi_users_select":
        entry["selected_users"] = values
    elif kind == "conversations_select":
        entry["selected_conversation"] = value
    elif kind == "multi_conversations_select":
        entry["selected_conversations"] = values
    elif kind == "channels_select":
        entry["selected_channel"] = value
    elif kind == "datepicker":
        entry["selected_date"] = value
    elif kind == "timepicker":
        entry["selected_time"] = value
    else:  # plain_text_input, number_input, email_text_input, url_text_input, ...
        entry["value"] = value
    return entry


def find_element(
    blocks: Iterable[dict[str, Any]], action_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(block, element) for ``action_id`` in input, actions and section-accessory blocks."""
    for block in blocks:
        candidates = [block.get("element"), block.get("accessory"), *(block.get("elements") or [])]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block, element
    raise LookupError(f"no element with action_id {action_id!r} in these blocks")
