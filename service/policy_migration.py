"""Moving running cases to a new version of their policy, one workflow update each.

Which deadlines move is the case book's decision (standards/policy_migration.py), made
inside each case's workflow (its `migrate_policy` update), which records every move as a
transition; the service picks the cases and keeps the case row's policy version.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError

from standards.contracts import case_workflow_id
from standards.policy import Policy
from standards.policy_migration import PolicyMigrationReceipt, PolicyMigrationRequest
from storage.enums import CaseStatus
from storage.models import Case


@dataclass
class MigrationOutcome:
    reference: str
    receipt: PolicyMigrationReceipt | None = None
    # Why the case could not be moved (its workflow has finished, or it refused).
    problem: str | None = None


def cases_to_migrate(
    sessions: sessionmaker[Session], policy: Policy, borough: str | None
) -> list[str]:
    """Open cases on an older version of `policy` (of one borough, when given)."""
    query = select(Case.reference).where(
        Case.policy_id == policy.id,
        Case.policy_version < policy.version,
        Case.status == CaseStatus.OPEN.value,
    )
    if borough is not None:
        query = query.where(Case.borough == borough)
    with sessions() as session:
        return list(session.scalars(query.order_by(Case.id)))


def record_version(sessions: sessionmaker[Session], reference: str, version: int) -> None:
    with sessions.begin() as session:
        session.execute(
            update(Case).where(Case.reference == reference).values(policy_version=version)
        )


async def migrate_cases(
    client: Client,
    sessions: sessionmaker[Session],
    policy: Policy,
    borough: str | None = None,
    dry_run: bool = False,
) -> list[MigrationOutcome]:
    """Ask each case on an older version to move to `policy` (or, dry, what would move)."""
    references = await asyncio.to_thread(cases_to_migrate, sessions, policy, borough)
    outcomes: list[MigrationOutcome] = []
    request = PolicyMigrationRequest(policy=policy, dry_run=dry_run)
    for reference in references:
        handle = client.get_workflow_handle(case_workflow_id(reference))
        try:
            receipt: PolicyMigrationReceipt = await handle.execute_update(
                "migrate_policy", request, result_type=PolicyMigrationReceipt
            )
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            outcomes.append(
                MigrationOutcome(reference, problem=getattr(cause, "message", None) or str(cause))
            )
            continue
        except RPCError as error:
            outcomes.append(MigrationOutcome(reference, problem=f"not running: {error.message}"))
            continue
        if receipt.applied:
            await asyncio.to_thread(record_version, sessions, reference, receipt.to_version)
        outcomes.append(MigrationOutcome(reference, receipt=receipt))
    return outcomes
