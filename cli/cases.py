"""`pledge case open|event|show`, `pledge cases`, `pledge outbox`, `pledge alerts`:
a case's life from the command line, and the listings staff read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli import common
from cli.common import BOROUGH_HELP, fail, force_or_fail, out
from messaging.display import print_listing
from standards.datafile import DataFileError
from standards.events import EventType, accepted_details
from standards.force import UnknownUnit

# Temporal and SQLAlchemy are imported inside the commands that need them: `pledge
# --help` (and a typo) should answer at once.
if TYPE_CHECKING:
    from temporalio.client import Client


def case_open(
    reference: Annotated[str, typer.Option(help="crime reference number, e.g. 01/123456/26")],
    category: Annotated[str, typer.Option(help="e.g. general, burglary, domestic_abuse")],
    borough: Annotated[str, typer.Option(help=BOROUGH_HELP)],
    name: Annotated[str, typer.Option(help="the victim's name")],
    email: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option(help="E.164, e.g. +447700900123")] = None,
    channel: Annotated[str, typer.Option(help="preferred channel: sms or email")] = "email",
    reported_at: Annotated[
        str | None, typer.Option(help="ISO 8601 with offset; default now")
    ] = None,
    vulnerable: Annotated[bool, typer.Option(help="enhanced rights")] = False,
    safe_hours: Annotated[str | None, typer.Option(help="e.g. 09:00-17:00")] = None,
    do_not_contact: Annotated[bool, typer.Option()] = False,
    policy: Annotated[str | None, typer.Option(help="policy id; default met-pledge")] = None,
    language: Annotated[
        str,
        typer.Option(
            help="the victim's language, a code the policy offers: en (English), cy (Welsh)"
        ),
    ] = "en",
) -> None:
    """Open a case: record it and start its workflow."""
    from pydantic import ValidationError

    import bootstrap
    from service.cases import CaseError, CaseIn, case_started, describe_validation_error, open_case
    from service.runtime.temporal import run_with_client
    from standards.contracts import case_workflow_id

    settings = common.settings()
    raw: dict[str, Any] = {
        "reference": reference,
        "category": category,
        "borough": borough,
        "reported_at": reported_at or datetime.now(UTC).isoformat(),
        "vulnerable": vulnerable,
        "victim": {
            "name": name,
            "email": email,
            "phone": phone,
            "preferred_channel": channel,
            "safe_hours": safe_hours,
            "do_not_contact": do_not_contact,
            "language": language,
        },
    }
    try:
        case = CaseIn.model_validate(raw)
        loaded = bootstrap.policy(settings, policy)
        force = bootstrap.force(settings)
    except ValidationError as error:
        raise fail("\n".join(describe_validation_error(error))) from error
    except DataFileError as error:
        raise fail(str(error)) from error

    sessions = bootstrap.database(settings)

    async def go(client: Client) -> tuple[str, bool]:
        opened = await open_case(
            client,
            sessions,
            loaded,
            case,
            settings.task_queue,
            force=force,
            publish_category=settings.publish_category_search_attribute,
        )
        return opened, True

    async def started_without_intake(client: Client) -> tuple[str, bool] | None:
        # The workflow was started but no worker ran its intake: the case is accepted.
        started = await case_started(client, reference)
        return (case_workflow_id(reference), False) if started else None

    try:
        workflow_id, intake_ran = run_with_client(settings, go, started_without_intake)
    except CaseError as error:
        raise fail(str(error)) from error
    if intake_ran:
        out.print(f"opened {reference} (workflow {workflow_id})")
    else:
        out.print(
            f"accepted {reference} (workflow {workflow_id}), but no worker has run its intake "
            f"yet: the acknowledgement goes when a worker polls {settings.task_queue!r} again "
            "(start one with `make run`)"
        )


DETAILS_HELP = (
    "key=value, repeatable. Accepted: "
    + "; ".join(
        f"{e.value}: {', '.join(accepted_details(e))}" for e in EventType if accepted_details(e)
    )
    + "; other events take none"
)


def case_event(
    reference: str,
    type: Annotated[str, typer.Argument(help=", ".join(e.value for e in EventType))],
    at: Annotated[str | None, typer.Option(help="ISO 8601 with offset; default now")] = None,
    standard: Annotated[str | None, typer.Option(help="the standard it names")] = None,
    detail: Annotated[list[str] | None, typer.Option(help=DETAILS_HELP)] = None,
    actor: Annotated[
        str, typer.Option(help="who recorded it (kept in the database, not in the workflow)")
    ] = "pledge cli",
    event_id: Annotated[
        str | None,
        typer.Option(
            help="your id for this event: posting it again with the same id changes nothing"
        ),
    ] = None,
) -> None:
    """Post an event to a case (a contact, an arrest, a closure, ...)."""
    from pydantic import ValidationError

    import bootstrap
    from service.cases import CaseError, EventIn, describe_validation_error, post_event
    from service.runtime.temporal import run_with_client

    settings = common.settings()
    details: dict[str, Any] = {}
    for item in detail or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise fail(f"--detail {item!r} must be key=value")
        details[key] = _detail_value(value)
    try:
        event = EventIn.model_validate(
            {
                "reference": reference,
                "type": type,
                "standard": standard,
                "details": details,
                "at": at or datetime.now(UTC).isoformat(),
                "actor": actor,
                "event_id": event_id,
            }
        )
    except ValidationError as error:
        raise fail("\n".join(describe_validation_error(error))) from error

    sessions = bootstrap.database(settings)

    async def go(client: Client) -> list[str]:
        receipt = await post_event(client, sessions, event)
        return receipt.changed

    try:
        changed = run_with_client(settings, go)
    except CaseError as error:
        raise fail(str(error)) from error
    out.print(f"{type} recorded on {reference}; changed: {', '.join(changed) or 'nothing'}")


def _detail_value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def case_show(
    reference: str,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show a case's obligations: state, due and met instants."""
    from service.cases import CaseError, view_as_dict
    from service.cases import view_case as fetch_view
    from service.listings import case_table
    from service.runtime.temporal import run_with_client

    settings = common.settings()

    async def go(client: Client) -> dict[str, Any]:
        return view_as_dict(await fetch_view(client, reference))

    try:
        view = run_with_client(settings, go)
    except CaseError as error:
        raise fail(str(error)) from error
    if as_json:
        print(json.dumps(view, indent=2))
        return
    print_listing(out, case_table(view), "no obligations")


def list_cases(
    overdue: Annotated[
        bool, typer.Option(help="only cases with an obligation overdue: open and due by now")
    ] = False,
    due_soon: Annotated[
        bool, typer.Option(help="only cases with an obligation past its warning point, not due")
    ] = False,
    borough: Annotated[str | None, typer.Option(help=BOROUGH_HELP)] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """List open cases from the database, earliest next deadline first."""
    import bootstrap
    from service.listings import cases_table, open_cases

    settings = common.settings()
    spellings = _borough_spellings(borough) if borough else None
    rows = open_cases(
        bootstrap.existing_database(settings),
        datetime.now(UTC),
        overdue=overdue,
        due_soon=due_soon,
        boroughs=spellings,
        limit=limit,
    )
    print_listing(out, cases_table(rows, overdue=overdue, due_soon=due_soon), "none")


def _borough_spellings(borough: str) -> list[str]:
    """What the borough column may hold for the unit `borough` names (a one-line error if
    it names none)."""
    try:
        return force_or_fail(common.settings()).resolve_unit(borough).stored_spellings()
    except UnknownUnit as error:
        raise fail(str(error)) from error


def outbox(
    reference: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 20,
) -> None:
    """Read what the local outbox "sent" (the embedded delivery backend)."""
    from sqlalchemy import select

    import bootstrap
    from service.simulate import message_json
    from storage import models

    settings = common.settings()
    sessions = bootstrap.existing_database(settings)
    with sessions() as session:
        query = (
            select(models.OutboxMessage, models.Case.reference)
            .join(models.Case, models.Case.id == models.OutboxMessage.case_id)
            .order_by(models.OutboxMessage.id.desc())
            .limit(limit)
        )
        if reference:
            query = query.where(models.Case.reference == reference)
        for row, ref in session.execute(query).all():
            print(json.dumps(message_json(row, ref)))


def alerts(
    borough: Annotated[str | None, typer.Option(help=BOROUGH_HELP)] = None,
    limit: Annotated[int, typer.Option()] = 50,
) -> None:
    """List staff alerts (warnings, breaches, escalations), newest first."""
    from sqlalchemy import select

    import bootstrap
    from service.listings import alerts_table
    from storage import models

    settings = common.settings()
    spellings = _borough_spellings(borough) if borough else []
    sessions = bootstrap.existing_database(settings)
    with sessions() as session:
        query = select(models.Alert).order_by(models.Alert.at.desc()).limit(limit)
        if spellings:
            query = query.where(models.Alert.borough.in_(spellings))
        table = alerts_table(session.scalars(query))
    print_listing(out, table)


def register(app: typer.Typer, case_app: typer.Typer) -> None:
    """Add the case commands and the listings to `pledge`."""
    case_app.command("open")(case_open)
    case_app.command("event")(case_event)
    case_app.command("show")(case_show)
    app.command("cases")(list_cases)
    app.command()(outbox)
    app.command()(alerts)
