"""`pledge token create | list | revoke`: the HTTP API's bearer tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli.errors import print_error
from config import Settings
from messaging.display import listing, minute_text, name_column, print_listing
from standards.datafile import DataFileError
from standards.force import UnknownUnit

# SQLAlchemy and the migrations are imported when a command runs: `pledge --help`
# loads none of them.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

token_app = typer.Typer(help="Create, list and revoke HTTP API tokens.", no_args_is_help=True)
out = Console()
err = Console(stderr=True, soft_wrap=True)


def _sessions() -> sessionmaker[Session]:
    import bootstrap

    return bootstrap.database(Settings())


def _fail(error: Exception) -> typer.Exit:
    print_error(err, error)
    return typer.Exit(1)


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="who holds it, e.g. crime-recording-system")],
    scope: Annotated[
        list[str], typer.Option(help="cases:write, cases:read or victims:read; repeatable")
    ],
    borough: Annotated[
        str | None,
        typer.Option(help="limit the token to this borough's cases (id or name, any case)"),
    ] = None,
) -> None:
    """Create a token and print it, once: only its digest is kept."""
    import bootstrap
    from service.tokens import TokenError, create_token, parse_scopes

    settings = Settings()
    try:
        # Kept as the unit's id, as cases are, so the limit matches however it was spelt.
        unit_id = None if borough is None else bootstrap.force(settings).resolve_unit(borough).id
        secret = create_token(_sessions(), name, parse_scopes(scope), unit_id)
    except (TokenError, UnknownUnit, DataFileError) as error:
        raise _fail(error) from error
    err.print(f"token {name!r} created; it is shown only now:", highlight=False)
    print(secret)


@token_app.command("list")
def token_list() -> None:
    """Every token: name, scopes, borough, created, revoked (never the token itself)."""
    from service.tokens import list_tokens

    table = listing(
        "API tokens",
        *(name_column(header) for header in ("name", "scopes", "borough", "created", "revoked")),
    )
    for token in list_tokens(_sessions()):
        table.add_row(
            token.name,
            " ".join(token.scopes),
            token.borough or "(all)",
            minute_text(token.created_at),
            minute_text(token.revoked_at),
        )
    print_listing(out, table, "no tokens")


@token_app.command("revoke")
def token_revoke(name: str) -> None:
    """Revoke a token at once: requests carrying it get 401 from then on."""
    from service.tokens import TokenError, revoke_token

    try:
        revoke_token(_sessions(), name)
    except TokenError as error:
        raise _fail(error) from error
    out.print(f"token {name!r} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
