"""The benchmark's yardstick: a bare workflow that sets one durable timer.

`bench/intake.py` opens cases and starts these side by side; the ratio of
their rates says what the case workflow's own work costs.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow


@workflow.defn(name="BaselineTimerWorkflow")
class BaselineTimerWorkflow:
    def __init__(self) -> None:
        self._timer_set = False

    @workflow.run
    async def run(self, hours: int) -> None:
        self._timer_set = True
        await workflow.sleep(timedelta(hours=hours))

    @workflow.update
    async def ready(self) -> bool:
        """Answers once the workflow is running its timer, as `intake_done` does for a case."""
        await workflow.wait_condition(lambda: self._timer_set)
        return True
