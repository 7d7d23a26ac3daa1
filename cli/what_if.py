"""`pledge what-if`: last period's cases replayed under a proposed policy, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.reports import (
    AsOfInstant,
    ByDimensions,
    CsvPath,
    FromDay,
    HtmlPath,
    ToDay,
    _borough_option,
    _day,
    _fail,
    _instant,
    _unwritable,
    err,
    out,
)
from config import Settings
from standards.datafile import DataFileError


def what_if(
    policy_file: Annotated[Path, typer.Option("--policy", help="the proposed policy file (TOML)")],
    from_: FromDay,
    to: ToDay,
    by: ByDimensions = "standard",
    csv_path: CsvPath = None,
    html_path: HtmlPath = None,
    as_of_raw: AsOfInstant = None,
    borough: Annotated[
        str | None, typer.Option(help="only this borough's cases (id or name, any case)")
    ] = None,
) -> None:
    """Replay the cases reported in a period under a proposed policy; compare the reports."""
    import bootstrap
    from reporting.compliance import ReportError, local_midnight, parse_dimensions
    from reporting.what_if import StoredHistory, WhatIfError
    from reporting.what_if import what_if as run_what_if
    from reporting.what_if_history import Period, case_refs
    from reporting.what_if_render import print_what_if, render_html, write_csv
    from service.configuration import checked_policy
    from service.simulate_in_process import engine_config

    settings = Settings()
    start = local_midnight(_day(from_, "--from"))
    end = local_midnight(_day(to, "--to"))
    if end <= start:
        raise _fail(f"the period is empty: --to {to} is not after --from {from_}", code=2)
    as_of = _instant(as_of_raw, "--as-of")
    borough = _borough_option(settings, borough)
    try:
        dims = parse_dimensions(by)
    except ReportError as error:
        raise _fail(str(error), code=2) from error
    if not policy_file.is_file():
        raise _fail(f"--policy {policy_file}: no such file; give a policy file (TOML)", code=2)
    try:
        proposed = checked_policy(policy_file, settings)
        force = bootstrap.force(settings)
    except DataFileError as error:
        raise _fail(f"--policy {policy_file}: {error}", code=2) from error
    try:
        url = settings.resolved_database_url
        period = Period(start, end, borough)
        with bootstrap.engine_on_existing(settings) as engine, engine.connect() as connection:
            refs = case_refs(connection, period)
        if not refs:
            raise WhatIfError(
                f"no cases were reported in the period [{from_}, {to}): nothing to replay"
            )
        current = {}
        for policy_id in sorted({ref.policy_id for ref in refs}):
            try:
                policy = bootstrap.policy(settings, policy_id)
            except DataFileError as error:
                raise WhatIfError(
                    f"the cases' current policy {policy_id!r} cannot be loaded: {error}"
                ) from error
            current[policy_id] = engine_config(settings, policy, force)
        err.print(f"replaying {len(refs)} cases twice ...", highlight=False)
        result = run_what_if(
            StoredHistory(url, force, period, refs),
            current,
            engine_config(settings, proposed, force),
            start,
            end,
            dims,
            as_of,
        )
        print_what_if(out, result)
        if csv_path is not None:
            write_csv(result, csv_path)
            out.print(f"CSV written to {csv_path}")
        if html_path is not None:
            html_path.write_text(
                render_html(
                    result, template_dir=settings.template_dir, force_name=settings.force_name
                ),
                encoding="utf-8",
            )
            out.print(f"HTML written to {html_path}")
    except WhatIfError as error:
        raise _fail(str(error), code=1) from error
    except OSError as error:
        raise _unwritable(error) from error


def register(app: typer.Typer) -> None:
    app.command("what-if")(what_if)


__all__ = ["register"]
