"""Moving running cases to a new policy version on the Temporal dev server, with SQLite
and PostgreSQL: a dry run changes nothing; the move records old and new deadlines as a
transition `case explain` shows; a met obligation never changes."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest_asyncio
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from bootstrap import WorkerParts, build_worker
from config import Settings
from service.backends import default_backends
from service.cases import CaseIn, open_case, view_case
from service.policy_migration import migrate_cases
from standards.force import load_force
from standards.policy import load_policy
from storage.database import make_engine, make_session_factory
from storage.models import Case
from storage.timeline import case_timeline
from tests.support.api import temporal_dev_server
from tests.support.dev import (
    ROOT,
    case_open_args,
    dev_environment_in,
    pledge,
    start_dev,
    stop_dev,
)
from tests.support.what_if import SHIPPED_POLICY, policy_with_window

POLICY = load_policy(SHIPPED_POLICY)
# The shipped version, and the one policy_with_window writes from it.
OLD, NEW = POLICY.version, POLICY.version + 1
FORCE = load_force(ROOT / "policies" / "met.force.toml")


@pytest_asyncio.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    async with temporal_dev_server() as env:
        yield env


async def test_a_dry_run_lists_the_move_and_the_migration_makes_it_with_its_reason(
    dev_server: WorkflowEnvironment, database_url: str, tmp_path: Path
) -> None:
    newer = load_policy(policy_with_window(tmp_path, "victim_update", 21))
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    settings = Settings()
    queue = f"migrate-{uuid.uuid4()}"
    parts = WorkerParts(sessions=sessions, backends=default_backends(settings))
    client = dev_server.client
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    case = CaseIn.model_validate(
        {
            "reference": f"M-{uuid.uuid4().hex[:10]}",
            "category": "burglary",
            "reported_at": reported,
            "borough": "Camden",
            "victim": {"name": "Sam Jones", "email": "sam@example.org"},
        }
    )
    try:
        async with build_worker(client, settings, parts, task_queue=queue):
            await open_case(client, sessions, POLICY, case, queue, force=FORCE)
            before = {o.key: o for o in (await view_case(client, case.reference)).obligations}

            (dry,) = await migrate_cases(client, sessions, newer, dry_run=True)
            assert dry.receipt is not None and not dry.receipt.applied
            (move,) = dry.receipt.moves
            assert (move.key, move.window_before, move.window_after) == (
                "victim_update#1",
                "28 days",
                "21 days",
            )
            assert move.due_before == reported + timedelta(days=28)
            assert move.due_after == reported + timedelta(days=21)
            unchanged = await view_case(client, case.reference)
            assert unchanged.policy_version == OLD
            assert {o.key: o.due_at for o in unchanged.obligations} == {
                k: o.due_at for k, o in before.items()
            }

            (done,) = await migrate_cases(client, sessions, newer)
            assert done.receipt is not None and done.receipt.applied
            after = await view_case(client, case.reference)
            assert after.policy_version == NEW
            dues = {o.key: o for o in after.obligations}
            assert dues["victim_update#1"].due_at == reported + timedelta(days=21)
            met = [k for k, o in before.items() if o.state == "met"]
            assert met, "the acknowledgement was met at intake"
            for key in met:
                assert dues[key].due_at == before[key].due_at
                assert dues[key].state == "met"
            # Already on the newer version: nothing left to move.
            assert await migrate_cases(client, sessions, newer) == []
            await client.get_workflow_handle(f"case:{case.reference}").terminate("done")
        with engine.connect() as connection:
            version = connection.scalar(
                select(Case.policy_version).where(Case.reference == case.reference)
            )
            steps = case_timeline(connection, case.reference)
    finally:
        engine.dispose()
    assert version == NEW
    retimed = [s for s in steps if s.obligation_key == "victim_update#1" and s.event == "retimed"]
    assert len(retimed) == 1
    assert f"v{OLD} to v{NEW}" in retimed[0].cause and "28 days -> 21 days" in retimed[0].cause
    assert (reported + timedelta(days=21)).isoformat() in retimed[0].cause


def test_migrating_to_a_version_the_policy_folder_does_not_hold_gets_one_line(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    for arguments, said in (
        (("--to", "5"), f"the policy folder holds met-pledge v{OLD}"),
        (("--to", str(NEW), "--borough", "Atlantis"), "Atlantis"),
    ):
        result = pledge(environment, "policy", "migrate", *arguments, "--dry-run")
        assert result.returncode == 2, result
        assert said in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_pledge_policy_migrate_lists_then_moves_a_running_deadline_and_case_explain_says_why(
    tmp_path: Path,
) -> None:
    environment = dev_environment_in(tmp_path / "data")
    folder = tmp_path / "policies"
    folder.mkdir()
    shutil.copy(ROOT / "policies" / "met.force.toml", folder)
    policy_with_window(tmp_path, "victim_update", 21).rename(folder / "met-pledge.toml")
    newer = {**environment, "PLEDGE_POLICY_DIR": str(folder)}
    reference = f"01/{uuid.uuid4().int % 10**6:06d}/26"
    process, seen = start_dev(environment)
    try:
        assert "Ctrl-C stops" in seen, seen
        opened = pledge(environment, *case_open_args(reference))
        assert opened.returncode == 0, opened

        dry = pledge(newer, "policy", "migrate", "--to", str(NEW), "--dry-run")
        assert dry.returncode == 0, dry
        assert f"{reference}: v{OLD} -> v{NEW}: victim_update#1 would move from" in dry.stdout
        assert "(window 28 days -> 21 days)" in dry.stdout
        assert "dry run: nothing was changed" in dry.stdout

        moved = pledge(newer, "policy", "migrate", "--to", str(NEW))
        assert moved.returncode == 0, moved
        assert f"{reference}: v{OLD} -> v{NEW}: victim_update#1 moved from" in moved.stdout
        again = pledge(newer, "policy", "migrate", "--to", str(NEW))
        assert "no open case runs on an older version of met-pledge" in again.stdout

        explained = pledge({**environment, "COLUMNS": "250"}, "case", "explain", reference)
        assert explained.returncode == 0, explained
        assert f"migrated from met-pledge v{OLD} to v{NEW}" in explained.stdout
    finally:
        stop_dev(process)
