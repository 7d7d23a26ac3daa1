"""`pledge`: run the service, open cases, post events, rehearse scenarios."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from reporting.display import listing, name_column, print_listing
from service.errors import describe_error, print_error
from service.settings import Settings
from standards.datafile import DataFileError
from standards.events import EventType, accepted_details
from standards.force import FORCE_FILE_SUFFIX, Force, UnknownUnit

# Temporal, SQLAlchemy, the workflow module and the reports are imported inside the
# commands that need them: `pledge --help` (and a typo) should answer at once.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from temporalio.client import Client

    from service.listings import CaseRow

app = typer.Typer(
    help="Pledge Monitor: keeps a police force's promises to victims of crime.",
    no_args_is_help=True,
    # Locals may hold personal data or secrets; `--debug` prints a plain traceback.
    pretty_exceptions_show_locals=False,
)
case_app = typer.Typer(
    help="Open a case, post an event, show its obligations.", no_args_is_help=True
)
policy_app = typer.Typer(help="Check policy and force files.", no_args_is_help=True)
holidays_app = typer.Typer(help="Check the bank-holiday data.", no_args_is_help=True)
app.add_typer(case_app, name="case")
app.add_typer(policy_app, name="policy")
app.add_typer(holidays_app, name="holidays")

out = Console()
# An error is one line however narrow the terminal: Rich would otherwise wrap it.
err = Console(stderr=True, soft_wrap=True)

BOROUGH_HELP = "a borough by id or name, any case (the force file lists them)"


def fail(message: str, code: int = 1) -> typer.Exit:
    print_error(err, message)
    return typer.Exit(code)


class Options:
    """What the global options asked for; read when an error is reported."""

    debug = False


@app.callback()
def global_options(
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="PLEDGE_DEBUG", help="show the traceback behind an error"),
    ] = False,
) -> None:
    Options.debug = debug


def _settings() -> Settings:
    return Settings()


def _sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, created or brought up to date first."""
    from storage.database import make_engine, make_session_factory, upgrade_to_head

    url = settings.resolved_database_url
    upgrade_to_head(url)
    return make_session_factory(make_engine(url))


def _existing_sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on a database that already exists: a read-only command creates nothing."""
    from storage.database import existing_engine, make_session_factory

    return make_session_factory(existing_engine(settings.resolved_database_url))


@app.command()
def dev(
    port: Annotated[int | None, typer.Option(help="Temporal frontend port")] = None,
    ui_port: Annotated[int | None, typer.Option(help="Temporal Web UI port")] = None,
) -> None:
    """Run everything locally: Temporal dev server (state on disk), migrations, the worker."""
    from devserver import run_dev
    from service.servers import ServerFailed
    from service.temporal import run_to_end

    settings = _settings()
    if port is not None:
        settings.temporal_port = port
    if ui_port is not None:
        settings.temporal_ui_port = ui_port
    try:
        run_to_end(run_dev(settings, out))
    except KeyboardInterrupt:
        err.print("stopped")
    except ServerFailed as error:
        raise fail(str(error)) from error


@app.command()
def migrate() -> None:
    """Bring the database (DATABASE_URL, or SQLite in the data directory) up to date."""
    from storage.database import upgrade_to_head

    settings = _settings()
    upgrade_to_head(settings.resolved_database_url)
    out.print(f"database at head: {settings.resolved_database_url}")


@case_app.command("open")
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
) -> None:
    """Open a case: record it and start its workflow."""
    from pydantic import ValidationError

    from service.cases import CaseError, CaseIn, case_started, describe_validation_error, open_case
    from service.configuration import configured_force, configured_policy
    from service.temporal import run_with_client
    from standards.contracts import case_workflow_id

    settings = _settings()
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
        },
    }
    try:
        case = CaseIn.model_validate(raw)
        loaded = configured_policy(settings, policy)
        force = configured_force(settings)
    except ValidationError as error:
        raise fail("\n".join(describe_validation_error(error))) from error
    except DataFileError as error:
        raise fail(str(error)) from error

    sessions = _sessions(settings)

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


@case_app.command("event")
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

    from service.cases import CaseError, EventIn, describe_validation_error, post_event
    from service.temporal import run_with_client

    settings = _settings()
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

    sessions = _sessions(settings)

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


@case_app.command("show")
def case_show(
    reference: str,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Show a case's obligations: state, due and met instants."""
    from service.cases import CaseError, view_as_dict
    from service.cases import view_case as fetch_view
    from service.listings import case_table
    from service.temporal import run_with_client

    settings = _settings()

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


@app.command("cases")
def list_cases(
    overdue: Annotated[bool, typer.Option(help="only cases with a breached obligation")] = False,
    borough: Annotated[str | None, typer.Option(help=BOROUGH_HELP)] = None,
    limit: Annotated[int, typer.Option()] = 100,
) -> None:
    """List open cases from Temporal visibility (search attributes)."""
    from service.listings import CaseRow, cases_table
    from service.temporal import run_with_client
    from workflows import search_attributes as sa

    settings = _settings()
    query = f"WorkflowType = 'CaseWorkflow' AND {sa.CASE_STATUS.name} = 'open'"
    if overdue:
        query += f" AND {sa.BREACHED_COUNT.name} > 0"
    if borough:
        spellings = ", ".join(f"'{s.replace(chr(39), '')}'" for s in _borough_spellings(borough))
        query += f" AND {sa.BOROUGH.name} IN ({spellings})"

    async def go(client: Client) -> list[CaseRow]:
        rows = []
        async for wf in client.list_workflows(query, limit=limit):
            attrs = wf.typed_search_attributes
            rows.append(
                CaseRow(
                    reference=wf.id.removeprefix("case:"),
                    borough=attrs.get(sa.BOROUGH) or "",
                    category=attrs.get(sa.CATEGORY) or "",
                    breached=attrs.get(sa.BREACHED_COUNT) or 0,
                    next_deadline=attrs.get(sa.NEXT_DEADLINE),
                )
            )
        return rows

    rows = run_with_client(settings, go)
    print_listing(
        out, cases_table(rows, overdue=overdue), "none (visibility may take a second to catch up)"
    )


def _borough_spellings(borough: str) -> list[str]:
    """What the borough column may hold for the unit `borough` names (a one-line error if
    it names none)."""
    try:
        return _force(_settings()).resolve_unit(borough).stored_spellings()
    except UnknownUnit as error:
        raise fail(str(error)) from error


def _force(settings: Settings) -> Force:
    from service.configuration import configured_force

    try:
        return configured_force(settings)
    except DataFileError as error:
        raise fail(str(error)) from error


@app.command()
def outbox(
    reference: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 20,
) -> None:
    """Read what the local outbox "sent" (the embedded delivery backend)."""
    from sqlalchemy import select

    from service.simulate import message_json
    from storage import models

    settings = _settings()
    sessions = _existing_sessions(settings)
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


@app.command()
def alerts(
    borough: Annotated[str | None, typer.Option(help=BOROUGH_HELP)] = None,
    limit: Annotated[int, typer.Option()] = 50,
) -> None:
    """List staff alerts (warnings, breaches, escalations), newest first."""
    from sqlalchemy import select

    from service.listings import alerts_table
    from storage import models

    settings = _settings()
    spellings = _borough_spellings(borough) if borough else []
    sessions = _existing_sessions(settings)
    with sessions() as session:
        query = select(models.Alert).order_by(models.Alert.at.desc()).limit(limit)
        if spellings:
            query = query.where(models.Alert.borough.in_(spellings))
        table = alerts_table(session.scalars(query))
    print_listing(out, table)


class SimulationEngine(StrEnum):
    """How `pledge simulate` runs a scenario's cases (both give the same JSON)."""

    IN_PROCESS = "in-process"
    TEMPORAL = "temporal"


@app.command()
def simulate(
    scenario: Annotated[
        Path, typer.Argument(help="scenario, YAML or JSON", exists=True, dir_okay=False)
    ],
    engine: Annotated[
        SimulationEngine,
        typer.Option(
            help="in-process: the case books on one discrete-event clock, on every core; "
            "temporal: the real workflows on the time-skipping test server"
        ),
    ] = SimulationEngine.IN_PROCESS,
    shards: Annotated[
        int,
        typer.Option(
            min=1,
            help="temporal engine: time-skipping servers to spread the cases over "
            "(cases never interact)",
        ),
    ] = 4,
    processes: Annotated[
        int | None,
        typer.Option(min=1, help="in-process engine: worker processes (default: one a core)"),
    ] = None,
    into_database: Annotated[
        bool,
        typer.Option(
            help="temporal engine: write the rehearsed history into the configured database"
        ),
    ] = False,
) -> None:
    """Rehearse a scenario; print the outcome as JSON.

    The in-process engine is the default; --engine temporal runs the real workflows on
    the time-skipping test server."""
    settings = _settings()
    if into_database and engine != SimulationEngine.TEMPORAL:
        raise fail(
            "--into-database needs --engine temporal (it records the workflows' writes)", code=2
        )
    text = scenario.read_text(encoding="utf-8")
    if engine == SimulationEngine.IN_PROCESS:
        from service.scenario import ScenarioError
        from service.simulate_in_process import simulate_in_process

        try:
            simulate_in_process(text, str(scenario), settings, sys.stdout, processes)
        except (ScenarioError, DataFileError) as error:
            raise fail(str(error), code=2) from error
        return
    _simulate_on_temporal(text, str(scenario), settings, shards, into_database)


def _simulate_on_temporal(
    text: str, origin: str, settings: Settings, shards: int, into_database: bool
) -> None:
    from rich.progress import Progress

    from service.simulate import ScenarioError, parse_scenario, run_scenario
    from service.temporal import log_expected_retries_briefly, run_to_end
    from worker import rehearsal_worker

    try:
        parsed = parse_scenario(text, origin)
    except ScenarioError as error:
        raise fail(str(error), code=2) from error
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    log_expected_retries_briefly()
    url = settings.resolved_database_url if into_database else None
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("rehearsing", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            with stdout_to_stderr():
                outcome = run_to_end(
                    run_scenario(parsed, settings, rehearsal_worker, url, advance, shards)
                )
        except (ScenarioError, DataFileError) as error:
            raise fail(str(error), code=2) from error
    print(json.dumps(outcome.as_json(), indent=2))


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Point file descriptor 1 at stderr: native code (Temporal's core) may log to stdout,
    and `simulate` promises nothing but JSON there."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


@policy_app.command("check")
def policy_check(
    path: Annotated[Path, typer.Argument(help=f"a policy, or a force file (*{FORCE_FILE_SUFFIX})")],
) -> None:
    """Validate a policy or force file; name the line and field of any mistake.

    A policy is checked against the message templates in the template directory
    (PLEDGE_TEMPLATE_DIR): every message it names needs its email and SMS forms."""
    from service.configuration import checked_policy
    from standards.force import load_force

    settings = _settings()
    try:
        if path.name.endswith(FORCE_FILE_SUFFIX):
            force = load_force(path)
            out.print(f"{force.id}: {len(force.units)} {force.unit_label} units, ok")
            return
        loaded = checked_policy(path, settings)
    except DataFileError as error:
        raise fail(str(error), code=2) from error
    except IsADirectoryError as error:
        raise fail(f"{path} is a folder; give a policy file (.toml)", code=2) from error
    except FileNotFoundError as error:
        raise fail(f"no file {path}; give a policy file (.toml)", code=2) from error
    except OSError as error:
        raise fail(f"cannot read {path}: {error.strerror}", code=2) from error
    except UnicodeDecodeError as error:
        raise fail(
            f"{path} is not UTF-8 text (byte {error.start}); save the policy as UTF-8", code=2
        ) from error
    out.print(f"{loaded.id} version {loaded.version}: {len(loaded.standards)} standards, ok")


@holidays_app.command("check")
def holidays_check(
    year: Annotated[
        int | None, typer.Option(help="only this year; default every year GOV.UK's list covers")
    ] = None,
) -> None:
    """Compare the `holidays` package with GOV.UK's list (shipped in govuk-bank-holidays).

    Prints every weekday the two disagree on, per nation, and what deadlines use after
    the force file's corrections. Exits 1 if a difference is not settled by the force file."""
    from service.holidays import govuk_years, holiday_differences

    settings = _settings()
    force = _force(settings)
    covered = govuk_years()
    if year is not None and year not in covered:
        raise fail(f"GOV.UK's list covers {covered[0]} to {covered[-1]}, not {year}", code=2)
    years = [year] if year is not None else covered
    differences = holiday_differences(years, force.holiday_corrections)
    span = f"{years[0]}" if len(years) == 1 else f"{years[0]}-{years[-1]}"
    if not differences:
        out.print(f"holidays and GOV.UK agree on every working day, {span}")
        return
    table = listing(
        f"bank holidays: holidays vs GOV.UK, {span}",
        *(
            name_column(header)
            for header in ("nation", "day", "holidays", "GOV.UK", "deadlines use", "force file")
        ),
    )
    for d in differences:
        table.add_row(
            d.nation.value,
            f"{d.day.isoformat()} {d.day:%a}",
            d.holidays_name or "-",
            d.govuk_name or "-",
            "bank holiday" if d.used_as_holiday else "working day",
            "corrects it" if d.corrected else "silent",
        )
    print_listing(out, table)
    unsettled = [d for d in differences if not d.corrected]
    if unsettled:
        raise fail(
            f"{len(unsettled)} difference(s) not settled in {settings.resolved_force_file}: "
            "add or remove the day under [[bank_holidays]]"
        )


def _register_reports() -> None:
    # Reports live in their own package; it adds its commands to this app.
    try:
        from reporting.cli import register
    except ModuleNotFoundError as error:
        if error.name != "reporting.cli" and error.name != "reporting":
            raise
        return
    register(app, case_app)


_register_reports()

from service.ops_cli import register as _register_operations  # noqa: E402
from service.policy_migrate_cli import register as _register_policy_migrate  # noqa: E402
from service.token_cli import register as _register_tokens  # noqa: E402
from service.user_cli import register as _register_users  # noqa: E402
from web.cli import register as _register_web  # noqa: E402

_register_web(app)
_register_tokens(app)
_register_users(app)
_register_policy_migrate(policy_app)
_register_operations(app)


def main() -> None:
    """The `pledge` command: a user sees one line per error; --debug shows the traceback."""
    try:
        app()
    except Exception as error:
        try:
            settings: Settings | None = _settings()
        except Exception:
            settings = None
        debug = Options.debug or (settings is not None and settings.debug)
        if debug:
            traceback.print_exception(error)
        message = describe_error(error, settings)
        if message is None:
            message = f"{type(error).__name__}: {error}"
            if not debug:
                message += " (a fault in pledge: run again with --debug and report the traceback)"
        print_error(err, message)
        sys.exit(1)


if __name__ == "__main__":
    main()
