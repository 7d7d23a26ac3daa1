"""A generated year of a force's cases, for rehearsals, benchmarks, comparisons and demos.

Cases reported through 2026, officers assigned, contacts and updates, arrests,
charges, closures, and cases nobody touches, as a scenario mapping (the shape
`pledge simulate` reads). The same seed gives the same year. `case_history` makes one
case's life; `pledge demo-data` (reporting/demo.py) uses it for its own period and units.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from standards.vocabulary import Channel

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


@dataclass
class GeneratedEvent:
    at: datetime
    type: str
    standard: str | None = None
    details: dict[str, Any] | None = None


@dataclass
class GeneratedCase:
    """One case's facts, its victim (reserved-for-drama contact details) and its events."""

    reference: str
    category: str
    reported_at: datetime
    borough: str
    vulnerable: bool
    name: str
    email: str
    phone: str | None
    preferred_channel: str
    events: list[GeneratedEvent] = field(default_factory=list)


def case_history(
    rng: random.Random,
    number: int,
    reference: str,
    reported: datetime,
    until: datetime,
    categories: Sequence[tuple[str, int]] = CATEGORIES,
    boroughs: Sequence[str] = BOROUGHS,
) -> GeneratedCase:
    """One case reported at `reported`: its facts and the events that reach it before
    `until` (in time order but for a few an officer records late)."""
    names, weights = zip(*categories, strict=True)
    category = rng.choices(names, weights)[0]
    sms = rng.random() < 0.6
    case = GeneratedCase(
        reference=reference,
        category=category,
        reported_at=reported,
        borough=rng.choice(boroughs),
        vulnerable=rng.random() < 0.05,
        name=f"Victim {number}",
        email=f"victim{number}@example.org",
        phone=f"+447700900{number % 1000:03d}" if sms else None,
        preferred_channel=(Channel.SMS if sms else Channel.EMAIL).value,
    )
    if category == "feedback":
        return case
    left = (until - reported).total_seconds() / 3600

    def event(hours: float, type: str, **extra: Any) -> None:
        if hours > left:
            return  # the rehearsal stops at `until`
        case.events.append(GeneratedEvent(reported + timedelta(hours=hours), type, **extra))

    if rng.random() < 0.1:
        return case  # nobody touches it: every clock runs out
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
    return case


def scenario_case(case: GeneratedCase) -> dict[str, Any]:
    return {
        "reference": case.reference,
        "category": case.category,
        "reported_at": case.reported_at.isoformat(),
        "borough": case.borough,
        "vulnerable": case.vulnerable,
        "victim": {
            "name": case.name,
            "email": case.email,
            "phone": case.phone,
            "preferred_channel": case.preferred_channel,
        },
    }


def scenario_event(reference: str, event: GeneratedEvent) -> dict[str, Any]:
    item: dict[str, Any] = {"at": event.at.isoformat(), "reference": reference, "type": event.type}
    if event.standard is not None:
        item["standard"] = event.standard
    if event.details is not None:
        item["details"] = event.details
    return item


def generated_year(count: int, seed: int = 7) -> dict[str, Any]:
    """`count` cases of one year as a scenario; the same `seed` gives the same year."""
    rng = random.Random(seed)
    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for n in range(count):
        reference = f"01/{n:06d}/26"
        reported = YEAR_START + timedelta(minutes=rng.randrange(0, 365 * 24 * 60 - 60 * 24 * 30))
        case = case_history(rng, n, reference, reported, YEAR_END)
        cases.append(scenario_case(case))
        events += [scenario_event(reference, event) for event in case.events]
    return {
        "policy": "met-pledge",
        "cases": cases,
        "events": events,
        "until": YEAR_END.isoformat(),
    }
