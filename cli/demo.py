"""`pledge demo-data`, and the demo cases `pledge dev` (`make run`) opens at its start.

Two kinds of demo, kept apart:
- demo cases (`--cases`, and `make run`'s PLEDGE_DEMO_CASES): real cases with workflows,
  opened through the intake use case with past report instants and their past events
  posted through the case book (service/demo_workflows.py); every queue row they make
  can be cleared with "Record contact" or "Explain the breach";
- demo history (`--history`): a year of rows written straight to the database by the same
  rules (reporting/demo.py), for the reports and the dashboard. No workflow runs for them:
  they are read-only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import MofNCompleteColumn, Progress, TimeRemainingColumn

from cli.common import err, fail, out
from config import Settings
from standards.clock import LONDON
from standards.datafile import DataFileError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker
    from temporalio.client import Client

    from service.demo_workflows import DemoPlan, DemoStarted


def _progress(console: Console) -> Progress:
    columns = (*Progress.get_default_columns()[:-1], MofNCompleteColumn(), TimeRemainingColumn())
    return Progress(*columns, console=console, transient=False)


async def open_demo_cases(
    client: Client,
    sessions: sessionmaker[Session],
    settings: Settings,
    plan: DemoPlan,
    console: Console,
) -> DemoStarted:
    """Open the plan's demo cases with a progress bar; DemoFailed says in one line why not."""
    import bootstrap
    from service.demo_workflows import start_demo_cases

    policy = bootstrap.policy(settings)
    force = bootstrap.force(settings)
    with _progress(console) as progress:
        task = progress.add_task("opening demo cases", total=None)

        def advance(done: int, total: int) -> None:
            # Nothing to open (all there already): no bar, only the line that says so.
            progress.update(task, completed=done, total=total, visible=total > 0)

        return await start_demo_cases(client, sessions, settings, policy, force, plan, advance)


def started_line(started: DemoStarted) -> str:
    return (
        f"demo cases: {started.opened} opened with their workflows, {started.existing} "
        f"already there, {started.events} events posted"
        + (f", {started.refused} refused by their case" if started.refused else "")
    )


def demo_data(
    cases: Annotated[
        int,
        typer.Option(
            help="demo cases to open as real cases with workflows (needs the Temporal "
            "server of `make run`)"
        ),
    ] = 0,
    days: Annotated[int, typer.Option(help="demo cases reported over this many days")] = 45,
    history: Annotated[
        int, typer.Option(help="read-only history cases to write for the reports (no workflows)")
    ] = 0,
    history_days: Annotated[
        int, typer.Option(help="spread the history's reports over this many days")
    ] = 365,
    start: Annotated[
        str | None, typer.Option(help="the history's first report day, YYYY-MM-DD")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed (same seed, same demo)")] = 1,
) -> None:
    """Demo data: cases with workflows you can act on (--cases), and read-only history
    for the reports (--history), both made by the same rules as live cases."""
    if cases < 0 or history < 0 or days < 1 or history_days < 1:
        raise fail("--cases and --history must be >= 0, --days and --history-days >= 1", 2)
    if not cases and not history:
        raise fail("nothing to do: give --cases N (cases with workflows) or --history N", 2)
    settings = Settings()
    if history:
        _write_history(settings, history, history_days, start, seed)
    if cases:
        _open_cases(settings, cases, days, seed)


def _open_cases(settings: Settings, cases: int, days: int, seed: int) -> None:
    import bootstrap
    from service.demo_workflows import DemoFailed, DemoPlan
    from service.runtime.temporal import TemporalUnavailable, connect, run_to_end

    sessions = bootstrap.database(settings)

    async def go() -> DemoStarted:
        client = await connect(settings)
        return await open_demo_cases(
            client, sessions, settings, DemoPlan(cases=cases, days=days, seed=seed), err
        )

    try:
        started = run_to_end(go())
    except (DemoFailed, TemporalUnavailable, DataFileError, ValueError) as error:
        raise fail(str(error)) from error
    out.print(started_line(started))


def _write_history(settings: Settings, cases: int, days: int, start: str | None, seed: int) -> None:
    import bootstrap
    from cli.reports import _day
    from reporting.compliance import local_midnight
    from reporting.demo import generate
    from service.simulate_in_process import engine_config

    first = _day(start, "--start") if start else datetime.now(LONDON).date() - timedelta(days=days)
    try:
        policy = bootstrap.policy(settings)
        force = bootstrap.force(settings)
    except DataFileError as error:
        raise fail(str(error), code=2) from error
    try:
        with bootstrap.migrated_engine(settings) as engine, _progress(err) as progress:
            task = progress.add_task("writing history", total=cases)
            counts = generate(
                engine,
                engine_config(settings, policy, force),
                cases=cases,
                start=local_midnight(first),
                days=days,
                seed=seed,
                progress=lambda done: progress.update(task, completed=done),
            )
            # A bulk load: the planner's statistics are out of date (SQLite has none).
            bootstrap.refresh_statistics_of(engine)
    except ValueError as error:
        raise fail(str(error), code=2) from error
    states = ", ".join(f"{state}: {count}" for state, count in sorted(counts.states.items()))
    out.print(
        f"wrote {counts.cases} history cases (read-only, no workflows), {counts.victims} "
        f"victims, {counts.obligations} obligations ({states}), {counts.transitions} "
        f"transitions, {counts.messages} messages, {counts.alerts} alerts, "
        f"{counts.events} case events"
    )


def register(app: typer.Typer) -> None:
    app.command("demo-data")(demo_data)


__all__ = ["open_demo_cases", "register", "started_line"]
