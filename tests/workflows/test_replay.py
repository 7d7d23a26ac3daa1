"""Saved histories must replay against the current workflow code, as running cases will."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from config import Settings
from service.runtime.encryption import new_key_text
from service.runtime.temporal import DATA_CONVERTER, data_converter
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


async def test_a_replayer_with_encryption_keys_still_replays_histories_saved_plain() -> None:
    """Production's replayer has the codec composed in (PLEDGE_PAYLOAD_KEYS); histories
    written before encryption was switched on must replay through it unchanged."""
    settings = Settings(payload_keys=SecretStr(new_key_text("k1")))
    converter = data_converter(settings)
    assert converter.payload_codec is not None
    replayer = Replayer(workflows=[CaseWorkflow], data_converter=converter)
    for path in HISTORIES:
        history = WorkflowHistory.from_json(f"case:R-{path.stem}", path.read_text())
        result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None, path.stem
