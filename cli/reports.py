"""The reporting commands, added to `pledge` by ``cli.main`` at import time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cli.errors import print_error
from config import Settings
from messaging.display import print_listing
from standards.datafile import DataFileError
from standards.force import Force, UnknownUnit, load_force
from standards.policy import Policy, PolicyError, load_policy, policy_path

# The reports (SQLAlchemy, Jinja) are imported inside each command: `pledge --help`
# loads none of them.

out = Console()
err = Console(stderr=True, soft_wrap=True)  # an error stays one line


def _fail(message: str, code: int = 1) -> typer.Exit:
    print_error(err, message)
    return typer.Exit(code)


def _unwritable(error: OSError) -> typer.Exit:
    """A report file that could not be written: a folder that does not exist, or cannot
    be written (checked where it is written)."""
    return _fail(
        f"cannot write {error.filename}: {error.strerror}; give a path in a folder "
        "that exists and can be written",
        code=2,
    )


def _day(raw: str, option: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise _fail(f"{option} {raw!r} is not a date (YYYY-MM-DD)", code=2) from error


def _policy(settings: Settings) -> Policy | None:
    try:
        return load_policy(policy_path(settings.policy_dir, settings.default_policy))
    except PolicyError:
        return None


def _titles(policy: Policy | None) -> dict[str, str]:
    return {rule.id: rule.title for rule in policy.standards} if policy else {}


def _force(settings: Settings) -> Force | None:
    try:
        return load_force(settings.resolved_force_file)
    except DataFileError:
        return None


def _borough_option(settings: Settings, borough: str | None) -> str | None:
    """A --borough by id or name, in any case, as intake takes it; cases keep the id."""
    if borough is None:
        return None
    try:
        return load_force(settings.resolved_force_file).resolve_unit(borough).id
    except (DataFileError, UnknownUnit) as error:
        raise _fail(str(error), code=2) from error


def _standard_option(policy: Policy | None, standard: str | None) -> str | None:
    if standard is None or policy is None or policy.has_standard(standard):
        return standard
    known = ", ".join(rule.id for rule in policy.standards)
    raise _fail(f"--standard {standard!r} is not a standard of the policy; use one of {known}", 2)


def _instant(raw: str | None, option: str) -> datetime:
    """An ISO 8601 instant with its offset; the current second when not given."""
    if raw is None:
        return datetime.now(UTC).replace(microsecond=0)
    example = "e.g. 2026-03-28T11:30+00:00"
    try:
        instant = datetime.fromisoformat(raw)
    except ValueError as error:
        raise _fail(f"{option} {raw!r} is not an ISO 8601 instant ({example})", code=2) from error
    if instant.utcoffset() is None:
        raise _fail(f"{option} {raw!r} has no UTC offset; add one ({example})", code=2)
    return instant.astimezone(UTC)


AS_OF_HELP = "count to this instant, ISO 8601 with offset; default now"
# The options `pledge report` and `pledge what-if` share, spelled once.
FromDay = Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (London)")]
ToDay = Annotated[str, typer.Option("--to", help="day after the last, YYYY-MM-DD (London)")]
ByDimensions = Annotated[str, typer.Option(help="comma-separated: standard,borough,category,month")]
CsvPath = Annotated[Path | None, typer.Option("--csv", help="write CSV here")]
HtmlPath = Annotated[Path | None, typer.Option("--html", help="write HTML here")]
AsOfInstant = Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)]


def report(
    from_: FromDay,
    to: ToDay,
    by: ByDimensions = "standard",
    csv_path: CsvPath = None,
    html_path: HtmlPath = None,
    as_of_raw: AsOfInstant = None,
    wide: Annotated[
        bool, typer.Option(help="every figure in one table, wider than 80 columns")
    ] = False,
    borough: Annotated[
        str | None, typer.Option(help="only this borough (id or name, any case)")
    ] = None,
    standard: Annotated[str | None, typer.Option(help="only this standard (its id)")] = None,
    measures: Annotated[
        str | None,
        typer.Option(help="a policy's set of measures instead, e.g. moj (the MoJ's quarterly)"),
    ] = None,
) -> None:
    """Compliance for a period: due, met on time, late, breached, rates and times to meet."""
    if measures is not None:
        if html_path is not None or standard is not None or wide:
            raise _fail(
                "--measures gives a table and --csv; it takes no --html, --standard or --wide", 2
            )
        measures_report_command(measures, from_, to, by, csv_path, as_of_raw, borough)
        return
    import bootstrap
    from reporting.compliance import (
        ReportError,
        compliance_report,
        local_midnight,
        parse_dimensions,
    )
    from reporting.render import print_report, render_html, write_csv
    from reporting.views import Names, report_views

    settings = Settings()
    start = local_midnight(_day(from_, "--from"))
    end = local_midnight(_day(to, "--to"))
    as_of = _instant(as_of_raw, "--as-of")
    policy = _policy(settings)
    titles = _titles(policy)
    borough = _borough_option(settings, borough)
    standard = _standard_option(policy, standard)
    try:
        dims = parse_dimensions(by)
        with (
            bootstrap.engine_on_existing(settings) as engine,
            engine.connect() as connection,
        ):
            figures = compliance_report(
                connection, start, end, dims, as_of, borough=borough, standard=standard
            )
            print_report(out, figures, titles, wide=wide)
            if csv_path is not None:
                write_csv(figures, csv_path)
                out.print(f"CSV written to {csv_path}")
            if html_path is not None:
                names = Names.of(policy, _force(settings))
                views = report_views(
                    connection, start, end, as_of, names, borough=borough, standard=standard
                )
                html_path.write_text(
                    render_html(
                        figures,
                        views,
                        template_dir=settings.template_dir,
                        titles=titles,
                        force_name=settings.force_name,
                    ),
                    encoding="utf-8",
                )
                out.print(f"HTML written to {html_path}")
    except ReportError as error:
        raise _fail(str(error), code=2) from error
    except OSError as error:
        raise _unwritable(error) from error


def _measures_policy(settings: Settings, name: str) -> Policy:
    """The policy whose measures `name` are reported (service.configuration.measures_policy),
    or the one-line refusal naming the sets the policies define."""
    from reporting.measures import measures_sets
    from service.configuration import measures_policy, policies_in_order

    policy = measures_policy(settings, name)
    if policy is not None:
        return policy
    known = sorted({s for p in policies_in_order(settings) for s in measures_sets(p)})
    raise _fail(f"no policy defines measures {name!r}; defined: {', '.join(known) or 'none'}", 2)


def measures_report_command(
    name: str,
    from_: str,
    to: str,
    by: str,
    csv_path: Path | None,
    as_of_raw: str | None,
    borough: str | None,
) -> None:
    """`pledge report --measures NAME`: the policy's measures over the period's figures."""
    import bootstrap
    from reporting.compliance import ReportError, compliance_report, local_midnight
    from reporting.compliance import parse_dimensions as dimensions
    from reporting.measures import measures_report, measures_table, write_measures_csv

    settings = Settings()
    start = local_midnight(_day(from_, "--from"))
    end = local_midnight(_day(to, "--to"))
    as_of = _instant(as_of_raw, "--as-of")
    policy = _measures_policy(settings, name)
    borough = _borough_option(settings, borough)
    try:
        dims = ("standard", *(d for d in dimensions(by) if d != "standard"))
        with (
            bootstrap.engine_on_existing(settings) as engine,
            engine.connect() as connection,
        ):
            figures = compliance_report(
                connection, start, end, dims, as_of, percentiles=False, borough=borough
            )
        report = measures_report(policy, name, figures)
        out.print(measures_table(report))
        if csv_path is not None:
            write_measures_csv(report, csv_path)
            out.print(f"CSV written to {csv_path}")
    except ReportError as error:
        raise _fail(str(error), code=2) from error
    except OSError as error:
        raise _unwritable(error) from error


def breaches(
    borough: Annotated[
        str | None, typer.Option(help="only this borough (id or name, any case)")
    ] = None,
    limit: Annotated[int, typer.Option(help="at most this many rows")] = 100,
    as_of_raw: AsOfInstant = None,
) -> None:
    """The breach register: unexplained breaches older than 48 hours first."""
    import bootstrap
    from reporting.register import breach_register
    from reporting.render import breaches_table

    settings = Settings()
    as_of = _instant(as_of_raw, "--as-of")
    borough = _borough_option(settings, borough)
    with (
        bootstrap.engine_on_existing(settings) as engine,
        engine.connect() as connection,
    ):
        entries = breach_register(connection, borough=borough, limit=limit, as_of=as_of)
    print_listing(out, breaches_table(entries, as_of), "no breaches")


def explain(reference: str) -> None:
    """The timeline of every obligation of a case, from its recorded transitions."""
    import bootstrap
    from reporting.render import timeline_table
    from storage.models import UnknownCase
    from storage.timeline import case_timeline

    settings = Settings()
    try:
        with (
            bootstrap.engine_on_existing(settings) as engine,
            engine.connect() as connection,
        ):
            steps = case_timeline(connection, reference)
    except UnknownCase as error:
        raise _fail(str(error)) from error
    print_listing(out, timeline_table(reference, steps), "no recorded transitions")


def register(app: typer.Typer, case_app: typer.Typer) -> None:
    """Add `report`, `breaches` and `case explain` to `pledge` (cli.what_if adds
    `what-if`, with this module's option helpers; cli.demo adds `demo-data`)."""
    app.command("report")(report)
    app.command("breaches")(breaches)
    case_app.command("explain")(explain)


__all__ = ["register"]
