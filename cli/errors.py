"""One line for an error a command leaves to `pledge` itself: what is wrong, what to do."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from config import Settings


def print_error(console: Console, message: object) -> None:
    """`error: MESSAGE` on one line. The message is printed as it is: a file's wording such
    as `[[bank_holidays]]` must not be read as Rich markup."""
    console.print(f"[red]error:[/red] {escape(str(message))}", highlight=False, soft_wrap=True)


def describe_error(error: Exception, settings: Settings | None) -> str | None:
    """One line for an error the commands leave to here (a part not answering, a database
    that is not there); None for one nobody expected."""
    if "temporalio" in sys.modules:
        from service.runtime.temporal import (
            BinaryNotFound,
            ConnectionSettingsError,
            TemporalUnavailable,
        )

        if isinstance(error, (BinaryNotFound, ConnectionSettingsError, TemporalUnavailable)):
            return str(error)
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import DBAPIError

        from storage.database import NoDatabase, describe_database_error

        if isinstance(error, NoDatabase):
            return str(error)
        if isinstance(error, DBAPIError) and settings is not None:
            return describe_database_error(settings.resolved_database_url, error)
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.strerror}: {error.filename}"
    return None
