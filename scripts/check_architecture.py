"""The architecture's rules, checked over the source with `ast` (run by `make lint`):

1. Apps import only downward: integrations, analytics -> alerts -> messaging -> meetings -> intelligence -> leads
   -> bizpilot. The root URLconf (bizpilot/urls.py) is the one module that sees every app; tests may import
   anything.
2. No import cycle between modules, counting imports inside functions too (a lazy import hides a cycle, it does
   not remove it).
3. No module over 500 lines outside tests and migrations: split it by noun.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [
    "bizpilot",
    "leads",
    "intelligence",
    "meetings",
    "messaging",
    "alerts",
    "analytics",
    "integrations",
    "onboarding",
]
SEES_EVERY_APP = {"bizpilot.urls"}
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """The project modules a file imports, anywhere in it (`from a.b import c` is a.b.c when that is a module)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module for a in node.names
            }
    return {name for name in found if name.split(".")[0] in LAYERS}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of modules that import each other in a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def main() -> int:
    files = [p for app in LAYERS for p in (ROOT / app).rglob("*.py") if "tests" not in p.relative_to(ROOT).parts]
    modules = {module_name(p) for p in files}
    problems: list[str] = []
    graph: dict[str, set[str]] = {}
    for path in files:
        source = path.read_text(encoding="utf-8")
        name = module_name(path)
        graph[name] = project_imports(ast.parse(source, filename=str(path)), modules) - {name}
        lines = source.count("\n")
        if lines > MAX_LINES and "migrations" not in path.parts:
            problems.append(f"{path.relative_to(ROOT)}: {lines} lines (at most {MAX_LINES}: split it by noun)")
        if name in SEES_EVERY_APP:
            continue
        for target in sorted(graph[name]):
            if LAYERS.index(target.split(".")[0]) > LAYERS.index(name.split(".")[0]):
                problems.append(f"{path.relative_to(ROOT)}: imports {target}, an app above it (import downward only)")
    for group in strongly_connected(graph):
        problems.append("import cycle among: " + ", ".join(group))
    for problem in problems:
        print(problem)
    print(f"architecture: {len(files)} modules, {sum(map(len, graph.values()))} imports, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
