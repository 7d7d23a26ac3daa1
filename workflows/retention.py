"""The daily erasure of victims' contact profiles whose retention has run out.

A Temporal Schedule starts this workflow once a day; it erases in bounded batches (one
activity each, one transaction each) so no transaction grows with the backlog, and a
run that stops half-way leaves only whole cases erased: the next run carries on.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from standards.contracts import (
        ERASE_EXPIRED_CONTACTS,
        RETENTION_WORKFLOW,
        ErasureBatch,
        ErasureBatchResult,
        RetentionOutcome,
        RetentionRun,
    )
    from standards.retention import erase_contacts_closed_before

# A run erases at most this many batches; a larger backlog finishes on the next days.
MAX_BATCHES_PER_RUN = 200


@workflow.defn(name=RETENTION_WORKFLOW)
class RetentionWorkflow:
    @workflow.run
    async def run(self, run: RetentionRun) -> RetentionOutcome:
        now = workflow.now()
        closed_before = erase_contacts_closed_before(now, run.retention_days)
        erased = 0
        more = False
        for _ in range(MAX_BATCHES_PER_RUN):
            result = await workflow.execute_activity(
                ERASE_EXPIRED_CONTACTS,
                ErasureBatch(
                    closed_before=closed_before,
                    retention_days=run.retention_days,
                    limit=run.batch_size,
                    erased_at=now,
                ),
                result_type=ErasureBatchResult,
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
            )
            erased += result.erased
            more = result.more
            if not more:
                break
        return RetentionOutcome(erased=erased, closed_before=closed_before, backlog_left=more)
