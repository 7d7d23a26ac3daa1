"""Intake and the force's units: a borough by id or name, kept as the canonical id; an
unknown one refused with nothing changed; a unit's nation and display name used."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from service.cases import CaseError, CaseIn
from standards.force import parse_force
from storage import models
from tests.workflows.conftest import RehearsalFactory

REPORTED = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)  # Monday; 15 June is a Scottish holiday
SCOTTISH_FORCE = parse_force(
    """
id = "border"
name = "Border Police"

[[units]]
id = "dumfries"
name = "Dumfries and Galloway"
nation = "scotland"
"""
)


def case_in(borough: str, category: str = "burglary") -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": f"U-{uuid.uuid4().hex[:12]}",
            "category": category,
            "reported_at": REPORTED,
            "borough": borough,
            "victim": {"name": "Alex Smith", "email": "alex@example.org"},
        }
    )


def stored(cases: RehearsalFactory, reference: str) -> models.Case | None:
    with cases.sessions() as session:
        return session.scalar(select(models.Case).where(models.Case.reference == reference))


@pytest.mark.parametrize("given", ["camden", "CAMDEN", "Camden"])
async def test_a_borough_in_any_case_opens_a_case_under_its_canonical_id(
    cases: RehearsalFactory, given: str
) -> None:
    rehearsal = cases.rehearsal(REPORTED)
    await rehearsal.begin()
    case = case_in(given)
    await rehearsal.open(case)
    assert (await rehearsal.view(case.reference)).borough == "camden"
    record = stored(cases, case.reference)
    assert record is not None and record.borough == "camden"
    # Victims read the unit's name, not its id.
    (message,) = rehearsal.messages()
    assert "The Camden Victim Focus Unit will keep you up to date" in message["body"]


async def test_an_unknown_borough_is_refused_and_nothing_is_recorded(
    cases: RehearsalFactory,
) -> None:
    rehearsal = cases.rehearsal(REPORTED)
    await rehearsal.begin()
    case = case_in("Narnia")
    with pytest.raises(CaseError, match=r"unknown borough 'Narnia'; accepted .*Camden"):
        await rehearsal.open(case)
    with cases.sessions() as session:
        assert session.scalar(select(func.count()).select_from(models.Case)) == 0
    assert rehearsal.references == []


async def test_a_case_in_a_scottish_unit_skips_scottish_bank_holidays(
    cases: RehearsalFactory,
) -> None:
    rehearsal = cases.rehearsal(REPORTED, force=SCOTTISH_FORCE)
    await rehearsal.begin()
    case = case_in("dumfries and galloway", "road_traffic_collision")
    await rehearsal.open(case)
    view = await rehearsal.view(case.reference)
    (traffic,) = [o for o in view.obligations if o.standard == "traffic_unit_contact"]
    # Ten Scottish working days from Monday 8 June, 15 June skipped: to Tuesday 23 June.
    assert traffic.due_at == datetime(2026, 6, 23, 23, 0, tzinfo=UTC)
    record = stored(cases, case.reference)
    assert record is not None and (record.borough, record.nation) == ("dumfries", "scotland")
