"""`pledge policy migrate`: move running cases to the policy folder's newer version."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from cli.errors import print_error
from config import Settings
from standards.datafile import DataFileError

out = Console()
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    print_error(err, message)
    return typer.Exit(code)


def policy_migrate(
    to: Annotated[int, typer.Option("--to", help="the version to move to (the folder's)")],
    borough: Annotated[
        str | None, typer.Option(help="only this borough's cases (id or name, any case)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="list what would move; change nothing")
    ] = False,
    policy_id: Annotated[
        str | None, typer.Option("--policy", help="policy id; default the configured one")
    ] = None,
) -> None:
    """Move running cases to a newer policy version: each deadline that moves, and how."""
    import bootstrap
    from messaging.display import minute_text
    from service.policy_migration import migrate_cases
    from service.runtime.temporal import run_with_client
    from standards.force import UnknownUnit
    from storage.database import make_session_factory

    settings = Settings()
    try:
        policy = bootstrap.policy(settings, policy_id)
        unit = None if borough is None else bootstrap.force(settings).resolve_unit(borough).id
    except (DataFileError, UnknownUnit) as error:
        raise _fail(str(error), code=2) from error
    if policy.version != to:
        raise _fail(
            f"--to {to}: the policy folder holds {policy.id} v{policy.version}; put version "
            f"{to} there first (cases move only to the version the service runs)",
            code=2,
        )
    with bootstrap.migrated_engine(settings) as engine:
        sessions = make_session_factory(engine)
        outcomes = run_with_client(
            settings, lambda client: migrate_cases(client, sessions, policy, unit, dry_run)
        )
    if not outcomes:
        out.print(f"no open case runs on an older version of {policy.id}", highlight=False)
        return
    verb = "would move" if dry_run else "moved"
    for outcome in outcomes:
        receipt = outcome.receipt
        if receipt is None:
            out.print(f"{outcome.reference}: not moved: {outcome.problem}", highlight=False)
            continue
        head = f"{outcome.reference}: v{receipt.from_version} -> v{receipt.to_version}"
        if not receipt.moves:
            out.print(f"{head}: no deadline {verb}", highlight=False)
        for move in receipt.moves:
            out.print(
                f"{head}: {move.key} {verb} from {minute_text(move.due_before)} to "
                f"{minute_text(move.due_after)} (window {move.window_before} -> "
                f"{move.window_after})",
                highlight=False,
                soft_wrap=True,
            )
        for key in receipt.dropped:
            out.print(f"{head}: {key} is not in v{receipt.to_version}; left as it is")
    if dry_run:
        out.print("dry run: nothing was changed", highlight=False)


def register(policy_app: typer.Typer) -> None:
    policy_app.command("migrate")(policy_migrate)


__all__ = ["register"]
