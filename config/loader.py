"""YAML with line numbers, duplicate-key checks and ``${VAR}`` interpolation.

``PositionLoader`` is a ``yaml.SafeLoader`` that builds plain Python data itself so it knows the
key path of every value: it records the line of each mapping key and sequence item, so that both
pydantic's error locations and our own resolution errors can point at a line. Keys are always the
text written (``on:`` stays ``"on"``, never ``True``). Secrets live only in the environment: a
secret field written literally is a problem, and its value never appears in a message.

Hostile files are bounded here: more than ``MAX_VALUES`` values, nesting deeper than
``MAX_DEPTH``, and aliases that refer to themselves or expand past ``MAX_ALIAS_VALUES`` ("billion
laughs") abort with one ``LoadAborted`` issue instead of a RecursionError, gigabytes of memory or
seconds of number checking. The file size cap is in ``load``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from config.problems import KeyPath
from config.schema_alerts import INTEGRATION_SECRETS

_STR_TAG = "tag:yaml.org,2002:str"
_INT_TAG = "tag:yaml.org,2002:int"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_FILE_BYTES = 1 << 20  # a real config is a few KiB
MAX_DEPTH = 32  # a real config nests four or five levels
MAX_ALIAS_VALUES = 10_000  # values reached again through *aliases and <<: merges
MAX_VALUES = 20_000  # every value in the file: a real config holds a few hundred
_REF = re.compile(r"\$\$|\$\{([^}]*)\}|\$\{")
_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$", re.DOTALL)


class Origin(enum.Enum):
    """Where a scalar's text came from; secrets must be ``ENV``."""

    LITERAL = "literal"
    ENV = "env"  # exactly one ${VAR}, no default
    ENV_DEFAULT = "env-default"  # exactly one ${VAR:-default}
    MIXED = "mixed"  # literal text around references


@dataclass
class Issue:
    path: KeyPath
    line: int
    message: str


@dataclass(frozen=True)
class Reference:
    """One ``${VAR}`` in the file: where, and whether that field is a secret one."""

    path: KeyPath
    line: int
    var: str
    secret_field: bool


@dataclass
class Document:
    """What the loader found: the data, where each key is, and what went wrong."""

    data: Any
    positions: dict[KeyPath, int] = field(default_factory=dict)
    origins: dict[KeyPath, tuple[Origin, str | None]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    refs: list[Reference] = field(default_factory=list)


class LoadAborted(Exception):
    """The file cannot be built safely; ``issue`` says where and how to fix it."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


_SELF_ALIAS = (
    "an alias refers to itself (the value would contain itself forever): "
    "remove the *alias that points into its own &anchor"
)
_EXPANDS = (
    f"aliases expand to more than {MAX_ALIAS_VALUES} values (a 'billion laughs' file?): "
    "write the values out, or nest fewer *aliases inside anchors"
)
_TOO_MANY = (
    f"the file holds more than {MAX_VALUES} values: a bridge config holds a few hundred, and "
    "checking tens of thousands of numbers would hold up every start; split very long contact "
    "lists, or send to a provider-side list (an AutoKonnect tag:)"
)
_TOO_DEEP = (
    f"the file is nested deeper than {MAX_DEPTH} levels: a bridge config needs about five; "
    "check the indentation and brackets"
)


class PositionLoader(yaml.SafeLoader):
    """Builds data from the node tree, tracking key paths (see the module docstring)."""

    def __init__(
        self, stream: str, env: Mapping[str, str], secret_fields: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(stream)
        self.env = env
        self.secret_fields = secret_fields
        self.doc = Document(data=None, positions={(): 1})
        self._depth = 0
        self._building: set[int] = set()  # ids of the nodes on the current build path
        self._built: set[int] = set()
        self._flattening: set[int] = set()
        self._reused = 0
        self._values = 0

    def is_secret(self, path: KeyPath) -> bool:
        if len(path) == 3 and path[0] in ("integrations", "heartbeats"):
            return path[2] in INTEGRATION_SECRETS
        return len(path) == 3 and path[0] == "providers" and path[2] in self.secret_fields

    def load_document(self) -> Document:
        """Compose the single document and build it; YAML syntax errors propagate."""
        try:
            node = self.get_single_node()
            if node is not None:
                self.doc.data = self._build(node, ())
        finally:
            self.dispose()
        return self.doc

    def _issue(self, path: KeyPath, line: int, message: str) -> None:
        self.doc.issues.append(Issue(path, line, message))

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """PyYAML composes recursively: refuse depth before Python's stack runs out."""
        self._depth += 1
        self._values += 1  # counted as composed: parsing a huge file is itself the cost
        try:
            if self._depth > MAX_DEPTH:
                raise LoadAborted(Issue((), self._next_line(), _TOO_DEEP))
            if self._values > MAX_VALUES:
                raise LoadAborted(Issue((), self._next_line(), _TOO_MANY))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _next_line(self) -> int:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        return event.start_mark.line + 1 if event.start_mark is not None else 1

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        """``<<:`` merges, refusing one that includes itself or copies too many keys."""
        if id(node) in self._flattening:
            raise LoadAborted(Issue((), node.start_mark.line + 1, _SELF_ALIAS))
        self._flattening.add(id(node))
        try:
            total = len(node.value)
            for key_node, value_node in node.value:
                if key_node.tag != _MERGE_TAG:
                    continue
                subs = value_node.value if isinstance(value_node, yaml.SequenceNode) else []
                for sub in subs if subs else [value_node]:
                    if isinstance(sub, yaml.MappingNode):
                        self.flatten_mapping(sub)
                        total += len(sub.value)
            if total > MAX_ALIAS_VALUES:
                raise LoadAborted(Issue((), node.start_mark.line + 1, _EXPANDS))
            super().flatten_mapping(node)
        finally:
            self._flattening.discard(id(node))

    def _build(self, node: yaml.Node, path: KeyPath) -> Any:
        """One node, refusing self-reference, runaway expansion and depth (see the docstring)."""
        key = id(node)
        line = node.start_mark.line + 1
        if key in self._building:
            raise LoadAborted(Issue(path, line, _SELF_ALIAS))
        if len(path) > MAX_DEPTH:
            raise LoadAborted(Issue(path, line, _TOO_DEEP))
        if key in self._built:
            self._reused += 1
            if self._reused > MAX_ALIAS_VALUES:
                top = path[:1]  # the key whose value exploded; deeper paths are noise
                raise LoadAborted(Issue(top, self.doc.positions.get(top, line), _EXPANDS))
        self._built.add(key)
        self._building.add(key)
        try:
            return self._build_node(node, path)
        finally:
            self._building.discard(key)

    def _build_node(self, node: yaml.Node, path: KeyPath) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items: list[Any] = []
            for index, item in enumerate(node.value):
                self.doc.positions[(*path, index)] = item.start_mark.line + 1
                items.append(self._build(item, (*path, index)))
            return items
        assert isinstance(node, yaml.ScalarNode)
        return self._build_scalar(node, path)

    def _build_mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        own_keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        own = {k for k in own_keys if k != "<<"}
        own_count = len(node.value) - own_keys.count("<<")
        self.flatten_mapping(node)  # YAML merge keys (<<: *anchor); the node's own keys win
        merged = len(node.value) - own_count
        out: dict[str, Any] = {}
        seen: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                self._issue(path, line, "a key must be a plain word, not a list or mapping")
                continue
            key = str(key_node.value)
            child = (*path, key)
            if index < merged:
                if key not in own:  # merged in: later merges override earlier ones silently
                    self.doc.positions[child] = line
                    out[key] = self._build(value_node, child)
                continue
            if key in seen:
                first = self.doc.positions.get(child)
                self._issue(
                    child, line, f"duplicate key {key!r} (first at line {first}): keep only one"
                )
                continue
            seen.add(key)
            self.doc.positions[child] = line
            out[key] = self._build(value_node, child)
        return out

    def _build_scalar(self, node: yaml.ScalarNode, path: KeyPath) -> Any:
        line = node.start_mark.line + 1
        if node.tag == _STR_TAG:
            text, origin, default = self._interpolate(node.value, path, line)
            self.doc.origins[path] = (origin, default)
            if self.is_secret(path):
                self.doc.secrets.append(text)
                if origin is not Origin.ENV:  # literal text in the file (a pure ${VAR} is not)
                    self.doc.secrets.append(node.value)
            return text
        self.doc.origins[path] = (Origin.LITERAL, None)
        raw = str(node.value)
        if self.is_secret(path):
            self.doc.secrets.append(raw)
        # +254712345678 and 0712345678 written without quotes are numbers to YAML, and yes/no/on/off
        # are booleans (a list named "on"): keep the text; pydantic still reads it as a bool or int.
        if node.tag == _INT_TAG and raw[:1] in "+0" and len(raw) > 1:
            return raw
        if node.tag == _BOOL_TAG:
            return raw
        return self.construct_object(node, deep=True)

    def _interpolate(self, text: str, path: KeyPath, line: int) -> tuple[str, Origin, str | None]:
        """Replace ``${VAR}`` / ``${VAR:-default}``; ``$$`` is a literal ``$``."""
        refs: list[str | None] = []

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            inner = match.group(1)
            parsed = _VAR.match(inner) if inner is not None else None
            if parsed is None:
                shown = match.group(0) if inner is not None else "${"
                self._issue(
                    path,
                    line,
                    f"malformed reference {shown!r}: write ${{NAME}} or ${{NAME:-default}} "
                    "(NAME: letters, digits, _); write $$ for a literal $",
                )
                return ""
            var, default = parsed.group(1), parsed.group(2)
            refs.append(default)
            self.doc.refs.append(Reference(path, line, var, self.is_secret(path)))
            value = self.env.get(var)
            if value:
                return value
            if default is not None:
                return default
            if self.is_secret(path):
                hint = (
                    "set it in the environment before starting (secrets are read only from there)"
                )
            else:
                hint = f"set it, or give a default: ${{{var}:-value}}"
            self._issue(path, line, f"environment variable {var} is not set: {hint}")
            return ""

        result = _REF.sub(replace, text)
        if not refs:
            return result, Origin.LITERAL, None
        whole = _REF.fullmatch(text)
        if len(refs) == 1 and whole is not None and whole.group(0) != "$$":
            return result, (Origin.ENV if refs[0] is None else Origin.ENV_DEFAULT), refs[0]
        return result, Origin.MIXED, None


def too_big() -> str:
    """The problem for a file over ``MAX_FILE_BYTES`` (it is not read further)."""
    return (
        f"the file is larger than {MAX_FILE_BYTES >> 20} MiB: a bridge config is a few KiB; "
        "check that --config names the config file"
    )
