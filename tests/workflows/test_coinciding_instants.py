"""Events that fall exactly on one of the case's own instants (a timer's, a retry's)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from service.cases import CaseIn, EventIn
from tests.workflows.conftest import RehearsalFactory

DA_REPORTED = datetime(2026, 3, 27, 17, 30, tzinfo=UTC)


async def test_repro(cases: RehearsalFactory) -> None:
    rehearsal = cases.rehearsal(DA_REPORTED)
    await rehearsal.begin()
    case = CaseIn.model_validate(
        {
            "reference": "01/000001/26",
            "category": "domestic_abuse",
            "reported_at": DA_REPORTED,
            "borough": "Camden",
            "victim": {"name": "A", "phone": "+447700900123", "preferred_channel": "sms"},
        }
    )
    await rehearsal.open(case)
    ev = EventIn.model_validate(
        {"reference": case.reference, "type": "officer_assigned",
         "at": datetime(2026, 3, 28, 11, 30, tzinfo=UTC), "details": {"officer_name": "PC X"}}
    )
    await asyncio.wait_for(rehearsal.post(ev), 60)
    print((await rehearsal.view(case.reference)).obligations)
