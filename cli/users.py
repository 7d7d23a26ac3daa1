"""`pledge user add | list | rename | disable | enable`: the staff pages' accounts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli.errors import print_error
from config import Settings
from messaging.display import listing, minute_text, name_column, print_listing
from standards.datafile import DataFileError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

user_app = typer.Typer(
    help="Add, list, name and disable staff accounts (vfu, manager, admin).", no_args_is_help=True
)
out = Console()
err = Console(stderr=True, soft_wrap=True)

# Who the sign-in log names as having changed an account from the command line.
CLI_ACTOR = "cli"


def _sessions() -> sessionmaker[Session]:
    import bootstrap

    return bootstrap.database(Settings())


def _fail(error: Exception | str) -> typer.Exit:
    print_error(err, error)
    return typer.Exit(1)


def read_password() -> str:
    """The new password: typed twice at a terminal, or one line on stdin (for scripts)."""
    if sys.stdin.isatty():
        password: str = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        return password
    line = sys.stdin.readline()
    return line.removesuffix("\n").removesuffix("\r")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Option(help="the address they sign in with")],
    role: Annotated[str, typer.Option(help="vfu (one borough), manager or admin")],
    borough: Annotated[
        str | None,
        typer.Option(
            help="their borough, by id or name, any case: required for vfu, optional for "
            "manager (none: the whole force), not for admin"
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="the name the pages show for them (1-100 characters); none: email"),
    ] = None,
) -> None:
    """Add an account; the password is read from stdin, or asked for twice at a terminal."""
    import bootstrap
    from service.accounts import (
        add_user,
        checked_display_name,
        normalise_email,
        parse_role,
        resolve_borough,
    )
    from standards.staff import AccountRuleError, borough_problem, password_problem

    try:
        # Everything but the password is checked before it is asked for.
        address = normalise_email(email)
        display_name = checked_display_name(name) if name is not None else None
        parsed_role = parse_role(role)
        unit_id = resolve_borough(bootstrap.force(Settings()), borough)
        problem = borough_problem(parsed_role, unit_id)
        if problem is not None:
            raise AccountRuleError(problem)
        password = read_password()
        problem = password_problem(password)
        if problem is not None:
            raise AccountRuleError(problem)
        user = add_user(
            _sessions(),
            address,
            parsed_role,
            unit_id,
            password,
            actor=CLI_ACTOR,
            display_name=display_name,
        )
    except (AccountRuleError, DataFileError) as error:
        raise _fail(error) from error
    where = f" in {user.borough}" if user.borough else ""
    out.print(f"added {user.email} ({user.role.value}{where})", highlight=False)


@user_app.command("list")
def user_list() -> None:
    """Every account: email, role, borough, active or disabled, last sign-in."""
    from service.accounts import list_users
    from standards.staff import StaffRole

    table = listing(
        "Staff accounts",
        *(
            name_column(header)
            for header in ("email", "name", "role", "borough", "status", "last sign-in")
        ),
    )
    for user in list_users(_sessions()):
        table.add_row(
            user.email,
            user.display_name or "(none)",
            user.role.value,
            user.borough or ("(none)" if user.role == StaffRole.ADMIN else "(all)"),
            "active" if user.active else f"disabled {minute_text(user.disabled_at)}",
            minute_text(user.last_sign_in_at),
        )
    print_listing(out, table, "no accounts: `pledge user add --email E --role admin` adds one")


@user_app.command("rename")
def user_rename(
    email: str,
    name: Annotated[str, typer.Option(help="the name the pages show for them (1-100 characters)")],
) -> None:
    """Give an account the name the pages show for it (who did what on a case, an alert)."""
    from service.accounts import rename_user
    from standards.staff import AccountRuleError

    try:
        stored = rename_user(_sessions(), email, name, actor=CLI_ACTOR)
    except AccountRuleError as error:
        raise _fail(error) from error
    out.print(f"{email.strip().lower()} is now shown as {stored}", highlight=False)


@user_app.command("disable")
def user_disable(email: str) -> None:
    """Disable an account: its sessions end at once and it can no longer sign in."""
    from service.accounts import disable_user
    from standards.staff import AccountRuleError

    try:
        changed = disable_user(_sessions(), email, actor=CLI_ACTOR)
    except AccountRuleError as error:
        raise _fail(error) from error
    out.print(f"{email.strip().lower()} {'disabled' if changed else 'was already disabled'}")


@user_app.command("enable")
def user_enable(email: str) -> None:
    """Let a disabled account sign in again (with its old password)."""
    from service.accounts import enable_user
    from standards.staff import AccountRuleError

    try:
        changed = enable_user(_sessions(), email, actor=CLI_ACTOR)
    except AccountRuleError as error:
        raise _fail(error) from error
    out.print(f"{email.strip().lower()} {'enabled' if changed else 'was already active'}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
