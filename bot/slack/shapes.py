"""The shape of every Slack request the listeners read, checked once before any listener runs.

Why: listeners index ``body["user"]["id"]``, ``view["state"]["values"]``… A signed payload with
``user: null``, no ``actions`` or an odd view state made them (and the error handler) raise, and
Slack got a 5xx. Here a request whose parts we read have the wrong type is answered 200 and
logged in one line before bolt sees it (bolt itself reads ``user``, ``view.type``… to build its
context); a listener only ever sees the shapes below. Over HTTP and Socket Mode alike.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

log = logging.getLogger(__name__)


class _Part(BaseModel):
    """Only the fields we read are checked (strictly: no coercion); the rest is Slack's business."""

    model_config = ConfigDict(extra="allow", strict=True)


class Ref(_Part):
    id: str


class Option(_Part):
    value: str


class ElementState(_Part):
    value: str | None = None
    selected_option: Option | None = None
    selected_options: list[Option] | None = None


class Element(_Part):
    type: str | None = None
    action_id: str | None = None
    initial_value: str | None = None
    initial_option: Option | None = None
    initial_options: list[Option] | None = None


class Block(_Part):
    type: str | None = None
    block_id: str | None = None
    element: Element | None = None

    @model_validator(mode="after")
    def _readable_input(self) -> Block:
        """An input block is read by its block_id and its element's action_id: both are there."""
        if self.type == "input" and (
            self.block_id is None or self.element is None or self.element.action_id is None
        ):
            raise ValueError("an input block has a block_id and an element with an action_id")
        return self


class ViewState(_Part):
    values: dict[str, dict[str, ElementState]] = Field(default_factory=dict)


class View(_Part):
    id: str
    app_installed_team_id: str | None = None  # bolt's team id when there is one
    type: str  # bolt reads it itself (``body["view"]["type"]``) before any listener
    callback_id: str = ""
    hash: str | None = None
    private_metadata: str | None = None
    state: ViewState = Field(default_factory=ViewState)
    blocks: list[Block] = Field(default_factory=list)


class Action(_Part):
    action_id: str
    block_id: str | None = None
    value: str | None = None


class Container(_Part):
    channel_id: str | None = None
    message_ts: str | None = None


class Message(_Part):
    text: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    blocks: list[dict[str, Any]] | None = None


class User(Ref):
    name: str | None = None
    username: str | None = None
    team_id: str | None = None


Url = Annotated[str, Field(pattern=r"^https?://\S+$")]


class TeamRef(_Part):
    id: str | None = None
    enterprise_id: str | None = None


class _Ids(_Part):
    """What bolt builds its context from (``slack_bolt.request.internals``), wherever it looks.

    Why: bolt puts the team id it finds into every Web API call of the request (its first
    ``auth.test`` sends it in the URL query: a mapping there raised in yarl), and its own
    extraction raises on a number where it expects a mapping.
    """

    team: str | TeamRef | None = None
    enterprise: str | TeamRef | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
    authorizations: list[_Ids] | None = None
    event: _Ids | None = None
    thread_ts: str | None = None
    function_execution_id: str | None = None


class ResponseUrl(_Part):
    response_url: Url


class _Interaction(_Ids):
    user: User
    channel: Ref | None = None
    response_url: Url | None = None
    response_urls: list[ResponseUrl] | None = None
    trigger_id: str | None = None


class BlockActions(_Interaction):
    type: Literal["block_actions"]
    actions: Annotated[list[Action], Field(min_length=1)]
    view: View | None = None
    container: Container | None = None
    message: Message | None = None

    @model_validator(mode="after")
    def _answerable(self) -> BlockActions:
        """A click on a message is answered through its response_url, which Slack always sends."""
        if self.view is None and self.response_url is None:
            raise ValueError("a click on a message comes with a response_url")
        return self


class ViewSubmission(_Interaction):
    type: Literal["view_submission", "view_closed"]
    view: View


class Shortcut(_Interaction):
    type: Literal["shortcut"]
    callback_id: str
    trigger_id: str


class MessageShortcut(_Interaction):
    type: Literal["message_action"]
    callback_id: str
    trigger_id: str
    channel: Ref
    message: Message
    message_ts: str | None = None


Interaction = Annotated[
    BlockActions | ViewSubmission | Shortcut | MessageShortcut, Field(discriminator="type")
]


class SlashCommand(_Ids):
    """Form fields: all strings (Slack's), the ones we read present; a JSON body is checked too."""

    command: str
    user_id: str
    trigger_id: str
    text: str = ""
    channel_id: str | None = None
    response_url: Url


_INTERACTION: TypeAdapter[Any] = TypeAdapter(Interaction)
_KINDS = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action")


def problem(body: dict[str, Any]) -> str | None:
    """Why the listeners cannot read this body, or None when they can."""
    try:
        if "command" in body:
            SlashCommand.model_validate(body)
        elif body.get("type") in _KINDS:
            _INTERACTION.validate_python(body)
        else:
            return "not a slash command or an interaction the bridge handles"
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}"
    return None


def refuse(body: dict[str, Any]) -> bool:
    """True (and one log line) when the listeners cannot read ``body``: the caller answers 200
    (nothing to retry) and hands nothing to bolt, whose own context extraction would raise."""
    why = problem(body)
    if why is None:
        return False
    kind = body.get("type") if isinstance(body.get("type"), str) else None
    kind = kind or ("slash_command" if "command" in body else None)
    log.warning(
        "ignored a Slack request the bridge cannot read",
        extra={"why": why[:200], "slack_type": kind},
    )
    return True
