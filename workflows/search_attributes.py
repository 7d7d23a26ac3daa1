"""Custom search attributes a case workflow keeps up to date, for listing from visibility.

They must be registered on the server (dev and time-skipping alike) before a
workflow upserts them, or its workflow tasks fail in a loop.
"""

from temporalio.common import SearchAttributeKey

BOROUGH = SearchAttributeKey.for_keyword("PledgeBorough")
CATEGORY = SearchAttributeKey.for_keyword("PledgeCategory")
CASE_STATUS = SearchAttributeKey.for_keyword("PledgeCaseStatus")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("PledgeNextDeadline")
BREACHED_COUNT = SearchAttributeKey.for_int("PledgeBreachedCount")

ALL = (BOROUGH, CATEGORY, CASE_STATUS, NEXT_DEADLINE, BREACHED_COUNT)
