"""`pledge policy check` and `pledge holidays check`: the force's data files checked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import common
from cli.common import fail, force_or_fail, out
from messaging.display import listing, name_column, print_listing
from standards.datafile import DataFileError
from standards.force import FORCE_FILE_SUFFIX


def policy_check(
    path: Annotated[Path, typer.Argument(help=f"a policy, or a force file (*{FORCE_FILE_SUFFIX})")],
) -> None:
    """Validate a policy or force file; name the line and field of any mistake.

    A policy is checked against the message templates in the template directory
    (PLEDGE_TEMPLATE_DIR): every message it names needs its email and SMS forms. Each
    template missing in a language the policy offers is a warning (that message goes in
    English): one line each, and the check still passes."""
    from messaging.rendering import (
        SIGN_IN_CODE_TEMPLATE,
        message_template_path,
        missing_translations,
    )
    from service.configuration import checked_policy
    from standards.force import load_force
    from standards.policy import named_templates
    from standards.vocabulary import language_name

    settings = common.settings()
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
    templates = [*named_templates(loaded), SIGN_IN_CODE_TEMPLATE]
    languages = [code.value for code in loaded.languages]
    missing = missing_translations(settings.template_dir, templates, languages)
    for language, template, channel in missing:
        out.print(
            f"warning: {language} ({language_name(language)}): no {template} {channel.value} "
            f"template ({message_template_path(template, channel, language)}); "
            "sent in English"
        )
    languages_text = ", ".join(languages)
    out.print(
        f"{loaded.id} version {loaded.version}: {len(loaded.standards)} standards, "
        f"languages {languages_text}, ok"
        + (f" ({len(missing)} templates missing in a language)" if missing else "")
    )


def holidays_check(
    year: Annotated[
        int | None, typer.Option(help="only this year; default every year GOV.UK's list covers")
    ] = None,
) -> None:
    """Compare the `holidays` package with GOV.UK's list (shipped in govuk-bank-holidays).

    Prints every weekday the two disagree on, per nation, and what deadlines use after
    the force file's corrections. Exits 1 if a difference is not settled by the force file."""
    from service.holidays import govuk_years, holiday_differences

    settings = common.settings()
    force = force_or_fail(settings)
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


def register(policy_app: typer.Typer, holidays_app: typer.Typer) -> None:
    """Add the checks to `pledge policy` and `pledge holidays`."""
    policy_app.command("check")(policy_check)
    holidays_app.command("check")(holidays_check)
