"""Helpers for the dashboard's tests: demo history in a database, `pledge report` as a
user runs it, and the CSV read back."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from config import Settings
from engine.run import EngineConfig
from reporting.demo import generate
from service.simulate_in_process import engine_config
from standards.force import load_force
from standards.policy import load_policy, policy_path
from storage.database import make_engine
from storage.summary import local_midnight

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies"
# The demo history's reports run from FIRST_DAY for DAYS; NOW is its end ("today").
FIRST_DAY = date(2025, 2, 3)
DAYS = 170
NOW = datetime(2025, 7, 28, 9, 30, tzinfo=UTC)


def demo_config(policy: str = "met-pledge") -> EngineConfig:
    """What `pledge demo-data` runs the demo's cases with: the policy, the Met's units and
    the default message settings (no .env read)."""
    return engine_config(
        Settings(_env_file=None),
        load_policy(policy_path(POLICIES, policy)),
        load_force(POLICIES / "met.force.toml"),
    )


def write_demo_history(database_url: str, cases: int = 250, seed: int = 7) -> None:
    engine = make_engine(database_url)
    try:
        generate(
            engine,
            demo_config(),
            cases=cases,
            start=local_midnight(FIRST_DAY),
            days=DAYS,
            seed=seed,
            now=NOW,
        )
    finally:
        engine.dispose()


def pledge_report(workdir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`pledge report ARGS` against the database, run where `workdir` is (away from any
    .env), as a user would."""
    return pledge_on(workdir, database_url, "report", *args)


def pledge_on(workdir: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`pledge ARGS` against the database, run where `workdir` is, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=workdir,
        env={
            "COLUMNS": "200",
            "PATH": "/usr/bin",
            "PLEDGE_DATA_DIR": str(workdir / "data"),
            "DATABASE_URL": database_url,
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def pledge_report_csv(workdir: Path, database_url: str, *args: str) -> list[list[str]]:
    """The rows `pledge report ARGS --csv` writes."""
    path = workdir / "pledge-report.csv"
    done = pledge_report(workdir, database_url, *args, "--csv", str(path))
    assert done.returncode == 0, done.stderr + done.stdout
    return csv_of(path.read_text(encoding="utf-8"))


def csv_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))
