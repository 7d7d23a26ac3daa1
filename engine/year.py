"""A generated year of a force's cases, for rehearsals, benchmarks and comparisons.

Cases reported through 2026, officers assigned, contacts and updates, arrests,
charges, closures, and cases nobody touches, as a scenario mapping (the shape
`pledge simulate` reads). The same seed gives the same year.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

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


def generated_year(count: int, seed: int = 7) -> dict[str, Any]:
    """`count` cases of one year as a scenario; the same `seed` gives the same year."""
    rng = random.Random(seed)
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
                "reported_at": reported.isoformat(),
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
            **extra: Any,
        ) -> None:
            if hours > (YEAR_END - reported).total_seconds() / 3600:
                return  # the rehearsal stops at the end of the year
            events.append(
                {
                    "at": (reported + timedelta(hours=hours)).isoformat(),
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
        "until": YEAR_END.isoformat(),
    }
