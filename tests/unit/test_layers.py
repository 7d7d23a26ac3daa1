"""No import runs upward: each layer imports only the layers below it.

Read from the source (every import statement, those inside functions too), so a lazy
import cannot hide an upward dependency. Entry points (the CLI modules) and the
composition root may import anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Each package and what it may import (itself always). Bottom first.
ALLOWED: dict[str, set[str]] = {
    "standards": set(),
    "storage": {"standards"},
    "workflows": {"standards"},
    "activities": {"standards", "storage", "workflows"},
    # The pure driver uses the renderer and the delivery conventions (activities/).
    "engine": {"standards", "storage", "activities"},
    "reporting": {"standards", "storage", "engine", "activities", "workflows"},
    "service": {"standards", "storage", "workflows", "activities", "engine", "reporting"},
    "web": {"standards", "storage", "workflows", "activities", "engine", "reporting", "service"},
}
# Composition roots: they build clients and wire everything.
COMPOSITION = {"worker", "devserver"}
OURS = set(ALLOWED) | COMPOSITION


def _is_entry_point(path: Path) -> bool:
    return path.stem == "cli" or path.stem.endswith("_cli")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


def upward_imports() -> list[str]:
    problems = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            if _is_entry_point(path):
                continue
            for imported in sorted(_imports(path) - allowed - {package}):
                problems.append(f"{path.relative_to(ROOT)} imports {imported}")
    return problems


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports() == []


def test_the_check_sees_an_import_hidden_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("def later():\n    from worker import build_worker\n")
    assert _imports(module) == {"worker"}
