"""Block Kit limits the sandbox enforces, and the view state a person's input produces.

Why: real Slack rejects a message with a 3001-character section or a modal with 3001 characters of
private_metadata; a stand-in that accepts them hides the bug until production. The limits are
Slack's own models' (``slack_sdk.models``): each posted block or view is parsed into them and
validated, so the sandbox and the bridge's builders share one definition of the limits. The few
checks the models do not make are kept here, each said below. ``element_state`` builds the
``view.state.values`` entry Slack sends for an input element, so payload builders and tests agree
on its shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models import JsonObject
from slack_sdk.models.blocks import Block, DividerBlock, Option
from slack_sdk.models.views import View

MAX_MESSAGE_BLOCKS = 50  # not in the models: they have no message object
MAX_VIEW_BLOCKS = 100
MAX_CONTEXT_TEXT = 3000  # not in the models: ContextBlock does not check its elements' text
MAX_FIELD_TEXT = 2000  # not in the models: SectionBlock counts its fields, not their length
MAX_OPTION_DESCRIPTION = 75  # not in the models: Option does not check its description
MAX_EXTERNAL_ID = 255  # not in the models: View checks callback_id, not external_id

_EXCEEDS = re.compile(r"^(\w+)(?: attribute)? cannot exceed (\d+) characters")


def _slack_words(message: str, where: str) -> str:
    """A model's complaint in the words and json-pointer form Slack's own answer uses."""
    found = _EXCEEDS.match(message)
    if found is not None:
        name, limit = found.group(1), int(found.group(2))
        return f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}/{name}]"
    return f"[ERROR] {message} [json-pointer:{where}]"


_OPTIONS = ("options", "initial_options", "initial_option")


def _options(value: Any) -> Any:
    """Selects keep their options as the dicts given; they are Option models all the same."""
    if isinstance(value, dict):
        return Option(**value)
    if isinstance(value, list | tuple):
        return [Option(**v) if isinstance(v, dict) else v for v in value]
    return value


def _model_problems(obj: JsonObject, where: str) -> list[str]:
    """The first limit ``obj`` breaks, else those of the objects inside it (each validates only
    its own fields), each with its json-pointer."""
    try:
        obj.validate_json()
    except SlackObjectFormationError as exc:
        return [_slack_words(str(exc), where)]
    problems: list[str] = []
    for name, value in sorted(vars(obj).items()):
        path = f"{where}/{name.lstrip('_')}"
        value = _options(value) if name.lstrip("_") in _OPTIONS else value
        if isinstance(value, JsonObject):
            problems += _model_problems(value, path)
        elif isinstance(value, list | tuple):
            for j, item in enumerate(value):
                if isinstance(item, JsonObject):
                    problems += _model_problems(item, f"{path}/{j}")
    return problems


def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _too_long(value: str, limit: int, where: str) -> list[str]:
    if len(value) > limit:
        return [f"[ERROR] must be less than {limit + 1} characters [json-pointer:{where}]"]
    return []


def _not_empty(obj: Any, where: str) -> list[str]:
    """Not in the models: a text object with no text (Slack: "must be more than 0 characters")."""
    if isinstance(obj, dict) and not _text_of(obj):
        return [f"[ERROR] must be more than 0 characters [json-pointer:{where}/text]"]
    return []


def _beyond_models(block: dict[str, Any], where: str) -> list[str]:
    """What Slack refuses in one block that the models let through."""
    problems: list[str] = []
    for key in ("text", "label", "hint"):
        problems += _not_empty(block.get(key), f"{where}/{key}")
    for j, field in enumerate(block.get("fields") or []):
        problems += _too_long(_text_of(field), MAX_FIELD_TEXT, f"{where}/fields/{j}/text")
    elements = [*(block.get("elements") or []), block.get("element"), block.get("accessory")]
    for j, element in enumerate(elements):
        if not isinstance(element, dict):
            continue
        at = f"{where}/elements/{j}"
        if element.get("type") in ("mrkdwn", "plain_text"):
            problems += _not_empty(element, at)
            problems += _too_long(_text_of(element), MAX_CONTEXT_TEXT, f"{at}/text")
        for k, opt in enumerate(element.get("options") or []):
            described = _text_of(opt.get("description")) if isinstance(opt, dict) else ""
            problems += _too_long(described, MAX_OPTION_DESCRIPTION, f"{at}/options/{k}")
    return problems


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
        problems += _beyond_models(block, where)
        model = Block.parse(dict(block))
        if model is not None:
            problems += _model_problems(model, where)
        block_id = block.get("block_id")
        if isinstance(block_id, str):  # not in the models: they see one block at a time
            if block_id in seen:
                problems.append(f"[ERROR] duplicate block_id [json-pointer:{where}/block_id]")
            seen.add(block_id)
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    """What Slack's views.* methods would reject in ``view``."""
    if view.get("type") not in ("modal", "home"):
        return ["[ERROR] must be one of modal, home [json-pointer:/view/type]"]
    if view.get("type") == "modal" and "title" not in view:
        return ["[ERROR] missing required field: title [json-pointer:/view]"]
    if not isinstance(view.get("blocks"), list):
        return ["[ERROR] missing required field: blocks [json-pointer:/view]"]
    problems = _too_long(str(view.get("external_id", "")), MAX_EXTERNAL_ID, "/view/external_id")
    # One stand-in block: a validator stops at its first complaint, and the blocks (their count
    # included) are checked one by one just below, each with its own pointer.
    fields = {k: v for k, v in view.items() if k != "blocks"}
    try:
        View(**fields, blocks=[DividerBlock()]).validate_json()
    except SlackObjectFormationError as exc:
        problems.append(_slack_words(str(exc), "/view"))
    return problems + block_problems(view["blocks"], MAX_VIEW_BLOCKS, "/view/blocks")


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
