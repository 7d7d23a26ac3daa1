"""How long `pledge simulate` takes for a force-sized rehearsal.

    python bench/simulate.py [--cases 1000] [--seed 7]

Generates one year of realistic history (cases reported through 2026, officers
assigned, contacts and updates, arrests, charges, court outcomes, closures, and
cases nobody touches), runs the real `pledge simulate` on it and prints the
time against the 60-second target.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_END = YEAR_START + timedelta(days=365)
CATEGORIES = [
    ("general", 30),
    ("burglary", 20),
    ("domestic_abuse", 15),
    ("sexual_offence", 5),
    ("hate_crime", 5),
    ("serious_assault", 8),
    ("road_traffic_collision", 12),
    ("feedback", 5),
]
BOROUGHS = ["Camden", "Hackney", "Islington", "Lambeth", "Southwark", "Westminster"]


def iso(value: datetime) -> str:
    return value.isoformat()


def generate(count: int, rng: random.Random) -> dict[str, Any]:
    names, weights = zip(*CATEGORIES, strict=True)
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n in range(count):
        reference = f"01/{n:06d}/26"
        reported = YEAR_START + timedelta(minutes=rng.randrange(0, 365 * 24 * 60 - 60 * 24 * 30))
        category = rng.choices(names, weights)[0]
        sms = rng.random() < 0.6
        cases.append(
            {
                "reference": reference,
                "category": category,
                "reported_at": iso(reported),
                "borough": rng.choice(BOROUGHS),
                "vulnerable": rng.random() < 0.05,
                "victim": {
                    "name": f"Victim {n}",
                    "email": f"victim{n}@example.org",
                    "phone": f"+447700900{n % 1000:03d}" if sms else None,
                    "preferred_channel": "sms" if sms else "email",
                },
            }
        )
        if category == "feedback":
            continue

        def event(
            hours: float,
            type: str,
            reference: str = reference,
            reported: datetime = reported,
            year_end: datetime = YEAR_END,
            **extra: Any,
        ) -> None:
            if hours > (year_end - reported).total_seconds() / 3600:
                return  # the rehearsal stops at the end of the year
            events.append(
                {
                    "at": iso(reported + timedelta(hours=hours)),
                    "reference": reference,
                    "type": type,
                    **extra,
                }
            )

        if rng.random() < 0.1:
            continue  # nobody touches it: every clock runs out
        event(rng.uniform(2, 72), "officer_assigned")
        if category == "domestic_abuse":
            event(rng.uniform(1, 30), "contact_recorded", standard="dv_contact")
        if category == "serious_assault":
            event(rng.uniform(1, 24), "review_recorded")
        lifetime = rng.uniform(5, 150)
        day = rng.uniform(10, 30)
        while day < lifetime:
            event(day * 24, rng.choice(["update_delivered", "contact_recorded"]))
            day += rng.uniform(14, 35)
        if rng.random() < 0.2:
            event(lifetime * 12, "arrest")
            if rng.random() < 0.5:
                event(lifetime * 18, "charge")
        if rng.random() < 0.8:
            event(lifetime * 24, "closed", details={"reason": "no further lines of enquiry"})
    return {
        "policy": "met-pledge",
        "cases": cases,
        "events": events,
        "until": iso(YEAR_END),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    scenario = generate(args.cases, random.Random(args.seed))
    with tempfile.TemporaryDirectory(prefix="pledge-bench-sim-") as scratch:
        path = Path(scratch) / "year.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False))
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", "simulate", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"pledge simulate failed:\n{result.stderr[-4000:]}")
    outcome = json.loads(result.stdout)
    obligations = sum(len(c["obligations"]) for c in outcome["cases"])
    print(f"cases:             {len(scenario['cases'])}")
    print(f"events:            {len(scenario['events'])}")
    print(f"obligations:       {obligations}")
    print(f"messages:          {len(outcome['messages'])}")
    print(f"alerts:            {len(outcome['alerts'])}")
    print(f"rejected events:   {len(outcome.get('rejected_events', []))}")
    print(f"pledge simulate:   {seconds:.1f} s   (target < 60 s; {seconds / 60:.2f} of target)")


if __name__ == "__main__":
    main()
