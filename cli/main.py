"""`pledge`: run the service, open cases, post events, rehearse scenarios."""

from __future__ import annotations

import sys
import traceback
from typing import Annotated

import typer

from cli.common import err, fail, out
from cli.common import settings as _settings
from cli.errors import describe_error, print_error
from config import Settings

# Temporal, SQLAlchemy, the workflow module and the reports are imported inside the
# commands that need them: `pledge --help` (and a typo) should answer at once.

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


@app.command()
def dev(
    port: Annotated[int | None, typer.Option(help="Temporal frontend port")] = None,
    ui_port: Annotated[int | None, typer.Option(help="Temporal Web UI port")] = None,
) -> None:
    """Run everything locally: Temporal dev server (state on disk), migrations, the worker."""
    from cli.dev import run_dev
    from service.runtime.servers import ServerFailed
    from service.runtime.temporal import run_to_end

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
    import bootstrap

    settings = _settings()
    bootstrap.migrate(settings)
    # A migration may rebuild an index, and SQLite's planner has no statistics of its own
    # (storage.database.refresh_statistics says why): it is run here, where an operator
    # runs it after an upgrade or a bulk load, not at every start.
    bootstrap.refresh_statistics(settings)
    out.print(f"database at head, statistics refreshed: {settings.resolved_database_url}")


from cli import cases, checks, demo, reports, simulate, what_if  # noqa: E402
from cli.ops import register as _register_operations  # noqa: E402
from cli.policy_migrate import register as _register_policy_migrate  # noqa: E402
from cli.tokens import register as _register_tokens  # noqa: E402
from cli.users import register as _register_users  # noqa: E402
from cli.web import register as _register_web  # noqa: E402

# In this order, the order `pledge --help` lists them in.
cases.register(app, case_app)
simulate.register(app)
checks.register(policy_app, holidays_app)
reports.register(app, case_app)
demo.register(app)
what_if.register(app)
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
