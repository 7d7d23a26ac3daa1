"""`pledge token create | list | revoke`: the HTTP API's bearer tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from service.configuration import configured_force
from service.settings import Settings
from service.tokens import TokenError, create_token, list_tokens, parse_scopes, revoke_token
from standards.datafile import DataFileError
from standards.force import UnknownUnit
from storage.database import make_engine, make_session_factory, upgrade_to_head

token_app = typer.Typer(help="Create, list and revoke HTTP API tokens.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _sessions() -> sessionmaker[Session]:
    url = Settings().resolved_database_url
    upgrade_to_head(url)
    return make_session_factory(make_engine(url))


def _fail(error: Exception) -> typer.Exit:
    err.print(f"[red]error:[/red] {error}", highlight=False)
    return typer.Exit(1)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="who holds it, e.g. crime-recording-system")],
    scope: Annotated[
        list[str], typer.Option(help="cases:write, cases:read or victims:read; repeatable")
    ],
    borough: Annotated[
        str | None, typer.Option(help="limit the token to this borough's cases")
    ] = None,
) -> None:
    """Create a token and print it, once: only its digest is kept."""
    settings = Settings()
    try:
        unit_id = None if borough is None else configured_force(settings).resolve_unit(borough).id
        secret = create_token(_sessions(), name, parse_scopes(scope), unit_id)
    except (TokenError, UnknownUnit, DataFileError) as error:
        raise _fail(error) from error
    err.print(f"token {name!r} created; it is shown only now:", highlight=False)
    print(secret)


@token_app.command("list")
def token_list() -> None:
    """Every token: name, scopes, borough, created, revoked (never the token itself)."""
    table = Table(title="API tokens")
    for column in ("name", "scopes", "borough", "created", "revoked"):
        table.add_column(column, overflow="fold")
    for token in list_tokens(_sessions()):
        table.add_row(
            token.name,
            " ".join(token.scopes),
            token.borough or "(all)",
            token.created_at.isoformat(timespec="seconds"),
            token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "",
        )
    out.print(table)


@token_app.command("revoke")
def token_revoke(name: str) -> None:
    """Revoke a token at once: requests carrying it get 401 from then on."""
    try:
        revoke_token(_sessions(), name)
    except TokenError as error:
        raise _fail(error) from error
    out.print(f"token {name!r} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
