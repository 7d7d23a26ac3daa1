"""Record workflow histories for the replay test: `python -m tests.workflows.record_histories`.

Run it when a deliberate, patched workflow change ships, with a new tag
(`python -m tests.workflows.record_histories local-sends`), and keep the old
files: every saved history must still replay, as running cases would.

`--without FIELD` opens the cases without that input flag of CaseWorkflowInput, so
their runs take the change by its patch marker, as a case opened before the change
and still running does (`... sends-patch --without send_and_record`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import service.cases
from bootstrap import WorkerParts, build_worker, simulation_backends
from config import Settings
from service.cases import CaseIn, EventIn
from service.configuration import configured_force
from service.simulate import Rehearsal, time_skipping_environment
from standards.contracts import CaseWorkflowInput, case_workflow_id
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory, upgrade_to_head

HERE = Path(__file__).resolve().parent
START = datetime(2026, 3, 27, 17, 30, tzinfo=UTC)


def _case(reference: str, category: str, reported_at: datetime = START) -> CaseIn:
    return CaseIn.model_validate(
        {
            "reference": reference,
            "category": category,
            "reported_at": reported_at,
            "borough": "Camden",
            "victim": {
                "name": "Replay Victim",
                "phone": "+447700900123",
                "preferred_channel": "sms",
            },
        }
    )


def _event(reference: str, type: str, hours: float, **extra: object) -> EventIn:
    return EventIn.model_validate(
        {"reference": reference, "type": type, "at": START + timedelta(hours=hours), **extra}
    )


async def record(
    name: str,
    category: str,
    events: list[tuple[str, float, dict[str, object]]],
    until_hours: float,
    history_event_limit: int | None = None,
    tag: str = "",
    reported_hours_before: float = 0,
) -> None:
    name = f"{name}-{tag}" if tag else name
    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'replay.db'}"
        upgrade_to_head(url)
        sessions = make_session_factory(make_engine(url))
        async with time_skipping_environment() as env:
            queue = f"record-{uuid.uuid4()}"
            parts = WorkerParts(sessions=sessions, backends=simulation_backends())
            async with build_worker(env.client, Settings(), parts, task_queue=queue):
                policy = load_policy(Settings().policy_dir / "met-pledge.toml")
                rehearsal = Rehearsal(
                    env,
                    sessions,
                    policy,
                    queue,
                    START,
                    history_event_limit=history_event_limit,
                    force=configured_force(Settings()),
                )
                await rehearsal.begin()
                reference = f"R-{name}"
                reported_at = START - timedelta(hours=reported_hours_before)
                await rehearsal.open(_case(reference, category, reported_at))
                for type, hours, extra in events:
                    await rehearsal.post(_event(reference, type, hours, **extra))
                await rehearsal.advance_to(START + timedelta(hours=until_hours))
                handle = env.client.get_workflow_handle(case_workflow_id(reference))
                history = await handle.fetch_history()
                (HERE / "histories" / f"{name}.json").write_text(history.to_json())
                await handle.terminate("recorded")


async def main(tag: str) -> None:
    await record(
        "da-breached-met",
        "domestic_abuse",
        [
            ("contact_recorded", 60, {}),
            (
                "breach_explained",
                61,
                {"standard": "dv_contact", "details": {"reason": "victim_unreachable"}},
            ),
            ("arrest", 100, {}),
            ("preferences_changed", 120, {"details": {"update_interval_days": 14}}),
        ],
        until_hours=24 * 40,
        tag=tag,
    )
    await record(
        "closed-reopened",
        "general",
        [
            ("officer_assigned", 2, {"event_id": "crs-officer", "actor": "DC Replay"}),
            # Posted again with its id: a repeat, which acts once.
            ("officer_assigned", 2, {"event_id": "crs-officer", "actor": "DC Replay"}),
            ("closed", 30, {}),
            ("reopened", 50, {"details": {"reason": "new evidence"}}),
            ("closed", 90, {"details": {"reason": "no further lines of enquiry"}}),
        ],
        until_hours=24 * 10,
        tag=tag,
    )
    await record(
        "continued",
        "serious_assault",
        [("review_recorded", 5, {})]
        + [("update_delivered", 24.0 * day, {}) for day in range(1, 8)],
        until_hours=24 * 30,
        history_event_limit=40,
        tag=tag,
    )
    # Entered three days after the report: deadlines that have already passed at intake.
    await record(
        "backdated",
        "domestic_abuse",
        [("contact_recorded", 1, {"standard": "dv_contact"}), ("arrest", 30, {})],
        until_hours=24 * 3,
        tag=tag,
        reported_hours_before=72,
    )
    # Events exactly at the case's own instants: the dv_contact warning (18 h), two at
    # once there, and the deadline (24 h); what is due by then happens first.
    await record(
        "coinciding",
        "domestic_abuse",
        [
            ("officer_assigned", 18, {}),
            ("arrest", 18, {}),
            ("contact_recorded", 24, {"standard": "dv_contact"}),
        ],
        until_hours=24 * 3,
        tag=tag,
    )


def open_without(flag: str) -> None:
    """Cases opened from here on start with the input flag `flag` unset."""
    if not isinstance(getattr(CaseWorkflowInput, flag, None), bool):
        raise SystemExit(f"{flag} is not an input flag of CaseWorkflowInput")
    current = service.cases.workflow_input

    def older(*args: Any, **kwargs: Any) -> CaseWorkflowInput:
        started = dataclasses.replace(current(*args, **kwargs))
        setattr(started, flag, False)
        return started

    service.cases.workflow_input = older


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if "--without" in arguments:
        at = arguments.index("--without")
        open_without(arguments[at + 1])
        del arguments[at : at + 2]
    asyncio.run(main(arguments[0] if arguments else ""))
