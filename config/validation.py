"""Check the loaded data against the models; turn pydantic errors into located problems.

pydantic reports every error in one pass; each ``loc`` is walked through the data to find the key
path and line (skipping pydantic's own steps such as union tags and ``[key]``). Entries that are
valid on their own are kept, so resolution can still check them and report more in the same run.
"""

from __future__ import annotations

import difflib
import re
import typing
from copy import deepcopy as copy_deep
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from config.problems import KeyPath, Reporter
from config.schema import (
    NAME_HINT,
    NAME_PATTERN,
    PROVIDER_CONFIGS,
    BridgeConfig,
    BroadcastConfig,
    ChannelConfig,
    DefaultsConfig,
)
from config.schema_alerts import (
    AlertRouteConfig,
    HeartbeatConfig,
    IntegrationConfig,
    StormConfig,
)
from config.schema_oncall import (
    EscalationConfig,
    OverrideConfig,
    PersonConfig,
    RotationConfig,
    ScheduleConfig,
    StepConfig,
)
from config.schema_reach import CanaryConfig, QuietHours, ReachRule
from providers import AnyProviderConfig

_PROVIDER: TypeAdapter[AnyProviderConfig] = TypeAdapter(AnyProviderConfig)
_LIST: TypeAdapter[list[str]] = TypeAdapter(
    list[str], config=ConfigDict(coerce_numbers_to_str=True)
)


def _type_name(model: type[BaseModel]) -> str:
    """The ``type`` literal of a provider config class, e.g. ``"talkntalk"``."""
    return str(typing.get_args(model.model_fields["type"].annotation)[0])


_TYPES = ", ".join(_type_name(m) for m in PROVIDER_CONFIGS)
_MISSING_HINTS = {
    "api_key": ": write api_key: ${VARIABLE} and set that variable in the environment",
    "sid": ": the Kaleyra account SID (from the Kaleyra console)",
}
_SECTIONS = {
    "providers": "account",
    "contacts": "contact list",
    "senders": "sender group",
    "channels": "channel",
    "broadcasts": "broadcast",
    "people": "person",
    "schedules": "schedule",
    "escalations": "escalation",
    "integrations": "integration",
    "canaries": "canary",
    "heartbeats": "heartbeat",
}
_ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "channels": ChannelConfig,
    "broadcasts": BroadcastConfig,
    "people": PersonConfig,
    "schedules": ScheduleConfig,
    "escalations": EscalationConfig,
    "integrations": IntegrationConfig,
    "canaries": CanaryConfig,
    "heartbeats": HeartbeatConfig,
}
_NESTED: dict[tuple[str, str], type[BaseModel]] = {
    ("schedules", "rotation"): RotationConfig,
    ("schedules", "overrides"): OverrideConfig,
    ("escalations", "steps"): StepConfig,
    ("integrations", "routes"): AlertRouteConfig,
    ("integrations", "storm"): StormConfig,
    ("people", "reach"): ReachRule,
    ("people", "quiet"): QuietHours,
}


def valid_name(name: str) -> bool:
    return len(name) <= 64 and re.fullmatch(NAME_PATTERN, name) is not None


@dataclass
class Parts:
    """The entries that validated; ``invalid`` holds names that exist but did not."""

    defaults: DefaultsConfig | None = None
    providers: dict[str, AnyProviderConfig] = field(default_factory=dict)
    contacts: dict[str, list[str]] = field(default_factory=dict)
    senders: dict[str, list[str]] = field(default_factory=dict)
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    broadcasts: dict[str, BroadcastConfig] = field(default_factory=dict)
    people: dict[str, PersonConfig] = field(default_factory=dict)
    schedules: dict[str, ScheduleConfig] = field(default_factory=dict)
    escalations: dict[str, EscalationConfig] = field(default_factory=dict)
    integrations: dict[str, IntegrationConfig] = field(default_factory=dict)
    canaries: dict[str, CanaryConfig] = field(default_factory=dict)
    heartbeats: dict[str, HeartbeatConfig] = field(default_factory=dict)
    invalid: set[tuple[str, str]] = field(default_factory=set)
    names: dict[str, list[str]] = field(default_factory=dict)  # every name in the file, in order
    dropped: set[KeyPath] = field(default_factory=set)  # bad optional keys left out of an entry
    model: BridgeConfig | None = None


def _model_at(path: KeyPath, data: Any) -> type[BaseModel] | None:
    """The model that describes the mapping at ``path`` (for listing its keys)."""
    if path == ():
        return BridgeConfig
    if path == ("defaults",):
        return DefaultsConfig
    if len(path) == 2 and str(path[0]) in _ENTRY_MODELS:
        return _ENTRY_MODELS[str(path[0])]
    if len(path) in (3, 4) and (str(path[0]), str(path[2])) in _NESTED:
        return _NESTED[(str(path[0]), str(path[2]))]
    if len(path) == 2 and path[0] == "providers":
        entry = data.get("providers", {}).get(path[1]) if isinstance(data, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        for model in PROVIDER_CONFIGS:
            if _type_name(model) == kind:
                return model
    return None


def _keys(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def _has(node: Any, step: int | str) -> bool:
    if isinstance(node, dict):
        return isinstance(step, str) and step in node
    return isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)


def _locate(loc: tuple[int | str, ...], data: Any, missing: bool) -> KeyPath:
    """Follow ``loc`` through the data; keep only steps that are keys or indexes in the file."""
    path: list[str | int] = []
    node = data
    for index, step in enumerate(loc):
        if _has(node, step):
            path.append(step)
            node = node[step]
        elif missing and index == len(loc) - 1:
            path.append(step)
    return tuple(path)


def _translate(error: ErrorDetails, data: Any) -> tuple[KeyPath, str]:
    """A pydantic error as (key path, message that says what to write instead)."""
    kind, loc = error["type"], error["loc"]
    ctx = error.get("ctx") or {}
    path = _locate(loc, data, missing=kind == "missing")
    parent, last = path[:-1], (path[-1] if path else "")
    if "[key]" in loc:
        section = _SECTIONS.get(str(path[0]) if path else "", "entry")
        return path, f"{last!r} is not a usable {section} name: {NAME_HINT}"
    if kind == "missing":
        model = _model_at(parent, data)
        info = model.model_fields.get(str(last)) if model else None
        if model is not None and info is None:  # a key spelt by its alias, e.g. from
            info = next((f for f in model.model_fields.values() if f.alias == last), None)
        hint = (
            f": {info.description[0].lower()}{info.description[1:]}"
            if info and info.description
            else _MISSING_HINTS.get(str(last), "")
        )
        return path, f"missing required key {last!r}{hint}"
    if kind == "extra_forbidden":
        model = _model_at(parent, data)
        if model is None:
            return path, f"unknown key {last!r}"
        known = _keys(model)
        close = difflib.get_close_matches(str(last), known, n=1)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        return path, f"unknown key {last!r}{guess} — expected one of: {', '.join(known)}"
    if kind == "union_tag_invalid":
        node = _walk(data, path)
        if isinstance(node, dict) and "type" in node:
            path = (*path, "type")
        tag = ctx.get("tag", "")
        return path, f"unknown provider type {tag!r} — expected one of: {_TYPES}"
    if kind == "union_tag_not_found":
        return path, f"missing required key 'type': which provider this account is ({_TYPES})"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return path, "expected a mapping (indented 'key: value' lines)"
    if kind == "list_type":
        return path, "expected a list, e.g. [a, b] or one '- item' per line"
    if kind == "string_type":
        return path, "expected text (a string)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return path, "expected a whole number"
    if kind in ("float_type", "float_parsing"):
        return path, "expected a number"
    if kind in ("bool_type", "bool_parsing"):
        return path, "expected true or false"
    if kind in ("enum", "literal_error"):
        return path, f"expected one of: {str(ctx.get('expected', '')).replace(' or ', ', ')}"
    if kind.startswith("url"):
        return path, "expected a URL such as https://api.example.com"
    message = str(error["msg"]).removeprefix("Value error, ")
    return path, message[:1].lower() + message[1:]


def _walk(data: Any, path: KeyPath) -> Any:
    node = data
    for step in path:
        node = node[step]
    return node


def validate(data: Any, report: Reporter) -> Parts:
    """Report every model error; return whatever validated, entry by entry."""
    parts = Parts()
    if data is None:
        report.add((), "the file is empty: start from config/bridge.example.yaml")
        return parts
    if not isinstance(data, dict):
        report.add((), "expected a mapping with defaults, providers, contacts, senders, channels")
        return parts
    try:
        parts.model = BridgeConfig.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            path, message = _translate(error, data)
            report.add(path, message)
    _salvage(data, parts)
    return parts


def _try(
    adapter: Any,
    value: Any,
    optional: frozenset[str] = frozenset(),
    dropped: set[str] | None = None,
) -> Any:
    """The validated entry, or None. Unknown keys (at any depth, e.g. in an escalation step or
    a provider account), and ``optional`` keys with a bad value, are dropped (their problems are
    already reported; top-level names go in ``dropped``) so the rest of the entry is still
    checked and one stray key does not hide every reference problem behind it."""
    try:
        return adapter(value)
    except ValidationError as exc:
        if not isinstance(value, dict):
            return None
        drop: set[str] = set()
        unknown: list[KeyPath] = []
        for error in exc.errors():
            loc = error["loc"]
            if error["type"] == "extra_forbidden":
                path = _locate(loc, value, missing=False)
                if path and path == _existing(loc, value):
                    unknown.append(path)
                    if len(path) == 1:
                        drop.add(str(path[0]))
                    continue
            if not loc or loc[0] not in optional or error["type"] == "missing":
                return None
            drop.add(str(loc[0]))
        trimmed = _without(value, unknown)
        try:
            result = adapter({k: v for k, v in trimmed.items() if k not in drop})
        except ValidationError:
            return None
        if dropped is not None:
            dropped |= drop
        return result


def _existing(loc: tuple[int | str, ...], data: Any) -> KeyPath:
    """``loc``'s last step must be a key of the data (not a pydantic step such as a union tag)."""
    path = _locate(loc, data, missing=False)
    return path if loc and path and path[-1] == loc[-1] else ()


def _without(value: dict[str, Any], paths: list[KeyPath]) -> dict[str, Any]:
    """A copy of ``value`` with the keys at ``paths`` removed (the original data is untouched)."""
    copy: Any = copy_deep(value)
    for path in paths:
        node = copy
        for step in path[:-1]:
            node = node[step]
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return dict(copy)


def _optional(model: type[BaseModel]) -> frozenset[str]:
    return frozenset(
        info.alias or n for n, info in model.model_fields.items() if not info.is_required()
    )


def _salvage(data: dict[str, Any], parts: Parts) -> None:
    """Validate entries one by one (errors already reported) so resolution sees the good ones."""
    parts.defaults = _try(DefaultsConfig.model_validate, data.get("defaults") or {})
    checks: dict[str, tuple[Any, frozenset[str]]] = {
        "providers": (_PROVIDER.validate_python, frozenset()),
        "contacts": (_LIST.validate_python, frozenset()),
        "senders": (_LIST.validate_python, frozenset()),
        "channels": (ChannelConfig.model_validate, _optional(ChannelConfig)),
        "broadcasts": (BroadcastConfig.model_validate, _optional(BroadcastConfig)),
        "people": (PersonConfig.model_validate, _optional(PersonConfig)),
        "schedules": (ScheduleConfig.model_validate, frozenset()),
        "escalations": (EscalationConfig.model_validate, frozenset()),
        "integrations": (IntegrationConfig.model_validate, frozenset()),
        "canaries": (CanaryConfig.model_validate, frozenset()),
        "heartbeats": (HeartbeatConfig.model_validate, _optional(HeartbeatConfig)),
    }
    for section, (check, optional) in checks.items():
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        good: dict[str, Any] = getattr(parts, section)
        parts.names[section] = [name for name in entries if valid_name(name)]
        for name, value in entries.items():
            dropped: set[str] = set()
            result = _try(check, value, optional, dropped) if valid_name(name) else None
            if result is None:
                parts.invalid.add((section, name))
            else:
                good[name] = result
                parts.dropped.update((section, name, key) for key in dropped)
