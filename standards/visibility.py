"""Custom search attributes a case workflow keeps up to date, for listing from visibility.

They must be registered on the server (dev and time-skipping alike) before a
workflow upserts them, or its workflow tasks fail in a loop.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from standards.case import CaseBook
from standards.contracts import CaseWorkflowInput

BOROUGH = SearchAttributeKey.for_keyword("PledgeBorough")
CATEGORY = SearchAttributeKey.for_keyword("PledgeCategory")
CASE_STATUS = SearchAttributeKey.for_keyword("PledgeCaseStatus")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("PledgeNextDeadline")
BREACHED_COUNT = SearchAttributeKey.for_int("PledgeBreachedCount")

ALL = (BOROUGH, CATEGORY, CASE_STATUS, NEXT_DEADLINE, BREACHED_COUNT)

SearchAttributeValue = str | int | datetime | None


def case_values(
    book: CaseBook, publish_category: bool
) -> list[tuple[SearchAttributeKey[Any], SearchAttributeValue]]:
    """The case's published attributes in `ALL`'s order (None: not set); the category
    only when the case publishes it."""
    values: dict[str, SearchAttributeValue] = {
        BOROUGH.name: book.facts.borough,
        CATEGORY.name: book.facts.category,
        CASE_STATUS.name: book.state.status.value,
        NEXT_DEADLINE.name: book.next_deadline(),
        BREACHED_COUNT.name: book.breached_count(),
    }
    return [(key, values[key.name]) for key in ALL if key is not CATEGORY or publish_category]


def at_start(input: CaseWorkflowInput, now: datetime) -> TypedSearchAttributes:
    """The attributes a new case will have once its opening plan has run at `now`, for
    its workflow's start: the case then has nothing to upsert on its first workflow task
    (if its sends change a value after all, the workflow upserts that one)."""
    if input.opening is None or input.state is not None:
        return TypedSearchAttributes.empty
    opening = input.opening
    # A copy: the book starts obligations into its state, and the input keeps the plan.
    book = CaseBook(input.facts, copy.deepcopy(opening.state), input.breach_overdue_at_once)
    book.schedule(opening.effects, {s.key: s for s in opening.schedules}, now)
    return TypedSearchAttributes(
        [
            SearchAttributePair(key, value)
            for key, value in case_values(book, input.publish_category)
            if value is not None
        ]
    )
