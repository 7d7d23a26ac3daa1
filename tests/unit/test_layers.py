"""No import runs the wrong way between the layers, and no imports go round in a circle.

Read from the source by tests/support/layers.py: every import statement of ours, those
inside functions and under `if TYPE_CHECKING` too, in every file of every layer (the
commands, worker.py, bootstrap.py and the benches included). The table is the one in
docs/architecture.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.layers import (
    ROOT,
    all_imports,
    describe,
    file_cycles,
    imports_of,
    package_cycles,
    wrong_way_imports,
)


def test_no_module_imports_a_layer_it_may_not() -> None:
    wrong = [describe(i) for i in wrong_way_imports()]
    assert wrong == []


def test_no_two_packages_import_each_other_even_through_others() -> None:
    found = package_cycles(all_imports())
    assert found == [], "package cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_no_two_modules_import_each_other_even_through_others() -> None:
    found = file_cycles(all_imports())
    assert found == [], "module cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_check_sees_an_import_hidden_inside_a_function(tmp_path: Path) -> None:
    (tmp_path / "worker.py").write_text("")
    module = tmp_path / "example.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import config\n"
        "def later():\n    from worker import build_worker\n"
    )
    (tmp_path / "config.py").write_text("")
    found = imports_of(module, tmp_path, {"worker", "config", "example"})
    assert {i.target for i in found} == {"worker", "config"}


def test_the_check_finds_a_cycle_in_a_small_tree(tmp_path: Path) -> None:
    for package in ("low", "high"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "low" / "a.py").write_text("def later():\n    from high.b import thing\n")
    (tmp_path / "high" / "b.py").write_text("from low import a\nthing = 1\n")
    allowed = {"low": set[str](), "high": {"low"}}
    found = all_imports(tmp_path, allowed)
    assert package_cycles(found) == [["high", "low", "high"]]
    assert file_cycles(found) == [["high.b", "low.a", "high.b"]]
    assert [describe(i) for i in wrong_way_imports(tmp_path, allowed)] == [
        "low.a (line 2) imports high.b"
    ]


def test_the_in_process_engine_loads_neither_temporal_nor_sqlalchemy() -> None:
    # The rehearsal's speed and determinism rest on it; a subprocess starts clean.
    probe = (
        "import sys, engine.run, engine.driver, engine.delivery, engine.year\n"
        "print(sorted(m for m in ('temporalio', 'sqlalchemy') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
