"""A running case moved to a new policy version by its `migrate_policy` update, on the
time-skipping server: the moved deadline is the one its clock keeps, and the case's
history, update included, replays against the workflow code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from service.cases import CaseIn
from service.policy_migration import migrate_cases
from service.runtime.temporal import DATA_CONVERTER
from standards.contracts import case_workflow_id
from standards.policy import load_policy
from tests.support.what_if import policy_with_window
from tests.workflows.conftest import RehearsalFactory
from workflows.case import CaseWorkflow

START = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


async def test_a_migrated_update_deadline_breaches_on_its_new_day_and_the_history_replays(
    cases: RehearsalFactory, env: WorkflowEnvironment, tmp_path: Path
) -> None:
    rehearsal = cases.rehearsal(START)
    await rehearsal.begin()
    case = CaseIn.model_validate(
        {
            "reference": "01/424242/26",
            "category": "burglary",
            "reported_at": START,
            "borough": "Camden",
            "victim": {"name": "Sam Jones", "email": "sam@example.org"},
        }
    )
    await rehearsal.open(case)
    newer = load_policy(policy_with_window(tmp_path, "victim_update", 21))
    (outcome,) = await migrate_cases(env.client, cases.sessions, newer)
    assert outcome.receipt is not None
    assert [m.due_after for m in outcome.receipt.moves] == [START + timedelta(days=21)]

    await rehearsal.advance_to(START + timedelta(days=21, hours=1))
    view = await rehearsal.view(case.reference)
    update = next(o for o in view.obligations if o.standard == "victim_update")
    # Under the version it was opened on it would still run for another week.
    assert update.state == "breached"
    assert update.due_at == START + timedelta(days=21)

    handle = env.client.get_workflow_handle(case_workflow_id(case.reference))
    history: WorkflowHistory = await handle.fetch_history()
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
