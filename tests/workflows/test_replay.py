"""Saved histories must replay against the current workflow code, as running cases will."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from service.temporal import DATA_CONVERTER
from workflows.case import CaseWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent / "histories").glob("*.json"))


def test_there_are_saved_histories_to_replay() -> None:
    assert len(HISTORIES) >= 3


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_a_saved_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(f"case:R-{path.stem}", path.read_text())
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=DATA_CONVERTER)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
