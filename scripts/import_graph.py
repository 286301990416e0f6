"""Count the modules, lines, import arrows, import levels and import cycles of zitadel_mock.

Usage: python scripts/import_graph.py [package_dir] [--arrows] [--typing]

An arrow is one module importing another module of the package (any ``import`` or
``from ... import`` statement, at module level or inside a function). Imports under
``if TYPE_CHECKING:`` never run and are left out, unless ``--typing`` asks for them (then
still not in a package's ``__init__.py``, whose lazy re-exports are no dependency). A level
is a module on the longest chain of arrows, counted on the graph with every cycle folded into
one node; a cycle is a set of modules that reach each other.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, typing: bool) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and not typing and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def graph(root: Path, typing: bool = False) -> tuple[dict[str, set[str]], dict[str, int]]:
    files = {module_name(root, p): p for p in sorted(root.rglob("*.py"))}
    packages = {m for m, p in files.items() if p.name == "__init__.py"}
    lines = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in files.items()}
    arrows: dict[str, set[str]] = {m: set() for m in files}
    for name, path in files.items():
        package = name if name in packages else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree, typing and path.name != "__init__.py"):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # "from . import x" names the module x when there is one, else a name of "."
                targets = [
                    f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in files else stem
                    for alias in node.names
                ]
            for target in targets:
                if target in files and target != name:
                    arrows[name].add(target)
    return arrows, lines


def cycles(arrows: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(arrows[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(arrows):
        if node not in index:
            visit(node)
    return found


def levels(arrows: dict[str, set[str]], components: list[list[str]]) -> int:
    """Return the number of modules on the longest chain, each cycle counted as one module."""
    group = {m: m for m in arrows}
    for component in components:
        for m in component:
            group[m] = component[0]
    folded: dict[str, set[str]] = {}
    for m, targets in arrows.items():
        folded.setdefault(group[m], set()).update(group[t] for t in targets if group[t] != group[m])
    depth: dict[str, int] = {}

    def longest(node: str) -> int:
        if node not in depth:
            depth[node] = 1 + max((longest(t) for t in folded.get(node, ())), default=0)
        return depth[node]

    return max(longest(m) for m in folded)


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    root = Path(args[0] if args else Path(__file__).resolve().parent.parent / "zitadel_mock")
    arrows, lines = graph(root, typing="--typing" in argv)
    components = cycles(arrows)
    if "--arrows" in argv:
        for m in sorted(arrows):
            print(f"{m} ({lines[m]}): {', '.join(sorted(arrows[m]))}")
    biggest = max(lines, key=lambda m: lines[m])
    print(f"modules: {len(arrows)}")
    print(f"lines: {sum(lines.values())}")
    print(f"largest: {biggest} ({lines[biggest]} lines)")
    print(f"arrows: {sum(len(t) for t in arrows.values())}")
    print(f"levels: {levels(arrows, components)}")
    print(f"cycles: {len(components)}")
    for component in components:
        print(f"  cycle: {' <-> '.join(component)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
