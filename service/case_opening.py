"""Opening a case: its rows written, its workflow started with the non-personal facts its
clocks need, and the row taken back when the start fails; whether a case's workflow
exists. Personal data is validated (service.case_input) and written here.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from service.case_input import (
    CaseError,
    CaseIn,
    check_category,
    check_language,
    check_unit,
)
from service.runtime.metrics import CASES_OPENED
from standards import visibility
from standards.case_state import CaseFacts
from standards.clock import NO_CORRECTIONS, HolidayCorrections, Nation
from standards.contracts import (
    CASE_WORKFLOW,
    CaseView,
    CaseWorkflowInput,
    case_workflow_id,
)
from standards.events import (
    in_the_future,
)
from standards.force import Force
from standards.policy import Policy
from standards.schedules import opening
from storage import models
from storage.enums import CaseStatus


def case_record(case: CaseIn, policy: Policy, nation: Nation | None = None) -> models.Case:
    victim = case.victim
    start, end = victim.safe_hours_window()
    discreet = (
        victim.discreet
        if victim.discreet is not None
        else policy.discreet_by_default_for(case.category)
    )
    record = models.Case(
        reference=case.reference,
        workflow_id=case_workflow_id(case.reference),
        category=case.category,
        borough=case.borough,
        vulnerable=case.vulnerable,
        nation=(nation or policy.nation).value,
        reported_at=case.reported_at,
        policy_id=policy.id,
        policy_version=policy.version,
        status=CaseStatus.OPEN,
    )
    record.victim = models.Victim(
        name=victim.name,
        email=victim.email,
        phone=victim.phone,
        preferred_channel=victim.preferred_channel,
        allowed_channels=list(victim.allowed_channels or [victim.preferred_channel]),
        safe_hours_start=start,
        safe_hours_end=end,
        discreet=discreet,
        do_not_contact=victim.do_not_contact,
        language=victim.language.value,
    )
    return record


def workflow_input(
    case: CaseIn,
    policy: Policy,
    clock_offset_seconds: float = 0.0,
    history_event_limit: int | None = None,
    nation: Nation | None = None,
    corrections: HolidayCorrections = NO_CORRECTIONS,
    publish_category: bool = True,
) -> CaseWorkflowInput:
    facts = CaseFacts(
        reference=case.reference,
        category=case.category,
        borough=case.borough,
        reported_at=case.reported_at,
        policy=policy,
        vulnerable=case.vulnerable,
        nation=nation,
    )
    workflow_input = CaseWorkflowInput(
        facts=facts,
        clock_offset_seconds=clock_offset_seconds,
        opening=opening(facts, corrections),
        local_sends=True,
        breach_overdue_at_once=True,
        publish_category=publish_category,
        clock_first=True,
        send_and_record=True,
        search_attributes_at_start=True,
    )
    if history_event_limit is not None:
        workflow_input.history_event_limit = history_event_limit
    return workflow_input


def _insert_case(
    sessions: sessionmaker[Session], case: CaseIn, policy: Policy, nation: Nation
) -> None:
    with sessions.begin() as session:
        exists = session.scalar(
            select(models.Case.id).where(models.Case.reference == case.reference)
        )
        if exists is not None:
            raise CaseError(f"case {case.reference} already exists")
        session.add(case_record(case, policy, nation))
        try:
            session.flush()
        except IntegrityError as error:
            raise CaseError(f"case {case.reference} already exists") from error


def _delete_case(sessions: sessionmaker[Session], reference: str) -> None:
    with sessions.begin() as session:
        row = session.scalar(select(models.Case).where(models.Case.reference == reference))
        if row is not None:
            if row.victim is not None:
                session.delete(row.victim)
            session.delete(row)


async def open_case(
    client: Client,
    sessions: sessionmaker[Session],
    policy: Policy,
    case: CaseIn,
    task_queue: str,
    clock_offset_seconds: float = 0.0,
    history_event_limit: int | None = None,
    now: datetime | None = None,
    *,
    force: Force,
    publish_category: bool = True,
) -> str:
    """Record the case and its victim, start its workflow and wait for its intake.

    A duplicate is refused, and so are a borough the force does not have and a report
    from the future (`now` is the wall clock unless a rehearsal says otherwise); the
    case keeps the unit's canonical id and its unit's nation. The row is committed
    before the workflow starts (no transaction is held open across the network call)
    and removed again if the start is refused or fails.
    """
    check_category(policy, case.category)
    check_language(policy, case.victim.language)
    unit = check_unit(force, case.borough)
    case = case.model_copy(update={"borough": unit.id})
    nation = force.nation_of(unit)
    future = in_the_future("reported_at", case.reported_at, now or datetime.now(UTC))
    if future is not None:
        raise CaseError(future)
    await asyncio.to_thread(_insert_case, sessions, case, policy, nation)
    # Started together with the `intake_done` update: one call, and the update rides
    # on the case's first workflow task instead of waking it a second time.
    input = workflow_input(
        case,
        policy,
        clock_offset_seconds,
        history_event_limit,
        nation=nation,
        corrections=force.holiday_corrections,
        publish_category=publish_category,
    )
    # Set by the start: no upsert on the case's first workflow task, one visibility
    # write fewer.
    start = _start_operation(
        input, task_queue, visibility.at_start(input, now or datetime.now(UTC))
    )
    try:
        try:
            await client.execute_update_with_start_workflow(
                "intake_done", start_workflow_operation=start, result_type=CaseView
            )
        except RPCError as error:
            if not _search_attributes_unregistered(error):
                raise
            # A namespace no worker has prepared yet (a bare server): the start is
            # refused whole, so the case starts without them, and its workflow upserts
            # them once a worker has registered them, as cases did before.
            input.search_attributes_at_start = False
            start = _start_operation(input, task_queue, TypedSearchAttributes.empty)
            await client.execute_update_with_start_workflow(
                "intake_done", start_workflow_operation=start, result_type=CaseView
            )
    except BaseException as error:
        started = await _known_started(start)
        if not started and not isinstance(error, WorkflowAlreadyStartedError):
            # A caller's bound may cut the call after the server took the start (no worker
            # to run the intake): the case is accepted, so its record must stay.
            with contextlib.suppress(asyncio.CancelledError):
                started = await case_started(client, case.reference)
        if not started:
            await asyncio.to_thread(_delete_case, sessions, case.reference)
        if isinstance(error, WorkflowAlreadyStartedError):
            raise CaseError(f"case {case.reference} already has a workflow") from error
        raise
    CASES_OPENED.inc()
    return case_workflow_id(case.reference)


def _start_operation(
    input: CaseWorkflowInput, task_queue: str, attributes: TypedSearchAttributes
) -> WithStartWorkflowOperation[Any, Any]:
    return WithStartWorkflowOperation(
        CASE_WORKFLOW,
        input,
        id=case_workflow_id(input.facts.reference),
        task_queue=task_queue,
        search_attributes=attributes,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )


def _search_attributes_unregistered(error: RPCError) -> bool:
    # The server's wording ("Namespace X has no mapping defined for search attribute Y")
    # is the only sign: the status is the general INVALID_ARGUMENT.
    return (
        error.status == RPCStatusCode.INVALID_ARGUMENT
        and "no mapping defined for search attribute" in error.message
    )


async def _known_started(start: WithStartWorkflowOperation[Any, Any]) -> bool:
    """Whether the server said the start half of an update-with-start went through."""
    try:
        await asyncio.wait_for(start.workflow_handle(), timeout=1)
    except (Exception, asyncio.CancelledError):
        return False
    return True


# How long to wait for the server to say whether a case's workflow exists.
CASE_LOOKUP_TIMEOUT_SECONDS = 2.0


async def case_started(
    client: Client, reference: str, timeout: float = CASE_LOOKUP_TIMEOUT_SECONDS
) -> bool:
    """Whether the case's workflow exists (started, whether or not a worker has run it);
    False when there is none, or the server does not say within `timeout` seconds."""
    try:
        await asyncio.wait_for(
            client.get_workflow_handle(case_workflow_id(reference)).describe(), timeout
        )
    except (TimeoutError, RPCError, RuntimeError):
        return False
    return True
