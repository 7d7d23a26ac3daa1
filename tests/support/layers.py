"""Reads the project's own imports from the source and checks them against the layer table.

Every import statement counts: those at module level, inside functions and under
`if TYPE_CHECKING`, so neither a lazy import nor a type-only one can hide a dependency.
docs/architecture.md states the same table and why each rule exists.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BELOW_SERVICE = {"engine", "storage", "messaging", "adapters", "delivery", "standards", "config"}
# What the composition root builds from: every package.
BELOW_BOOTSTRAP = BELOW_SERVICE | {"activities", "workflows", "service", "reporting", "web"}
ENTRY_POINT = BELOW_BOOTSTRAP | {"bootstrap"}

# Each layer (a package, or a top-level module) and what it may import besides itself.
# Bottom first; the order is docs/architecture.md's.
ALLOWED: dict[str, set[str]] = {
    "standards": set(),
    "config": set(),
    "storage": {"standards", "config"},
    "messaging": {"standards"},
    "adapters": {"standards", "messaging", "config"},
    "delivery": {"standards", "messaging", "adapters"},
    "activities": {"delivery", "adapters", "messaging", "storage", "standards", "config"},
    "engine": {"delivery", "adapters", "messaging", "standards"},
    "workflows": {"standards"},
    # Siblings: neither imports the other.
    "service": BELOW_SERVICE,
    "reporting": BELOW_SERVICE,
    # The web app's routes and pages call the use cases; bootstrap builds the app.
    "web": BELOW_SERVICE | {"service", "reporting"},
    # The one composition root.
    "bootstrap": BELOW_BOOTSTRAP,
    # Entry points, siblings of one another; the benches are entry points too.
    "cli": ENTRY_POINT,
    "worker": ENTRY_POINT,
    "bench": ENTRY_POINT,
}

# The directories of our code that are not importable layers (the benches are scripts).
NOT_IMPORTABLE = {"bench"}


@dataclass(frozen=True)
class Import:
    """One import statement's target, resolved to the module of ours it names."""

    source: str  # the importing module, dotted
    target: str  # the imported module, dotted (the most specific file of ours)
    line: int

    @property
    def source_layer(self) -> str:
        return self.source.split(".")[0]

    @property
    def target_layer(self) -> str:
        return self.target.split(".")[0]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files(root: Path, layers: Iterable[str]) -> Iterator[Path]:
    for layer in sorted(layers):
        if (root / f"{layer}.py").is_file():
            yield root / f"{layer}.py"
        elif (root / layer).is_dir():
            yield from sorted((root / layer).rglob("*.py"))


def _known_modules(root: Path, layers: Iterable[str]) -> set[str]:
    return {module_name(path, root) for path in source_files(root, layers)}


def _resolve(dotted: str, known: set[str]) -> str | None:
    """The most specific module of ours that `dotted` names (a.b.c, else a.b, else a)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports_of(path: Path, root: Path, known: set[str]) -> list[Import]:
    """Every import of ours in the file at `path`, wherever in the file it stands."""
    source = module_name(path, root)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found: set[Import] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[: len(base_parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # `from a import b` names the module a.b when b is one, else a's attribute b.
            names = [f"{module}.{alias.name}" for alias in node.names] or [module]
        for name in names:
            target = _resolve(name, known)
            if target is not None and target != source:
                found.add(Import(source, target, node.lineno))
    return sorted(found, key=lambda i: (i.line, i.target))


def all_imports(root: Path = ROOT, allowed: Mapping[str, set[str]] = ALLOWED) -> list[Import]:
    known = _known_modules(root, allowed)
    found: list[Import] = []
    for path in source_files(root, allowed):
        found.extend(imports_of(path, root, known))
    return found


def wrong_way_imports(root: Path = ROOT, allowed: Mapping[str, set[str]] = ALLOWED) -> list[Import]:
    """Each import a layer may not make under the table."""
    return [
        i
        for i in all_imports(root, allowed)
        if i.target_layer != i.source_layer and i.target_layer not in allowed[i.source_layer]
    ]


def describe(i: Import) -> str:
    return f"{i.source} (line {i.line}) imports {i.target}"


def cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted,
    with one cycle through its first node spelled out."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        if a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        # Iterative, so a long chain of imports cannot exhaust the recursion limit.
        nonlocal counter
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, component) for component in sorted(components)]


def _one_cycle(graph: Mapping[str, set[str]], component: list[str]) -> list[str]:
    """A path from the component's first node back to itself, inside the component."""
    members = set(component)
    start = component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    return component


def file_cycles(imports: Iterable[Import]) -> list[list[str]]:
    return cycles((i.source, i.target) for i in imports)


def package_cycles(imports: Iterable[Import]) -> list[list[str]]:
    return cycles((i.source_layer, i.target_layer) for i in imports)


if __name__ == "__main__":
    found = all_imports()
    wrong = wrong_way_imports()
    print(f"{len(wrong)} wrong-way imports")
    for i in wrong:
        print("  " + describe(i))
    for label, found_cycles in (
        ("package", package_cycles(found)),
        ("file", file_cycles(found)),
    ):
        print(f"{len(found_cycles)} {label} cycle(s)")
        for cycle in found_cycles:
            print("  " + " -> ".join(cycle))
