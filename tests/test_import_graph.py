"""The project's layers, read from its source: models/ at the bottom, serving/ beside training/ and never importing
it, and no import circle anywhere (a circle makes a module's meaning depend on which side is imported first)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "training", "eval", "serving")
ALLOWED = {"models": {"models"}, "training": {"models", "training"}, "serving": {"models", "serving"}}
"""Which packages each may import; eval may import any (it measures them all)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def imported(name: str, path: Path) -> Iterator[str]:
    """The project's modules `name` imports, anywhere in its code (a function's own import counts too)."""
    modules = project_modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


@cache
def graph() -> dict[str, frozenset[str]]:
    return {name: frozenset(imported(name, path)) for name, path in project_modules().items()}


def circles() -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan's algorithm)."""
    edges, index, low, stack, on_stack, found = graph(), {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_graph_is_read_from_the_source():
    assert "models.pair" in graph()["serving.batch.rows"]
    assert "training.config" in graph()["training.train"]


def test_no_module_imports_itself_through_others():
    assert circles() == []


def test_each_layer_imports_only_those_below_it():
    crossings = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in targets
        if (layer := name.split(".")[0]) in ALLOWED and target.split(".")[0] not in ALLOWED[layer]
    ]
    assert crossings == []


def reached_from(start: str) -> set[str]:
    """Every project module `start` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(graph()[name])
    return seen


def test_the_bento_includes_every_module_the_service_imports():
    """`bentoml build` packs only what bentofile.yaml includes: a module the service reaches but the bento leaves out
    would fail the built service at start-up, not here. BentoML reads the patterns as .gitignore does (pathspec)."""
    import pathspec
    import yaml

    included = pathspec.PathSpec.from_lines(
        "gitwildmatch", yaml.safe_load((ROOT / "bentofile.yaml").read_text())["include"]
    )
    modules = project_modules()
    missing = sorted(
        name for name in reached_from("serving.service") if not included.match_file(modules[name].relative_to(ROOT))
    )
    assert missing == []
