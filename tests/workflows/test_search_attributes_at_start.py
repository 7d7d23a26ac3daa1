"""A new case's search attributes are set by its start, not upserted by its first task."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import EventType

from service.cases import CaseIn
from standards import visibility as sa
from standards.contracts import case_workflow_id
from tests.workflows.conftest import RehearsalFactory

REPORTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def domestic_abuse_case(reference: str) -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": reference,
            "category": "domestic_abuse",
            "reported_at": REPORTED,
            "borough": "Camden",
            "victim": {"name": "Sam Start", "phone": "+447700900123", "preferred_channel": "sms"},
        }
    )


async def test_a_case_opened_on_time_starts_with_its_attributes_and_upserts_none_at_intake(
    cases: RehearsalFactory,
) -> None:
    rehearsal = cases.rehearsal(REPORTED)
    await rehearsal.begin()
    reference = f"T-{uuid.uuid4().hex[:12]}"
    await rehearsal.open(domestic_abuse_case(reference))
    handle = cases.env.client.get_workflow_handle(case_workflow_id(reference))
    history = await handle.fetch_history()

    types = [event.event_type for event in history.events]
    assert EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES not in types
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(sa.BOROUGH) == "camden"
    assert attributes.get(sa.CATEGORY) == "domestic_abuse"
    assert attributes.get(sa.CASE_STATUS) == "open"
    assert attributes.get(sa.BREACHED_COUNT) == 0
    view = await rehearsal.view(reference)
    assert view.next_deadline is not None
    assert attributes.get(sa.NEXT_DEADLINE) == view.next_deadline


async def test_a_value_that_changes_later_is_still_upserted(cases: RehearsalFactory) -> None:
    rehearsal = cases.rehearsal(REPORTED)
    await rehearsal.begin()
    reference = f"T-{uuid.uuid4().hex[:12]}"
    await rehearsal.open(domestic_abuse_case(reference))
    # The first contact deadline (24 hours) passes unmet: one breach.
    await rehearsal.advance_to(REPORTED + timedelta(hours=25))
    handle = cases.env.client.get_workflow_handle(case_workflow_id(reference))
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(sa.BREACHED_COUNT) == 1
    assert attributes.get(sa.NEXT_DEADLINE) == (await rehearsal.view(reference)).next_deadline
