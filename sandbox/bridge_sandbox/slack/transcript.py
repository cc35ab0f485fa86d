"""The sandbox channel as a person would read it in Slack, as plain text.

Why: ``python -m bot demo`` shows a newcomer the bridge working by printing the thread, and a test
failure is far easier to read as a transcript than as nested Block Kit JSON. Blocks are rendered
the way Slack lays them out (headers, sections with fields, context, dividers, buttons as
``[Retry failed]``); mrkdwn stays as written except links and mentions, which read as Slack shows
them (``@alice``, ``#ops-incidents``); emoji codes are kept.
"""

from __future__ import annotations

import html
import re
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest
from typing import Any

from bridge_sandbox.slack.state import Ephemeral, PostedMessage, SlackState

RULE = "─" * 48
THREAD = "│ "
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


@dataclass
class _Item:
    """A message or an ephemeral, in one ordering."""

    ts: str
    author: str
    body: list[str]
    note: str = ""


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, frac = ts.partition(".")
    return int(sec), int(frac or 0)


def _clock(ts: str) -> str:
    return datetime.fromtimestamp(_ts_key(ts)[0], UTC).strftime("%H:%M")


def mrkdwn(text: str, state: SlackState) -> str:
    """Slack's escapes and ``<...>`` links as Slack displays them; the rest is kept as written."""

    def link(m: re.Match[str]) -> str:
        target, label = m.group(1), m.group(2)
        if target.startswith("@"):
            return "@" + (label or state.users.get(target[1:], target[1:]))
        if target.startswith("#"):
            return "#" + (label or state.channels.get(target[1:], target[1:]))
        if target.startswith("!subteam^"):
            return label or "@" + target.split("^", 1)[1]
        if target.startswith("!"):
            return label or "@" + target[1:].split("^", 1)[0]
        return label or target

    return html.unescape(_LINK.sub(link, text))


def _text(obj: Any, state: SlackState) -> str:
    if not isinstance(obj, dict):
        return ""
    text = str(obj.get("text", ""))
    return mrkdwn(text, state) if obj.get("type") == "mrkdwn" else text


def _element(element: dict[str, Any], state: SlackState) -> str:
    kind = element.get("type", "")
    if kind == "button":
        return f"[{_text(element.get('text'), state)}]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("plain_text", "mrkdwn"):
        return _text(element, state)
    if kind == "overflow":
        return "[⋯]"
    if "select" in kind or kind in ("datepicker", "timepicker"):
        initial = element.get("initial_option")
        shown = _text(initial.get("text"), state) if initial else None
        return f"[{shown or _text(element.get('placeholder'), state) or 'Choose'} ▾]"
    if kind in ("checkboxes", "radio_buttons"):
        return "  ".join(f"☐ {_text(o.get('text'), state)}" for o in element.get("options", []))
    return f"[{kind}]"


def _rich(elements: list[dict[str, Any]], state: SlackState) -> str:
    out: list[str] = []
    for el in elements:
        kind = el.get("type")
        if kind == "text":
            out.append(str(el.get("text", "")))
        elif kind == "user":
            out.append("@" + state.users.get(el.get("user_id", ""), el.get("user_id", "")))
        elif kind == "channel":
            out.append("#" + state.channels.get(el.get("channel_id", ""), el.get("channel_id", "")))
        elif kind == "link":
            out.append(str(el.get("text") or el.get("url", "")))
        elif kind == "emoji":
            out.append(f":{el.get('name', '')}:")
        elif kind == "usergroup":
            out.append("@" + str(el.get("usergroup_id", "")))
        elif kind == "broadcast":
            out.append("@" + str(el.get("range", "")))
        elif kind == "rich_text_list":
            out.append(
                "\n".join("• " + _rich(i.get("elements", []), state) for i in el["elements"])
            )
        elif kind == "rich_text_preformatted":
            out.append("```" + _rich(el.get("elements", []), state) + "```")
        elif kind == "rich_text_quote":
            out.append("> " + _rich(el.get("elements", []), state))
        else:
            out.append(_rich(el.get("elements", []), state))
    return "".join(out)


def _fields(fields: list[dict[str, Any]], state: SlackState) -> list[str]:
    """Section fields in Slack's two columns; a field may span several lines."""
    cells = [_text(f, state).splitlines() or [""] for f in fields]
    width = min(max((len(line) for c in cells[::2] for line in c), default=0), 36)
    lines: list[str] = []
    for i in range(0, len(cells), 2):
        left, right = cells[i], cells[i + 1] if i + 1 < len(cells) else []
        for a, b in zip_longest(left, right, fillvalue=""):
            lines.append(f"{a.ljust(width)}   {b}".rstrip())
    return lines


def render_blocks(blocks: list[dict[str, Any]], state: SlackState) -> list[str]:
    """Block Kit as the lines a person reads."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"), state)
            lines += [title, "═" * min(len(title), 48)]
        elif kind == "section":
            if "text" in block:
                lines += _text(block["text"], state).splitlines() or [""]
            lines += _fields(block.get("fields", []), state)
            accessory = block.get("accessory")
            if isinstance(accessory, dict):
                lines.append(_element(accessory, state))
        elif kind == "context":
            lines.append("  ·  ".join(_element(e, state) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append(RULE)
        elif kind == "actions":
            lines.append(" ".join(_element(e, state) for e in block.get("elements", [])))
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "rich_text":
            lines += _rich(block.get("elements", []), state).splitlines()
        elif kind == "input":
            label = _text(block.get("label"), state)
            lines.append(f"{label}: {_element(block.get('element', {}), state)}")
        else:
            lines.append(f"[{kind}]")
    return lines


def _body(text: str, blocks: list[dict[str, Any]], state: SlackState) -> list[str]:
    return render_blocks(blocks, state) if blocks else mrkdwn(text, state).splitlines() or [""]


def _author(state: SlackState, user: str | None) -> str:
    return f"{state.bot_name}  APP" if user is None else state.users.get(user, user)


def _message_item(state: SlackState, msg: PostedMessage, in_channel: bool = False) -> _Item:
    if msg.deleted:
        return _Item(msg.ts, "", ["(This message was deleted.)"])
    note = "(edited)" if msg.history else ""
    if in_channel and msg.is_reply:
        note = ("replied to a thread  " + note).strip()
    return _Item(msg.ts, _author(state, msg.user), _body(msg.text, msg.blocks, state), note)


def _ephemeral_item(state: SlackState, eph: Ephemeral, viewer: str | None) -> _Item:
    note = "(only visible to you)"
    if viewer is None:  # everyone's ephemerals are shown: say whose each one is
        note += f" · {state.users.get(eph.user, eph.user)}"
    return _Item(eph.ts, _author(state, None), _body(eph.text, eph.blocks, state), note)


# The few emoji the bridge itself uses, drawn as Slack draws them; other codes stay as written.
EMOJI = {
    ":white_check_mark:": "✅",
    ":warning:": "⚠️",
    ":x:": "❌",
    ":hourglass_flowing_sand:": "⏳",
    ":grey_question:": "❔",
    ":rotating_light:": "🚨",
    ":no_entry_sign:": "🚫",
    ":repeat:": "🔁",
}


def _emoji(line: str) -> str:
    for code, glyph in EMOJI.items():
        line = line.replace(code, glyph)
    return line


def _format(item: _Item, prefix: str = "") -> list[str]:
    head = "  ".join(p for p in (item.author, _clock(item.ts), item.note) if p)
    lines = [prefix + head] if item.author else []
    for line in map(_emoji, item.body):
        wrapped = textwrap.wrap(line, 96, replace_whitespace=False) or [""]
        lines += [f"{prefix}    {w}" for w in wrapped]
    return lines


def _ephemerals(state: SlackState, channel: str, viewer: str | None) -> list[Ephemeral]:
    return [
        e
        for e in state.ephemerals
        if e.channel == channel and not e.deleted and (viewer is None or e.user == viewer)
    ]


def _thread_lines(state: SlackState, channel: str, root_ts: str, viewer: str | None) -> list[str]:
    replies: list[_Item] = [
        _message_item(state, m)
        for m in state.messages.get(channel, [])
        if m.is_reply and m.thread_ts == root_ts and not m.deleted
    ]
    replies += [
        _ephemeral_item(state, e, viewer)
        for e in _ephemerals(state, channel, viewer)
        if e.thread_ts == root_ts
    ]
    if not replies:
        return []
    replies.sort(key=lambda i: _ts_key(i.ts))
    count = sum(1 for r in replies if not r.note.startswith("(only"))
    lines = [f"    {THREAD}{count} repl{'y' if count == 1 else 'ies'}"]
    for reply in replies:
        lines += _format(reply, "    " + THREAD)
        lines.append("    " + THREAD.rstrip())
    return lines[:-1]


def render_thread(state: SlackState, channel: str, ts: str, viewer: str | None = None) -> str:
    """One thread: the root message and its replies indented below it."""
    root = next((m for m in state.messages.get(channel, []) if m.ts == ts), None)
    item = _message_item(state, root) if root else _Item(ts, "", ["(thread root not found)"])
    return "\n".join(_format(item) + _thread_lines(state, channel, ts, viewer)) + "\n"


def render_channel(state: SlackState, channel: str, viewer: str | None = None) -> str:
    """The whole channel: root messages in order, each with its thread; ephemerals marked.

    ``viewer`` shows only that person's ephemerals (as Slack would); None shows everyone's.
    """
    name = state.channels.get(channel, channel)
    out = [f"#{name}", "═" * 48]
    messages = state.messages.get(channel, [])
    roots = {m.ts for m in messages if not m.is_reply}
    entries: list[tuple[str, list[str]]] = []
    for msg in messages:
        if not msg.is_reply:
            thread = _thread_lines(state, channel, msg.ts, viewer)
            if msg.deleted and not thread:
                continue
            entries.append((msg.ts, _format(_message_item(state, msg)) + thread))
        elif msg.reply_broadcast and not msg.deleted:
            entries.append((msg.ts, _format(_message_item(state, msg, in_channel=True))))
    orphans = {m.thread_ts for m in messages if m.is_reply and m.thread_ts not in roots}
    for ts in sorted(o for o in orphans if o):
        entries.append((ts, render_thread(state, channel, ts, viewer).rstrip("\n").splitlines()))
    for eph in _ephemerals(state, channel, viewer):
        if eph.thread_ts is None:
            entries.append((eph.ts, _format(_ephemeral_item(state, eph, viewer))))
    entries.sort(key=lambda e: _ts_key(e[0]))
    for _, lines in entries:
        out += [*lines, ""]
    return "\n".join(out).rstrip("\n") + "\n"
