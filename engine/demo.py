"""What every demo case shares, whether it is written as history (reporting/demo.py) or
started as a real workflow (service/demo_workflows.py): who posts its events, how its
instants are recorded, and the mix of categories it is drawn from."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from engine.year import CATEGORIES
from standards.policy import Policy

# Who posts a demo case's events, as the crime recording system posts live ones.
ACTOR: Final = "crime recording system"
# The victim focus unit, who explains some of the demo history's breaches.
EXPLAINER: Final = "victim focus unit"


def to_the_second(instant: datetime) -> datetime:
    """Events as a force's systems record them: to the second. (Instants between whole
    seconds would also meet SQLite's rounding of julianday() differences in the report's
    times to meet, a few microseconds off at half a second.)"""
    return instant.replace(microsecond=0)


def demo_categories(policy: Policy) -> list[tuple[str, int]]:
    """The generated year's mix of categories, limited to those the policy knows."""
    categories = [(name, weight) for name, weight in CATEGORIES if name in policy.categories]
    if not categories:
        raise ValueError(f"policy {policy.id} has none of the demo's categories")
    return categories
