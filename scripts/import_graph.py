"""Prints the server's import graph by package, its circles, and what web/ takes from api/.

    python scripts/import_graph.py [SRC]    (SRC: the folder holding `sabamon`, default src)

Reads the sources with `ast` (nothing is imported), counts every `import`/`from … import`
of one sabamon module by another, including imports inside functions (but not those under
`if TYPE_CHECKING:`, which never run), and prints:
edges between packages of `sabamon.server` (`api -> store  12`), the import circles
between modules (strongly connected groups), and each import from `web/` of `api/`.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter, defaultdict
from pathlib import Path


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(root: Path) -> dict[str, set[str]]:
    """{module: the sabamon modules it imports}."""
    found: dict[str, set[str]] = defaultdict(set)
    modules = {module_name(root, p): p for p in (root / "sabamon").rglob("*.py")}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in runtime_nodes(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                submodules = [f"{base}.{alias.name}" for alias in node.names]
                targets = [t for t in submodules if t in modules] or [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target.startswith("sabamon") and target != name:
                    found[name].add(target)
    return found


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the tree except those under `if TYPE_CHECKING:`."""
    found, pending = [], [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            pending.extend(node.orelse)
            continue
        found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def area(module: str, packages: set[str]) -> str:
    """`sabamon.server.api.hosts` and `sabamon.server.api` → `api`; a module directly in
    `sabamon.server` → `server.state`; outside the server, its first two parts."""
    parts = module.split(".")
    if parts[:2] != ["sabamon", "server"] or len(parts) < 3:
        return ".".join(parts[:2])
    return parts[2] if ".".join(parts[:3]) in packages else f"server.{parts[2]}"


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    graph = imports(root)
    packages = {module_name(root, p.parent / "__init__.py") for p in root.rglob("__init__.py")}

    def area_of(module: str) -> str:
        return area(module, packages)

    edges: Counter[tuple[str, str]] = Counter()
    for module, targets in graph.items():
        if module.startswith("sabamon.server"):
            for target in targets:
                if target.startswith("sabamon.server") and area_of(module) != area_of(target):
                    edges[(area_of(module), area_of(target))] += 1
    print("package imports in sabamon.server (module pairs):")
    for (source, target), count in sorted(edges.items()):
        print(f"  {source:22} -> {target:22} {count}")
    print("import circles between modules:")
    for group in circles(graph):
        print("  " + " <-> ".join(group))
    web_api = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        for t in targets
        if area_of(m) == "web" and area_of(t) == "api"
    )
    print(f"web/ imports of api/: {len(web_api)}")
    for line in web_api:
        print("  " + line)


if __name__ == "__main__":
    main()
