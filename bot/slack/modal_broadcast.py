"""The on-call broadcast modal, and what someone who may not broadcast sees instead (pure).

Why a preset picker only with two or more presets: a person with one preset should not have to
choose it. Severity and channel blocks carry the preset in their block_id, so switching preset
(a ``views.update``) never keeps options of the previous one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputInteractiveElement,
    Option,
    StaticMultiSelectElement,
)

from bot.slack import ids
from bot.slack.forms import BroadcastForm, ModalOrigin
from bot.slack.modal_send import (
    MAX_CHECKBOXES,
    MAX_OPTIONS,
    View,
    confirm_block,
    input_block,
    modal_view,
    notice_modal,
    reach,
    select_element,
    text_element,
)
from bot.slack.mrkdwn import Block, Limit, Mrkdwn, context, join, md, option, section
from config import ResolvedBroadcast, ResolvedChannel


def _who(allowed: Sequence[str]) -> Mrkdwn:
    """Whom to ask: Slack users and user groups from config as mentions (ids escaped all the
    same), sender group names as code."""

    def one(entry: str) -> Mrkdwn:
        if entry.startswith("usergroup:"):
            return md("<!subteam^{}>", entry.removeprefix("usergroup:"))
        if entry[:1] in ("U", "W") and entry.isupper():
            return md("<@{}>", entry)
        return md("`{}`", entry)

    return join(", ", (one(a) for a in allowed)) if allowed else md("nobody yet")


def broadcast_not_allowed(presets: Sequence[ResolvedBroadcast]) -> View:
    """What someone who may use no preset sees instead of the broadcast modal."""
    if not presets:
        text = md("No on-call broadcast is set up. A bridge admin adds one under `broadcasts`.")
    else:
        lines = join("\n", (md("• *{}*: {}", p.title, _who(p.allowed_senders)) for p in presets))
        text = md(
            "You are not allowed to send an on-call broadcast. Ask one of these people, or a "
            "bridge admin to add you to the preset's `allowed_senders`:\n{}",
            lines,
        )
    return notice_modal("On-call broadcast", text)


def broadcast_total(chosen: Sequence[str], channels: Mapping[str, ResolvedChannel]) -> int:
    """How many recipients these channels reach together (before de-duplication)."""
    return sum(len(channels[c].recipients) for c in chosen if c in channels)


def broadcast_modal(
    presets: Sequence[ResolvedBroadcast],
    form: BroadcastForm,
    channels: Mapping[str, ResolvedChannel],
    confirm_over: int,
    sender_name: str,
) -> View:
    """``presets``: those this person may use (at least one)."""
    preset = next((p for p in presets if p.name == form.preset), presets[0])
    blocks: list[Block] = []
    if len(presets) > 1:
        options = [option(p.title, p.name) for p in presets[:MAX_OPTIONS]]
        blocks.append(
            input_block(
                ids.PRESET_BLOCK,
                "Broadcast",
                select_element(ids.PRESET_ACTION, options, preset.name),
                dispatch=True,
            )
        )
    else:
        blocks.append(section(md("*{}*", preset.title)))
    severities = [option(s, s) for s in preset.severities[:MAX_OPTIONS]]
    severity = form.severity if form.severity in preset.severities else None
    blocks.append(
        input_block(
            f"{ids.SEVERITY_BLOCK}.{preset.name}",
            "Severity",
            select_element(ids.SEVERITY_ACTION, severities, severity),
        )
    )
    blocks.append(
        input_block(
            ids.TEXT_BLOCK,
            "What is happening",
            text_element(ids.TEXT_ACTION, form.text, multiline=True),
        )
    )
    if preset.escalation is not None:
        blocks.append(
            context(
                md(
                    "Pages through escalation `{}` until someone acknowledges: its steps say "
                    "whom and by which channels.",
                    preset.escalation,
                )
            )
        )
    else:
        chosen = [c for c in (form.channels or preset.channels) if c in preset.channels]
        opts = [
            option(c, c, reach(channels[c]) if c in channels else None)
            for c in preset.channels[:MAX_OPTIONS]
        ]
        initial = [o for o in opts if o["value"] in chosen] or None
        listed, ticked = Option.parse_all(opts), Option.parse_all(initial)
        element: InputInteractiveElement = (
            CheckboxesElement(action_id=ids.CHANNELS_ACTION, options=listed, initial_options=ticked)
            if len(opts) <= MAX_CHECKBOXES
            else StaticMultiSelectElement(
                action_id=ids.CHANNELS_ACTION, options=listed, initial_options=ticked
            )
        )
        blocks.append(input_block(f"{ids.CHANNELS_BLOCK}.{preset.name}", "Send through", element))
    preview = preset.render(
        severity=severity or (preset.severities[0] if preset.severities else ""),
        text=form.text.strip() or "…your message…",
        sender=sender_name,
    )
    blocks.append(context(md("Preview: {}", preview), block_id=ids.PREVIEW_BLOCK))
    if preset.escalation is None:
        total = broadcast_total(preset.channels, channels)
        blocks.append(
            confirm_block(
                form.confirmed,
                f"All its channels reach {total} recipients; a send to more than {confirm_over} "
                "needs this ticked.",
            )
        )
    origin = ModalOrigin(surface="broadcast", preset=preset.name)
    return modal_view(
        ids.BROADCAST_MODAL, preset.title[: Limit.VIEW_TITLE] or "On-call broadcast", blocks, origin
    )
