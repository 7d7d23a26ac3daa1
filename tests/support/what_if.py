"""Proposed policies and CSV readers for the what-if tests."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from reporting.compliance import ComplianceReport
from tests.support.dev import ROOT

SHIPPED_POLICY = ROOT / "policies" / "met-pledge.toml"


def policy_with_window(folder: Path, standard: str, window: int) -> Path:
    """The shipped policy with `standard`'s window changed, as a new version, in `folder`."""
    shipped = SHIPPED_POLICY.read_text()
    blocks = shipped.split("[[standards]]")
    position = next(i for i, block in enumerate(blocks) if f'id = "{standard}"' in block)
    blocks[position], changes = re.subn(
        r"^window = \d+$", f"window = {window}", blocks[position], count=1, flags=re.M
    )
    assert changes == 1, f"{standard} has no window line"
    text = re.sub(
        r"^version = (\d+)$",
        lambda found: f"version = {int(found.group(1)) + 1}",
        "[[standards]]".join(blocks),
        count=1,
        flags=re.M,
    )
    path = folder / f"proposed-{standard}-{window}.toml"
    path.write_text(text)
    return path


def csv_by_key(path: Path) -> dict[str, dict[str, str]]:
    """A CSV's rows by their first column."""
    with path.open(newline="", encoding="utf-8") as handle:
        return {row[next(iter(row))]: row for row in csv.DictReader(handle)}


def recorded_year_in(url: str, cases: int = 120, seed: int = 3) -> tuple[int, int]:
    """Write a generated year's cases and events into `url` as the service records them;
    (cases, events) written."""
    from engine.year import generated_year
    from service.recorded_history import write_recorded_history
    from standards.force import load_force
    from standards.policy import load_policy
    from storage.database import make_engine

    engine = make_engine(url)
    try:
        return write_recorded_history(
            engine,
            generated_year(cases, seed),
            load_policy(SHIPPED_POLICY),
            load_force(ROOT / "policies" / "met.force.toml"),
        )
    finally:
        engine.dispose()


def figures(report: ComplianceReport) -> dict[tuple[str, ...], tuple[int, ...]]:
    """Every count of every group and the total (key ()): due, on time, late, breached,
    awaiting breach."""
    return {
        group.key: (
            group.due,
            group.met_on_time,
            group.met_late,
            group.breached,
            group.awaiting_breach,
        )
        for group in [*report.groups, report.total]
    }
