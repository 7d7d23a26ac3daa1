"""How long a what-if takes over a year of recorded cases, on SQLite and PostgreSQL.

    python bench/what_if.py [--cases 100000] [--seed 7] [--skip-postgres] [--rebuild]

Generates a year of history (engine/year.py) and writes it as the service records it
(cases, victims, every event in case_events: service/recorded_history.py) into a SQLite
file under bench/out/ and a PostgreSQL database ``pledge_bench_what_if_<cases>`` on
127.0.0.1:5432, once: later runs with the same case count and seed (and the same
generator, writer and schema) reuse them. Then times the real `pledge what-if` on each,
side by side in this one run: 2026 replayed under the shipped policy and under the same
policy with victim updates every 21 days instead of 28. Prints for each the time on the
clock, the CPU seconds of the command and its worker processes, the load average before
and after (the machine is shared), the cases per second and the time extrapolated to
100,000 cases against the 60 s target; and whether both databases gave the same figures.
Every wait is bounded: the command by a timeout, each query it makes by its own limit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.year import generated_year  # noqa: E402
from service.recorded_history import write_recorded_history  # noqa: E402
from standards.force import load_force  # noqa: E402
from standards.policy import load_policy  # noqa: E402
from storage.database import make_engine, upgrade_to_head  # noqa: E402

OUT = ROOT / "bench" / "out"
TARGET_CASES = 100_000
SECONDS_TARGET = 60
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"
# A what-if far over target still ends by itself.
COMMAND_LIMIT_SECONDS = 3600
# What the recorded history is made by: a change to any of them rebuilds it.
MAKERS = ("engine/year.py", "service/recorded_history.py", "service/cases.py")


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


def fingerprint(cases: int, seed: int) -> dict[str, object]:
    digest = hashlib.sha256()
    for name in MAKERS:
        digest.update((ROOT / name).read_bytes())
    migrations = sorted(p.name for p in (ROOT / "storage" / "migrations").rglob("*.py"))
    digest.update("\n".join(migrations).encode())
    return {"cases": cases, "seed": seed, "makers": digest.hexdigest()}


def postgres_database(name: str, fresh: bool) -> str:
    """The URL of database `name`, created (empty) if missing or when `fresh`."""
    admin = create_engine(
        POSTGRES + "postgres",
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 10, "options": "-c statement_timeout=120000"},
    )
    try:
        with admin.connect() as connection:
            if fresh:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return POSTGRES + name


def recorded_year(name: str, cases: int, seed: int, rebuild: bool) -> str:
    """The URL of a database holding the year's recorded history, built if need be."""
    wanted = fingerprint(cases, seed)
    marker = OUT / f"what_if-{name}-{cases}.built.json"
    built = marker.exists() and json.loads(marker.read_text()) == wanted and not rebuild
    OUT.mkdir(parents=True, exist_ok=True)
    if name == "sqlite":
        path = OUT / f"what_if-{cases}.db"
        if not built:
            for stale in OUT.glob(f"what_if-{cases}.db*"):
                stale.unlink()
        url = f"sqlite:///{path}"
    else:
        url = postgres_database(f"pledge_bench_what_if_{cases}", fresh=not built)
    if built:
        print(f"{name}: reusing the recorded history of {cases} cases (seed {seed})")
        return url
    marker.unlink(missing_ok=True)
    upgrade_to_head(url)
    engine = make_engine(url)
    started = time.perf_counter()
    try:
        written, events = write_recorded_history(
            engine,
            generated_year(cases, seed),
            load_policy(ROOT / "policies" / "met-pledge.toml"),
            load_force(ROOT / "policies" / "met.force.toml"),
        )
        if name == "postgresql":
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
    finally:
        engine.dispose()
    print(
        f"{name}: wrote {written} cases and {events} events "
        f"in {time.perf_counter() - started:.1f} s (kept for later runs)"
    )
    marker.write_text(json.dumps(wanted))
    return url


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def what_if(url: str, policy: Path) -> tuple[float, float, str, str]:
    """Seconds `pledge what-if` takes on the clock and in CPU (its worker processes too:
    on a shared machine the fairer figure), what it printed and the load average before
    and after."""
    before = load()
    cpu_before = children_cpu()
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
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
        timeout=COMMAND_LIMIT_SECONDS,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pledge what-if failed on {url}:\n{result.stderr[-4000:]}")
    return seconds, children_cpu() - cpu_before, result.stdout, f"{before} -> {load()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=TARGET_CASES)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="write the history afresh")
    args = parser.parse_args()
    names = ["sqlite"] if args.skip_postgres else ["sqlite", "postgresql"]
    urls = {name: recorded_year(name, args.cases, args.seed, args.rebuild) for name in names}
    proposed = proposed_policy(OUT)
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    loads: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for name, url in urls.items():
        times[name], cpu[name], outputs[name], loads[name] = what_if(url, proposed)
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
            f"{cpu[name]:.1f} s CPU ({args.cases / seconds:.0f} cases/s; load average "
            f"{loads[name]}); {TARGET_CASES} cases {extrapolated}: {seconds * scale:.0f} s "
            f"on the clock here, {cpu[name] * scale / cores:.0f} s on {cores} idle cores "
            f"({cpu[name] * scale / cores / SECONDS_TARGET:.2f} x the {SECONDS_TARGET} s "
            "target)"
        )


if __name__ == "__main__":
    main()
