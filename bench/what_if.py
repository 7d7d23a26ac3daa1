"""How long a what-if takes over a year of recorded cases, on SQLite and PostgreSQL.

    python bench/what_if.py [--cases 100000] [--seed 7] [--skip-postgres]

Generates a year of history (engine/year.py), writes it as the service records it
(cases, victims, every event in case_events: service/recorded_history.py) into a fresh
SQLite file and a fresh PostgreSQL database, then times the real `pledge what-if` on
each, side by side in this one run: 2026 replayed under the shipped policy and under the
same policy with victim updates every 21 days instead of 28. Prints each time, the
cases per second and the time extrapolated to 100,000 cases against the 60 s target.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

from engine.year import generated_year
from service.recorded_history import write_recorded_history
from standards.force import load_force
from standards.policy import load_policy
from storage.database import make_engine, upgrade_to_head

ROOT = Path(__file__).resolve().parents[1]
TARGET_CASES = 100_000
SECONDS_TARGET = 60
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def proposed_policy(folder: Path) -> Path:
    """The shipped policy with victim updates due every 21 days (and a new version)."""
    shipped = (ROOT / "policies" / "met-pledge.toml").read_text()
    blocks = shipped.split("[[standards]]")
    update = next(i for i, b in enumerate(blocks) if 'id = "victim_update"' in b)
    blocks[update] = re.sub(r"^window = 28$", "window = 21", blocks[update], count=1, flags=re.M)
    changed = "[[standards]]".join(blocks).replace("version = 1", "version = 2", 1)
    assert "window = 21" in changed
    path = folder / "met-pledge-21.toml"
    path.write_text(changed)
    return path


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def what_if(url: str, policy: Path, folder: Path) -> tuple[float, float, str]:
    """Seconds `pledge what-if` takes on the clock and in CPU (its worker processes too:
    on a shared machine the fairer figure), and what it printed."""
    cpu_before = children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "what-if",
            "--policy",
            str(policy),
            "--from",
            "2026-01-01",
            "--to",
            "2027-01-01",
            "--as-of",
            "2027-01-01T00:00+00:00",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pledge what-if failed on {url}:\n{result.stderr[-4000:]}")
    return seconds, children_cpu() - cpu_before, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=TARGET_CASES)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    policy = load_policy(ROOT / "policies" / "met-pledge.toml")
    force = load_force(ROOT / "policies" / "met.force.toml")
    scenario = generated_year(args.cases, args.seed)
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        proposed = proposed_policy(folder)
        urls = {"sqlite": f"sqlite:///{folder / 'history.db'}"}
        database = f"bench_what_if_{uuid.uuid4().hex[:8]}"
        admin = None
        if not args.skip_postgres:
            admin = create_engine(POSTGRES + "postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
            urls["postgresql"] = POSTGRES + database
        try:
            times: dict[str, float] = {}
            cpu: dict[str, float] = {}
            outputs: dict[str, str] = {}
            for name, url in urls.items():
                upgrade_to_head(url)
                engine = make_engine(url)
                started = time.perf_counter()
                cases, events = write_recorded_history(engine, scenario, policy, force)
                engine.dispose()
                print(
                    f"{name}: wrote {cases} cases and {events} events "
                    f"in {time.perf_counter() - started:.1f} s"
                )
                times[name], cpu[name], outputs[name] = what_if(url, proposed, folder)
            print(outputs["sqlite"])
            if "postgresql" in outputs:
                # Same history, same code: both databases must give the same figures.
                print(
                    "SQLite and PostgreSQL figures identical:",
                    outputs["sqlite"] == outputs["postgresql"],
                )
            cores = os.cpu_count() or 1
            scale = TARGET_CASES / args.cases
            extrapolated = "measured" if args.cases == TARGET_CASES else "extrapolated"
            for name, seconds in times.items():
                print(
                    f"{name}: what-if over {args.cases} cases: {seconds:.1f} s on the clock, "
                    f"{cpu[name]:.1f} s CPU ({args.cases / seconds:.0f} cases/s); "
                    f"{TARGET_CASES} cases {extrapolated}: {seconds * scale:.0f} s on the clock "
                    f"here, {cpu[name] * scale / cores:.0f} s on {cores} idle cores "
                    f"({cpu[name] * scale / cores / SECONDS_TARGET:.2f} x the "
                    f"{SECONDS_TARGET} s target)"
                )
        finally:
            if admin is not None:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
