"""The layout's dependency rules, read from the source with ``ast`` (nothing is imported).

Why: ``bot.values`` is the module every step may import, which holds only if it imports nothing
of ours but ``providers.base``; and an import cycle shows up only for some import orders, so the
graph of module-level imports is checked as a whole rather than by importing modules one way.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("bot", "providers", "config")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in OURS
        for path in sorted((ROOT / package).rglob("*.py"))
        if ".venv" not in path.parts
    }


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level_imports(body: list[ast.stmt]) -> list[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads (not those in functions or under TYPE_CHECKING)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and not _type_checking_only(node):
            found += _module_level_imports(node.body) + _module_level_imports(node.orelse)
        elif isinstance(node, ast.Try):
            found += _module_level_imports(node.body)
            for handler in node.handlers:
                found += _module_level_imports(handler.body)
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that loading ``name`` loads first: each one named, and the packages above it
    (their ``__init__`` runs too) unless ``name`` is inside that package already."""
    named: set[str] = set()
    for node in _module_level_imports(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif node.module is not None and node.level == 0:
            named.add(node.module)
            # ``from bot import metrics``: the submodule is loaded too
            named.update(f"{node.module}.{alias.name}" for alias in node.names)
    loaded: set[str] = set()
    for target in named:
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
            candidate = ".".join(parts[:i])
            inside = name == candidate or name.startswith(candidate + ".")
            if candidate in modules and not inside:
                loaded.add(candidate)
    return loaded


def test_values_imports_nothing_of_ours_but_providers_base() -> None:
    modules = all_modules()
    ours = {m for m in imports_of("bot.values", modules["bot.values"], modules)}
    assert ours <= {"providers", "providers.base"}, sorted(ours)


def test_no_import_cycles() -> None:
    modules = all_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_policy_knows_nothing_of_slack_or_the_surfaces() -> None:
    """Policy answers plain values; Slack words them (``bot.slack.refusals``). Loading any
    policy module must load no Slack, paging, CLI or server module, directly or through another."""
    modules = all_modules()
    graph = {name: imports_of(name, path, modules) for name, path in modules.items()}
    policy = [name for name in modules if name == "bot.policy" or name.startswith("bot.policy.")]
    assert len(policy) > 1, policy
    seen: set[str] = set()
    todo = list(policy)
    while todo:
        for loaded in graph[todo.pop()] - seen:
            seen.add(loaded)
            todo.append(loaded)
    surfaces = ("bot.slack", "bot.paging", "bot.cli", "bot.server")
    assert not [m for m in seen if m.startswith(surfaces)], sorted(seen)
