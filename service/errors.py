"""One line for an error a command leaves to `pledge` itself: what is wrong, what to do."""

from __future__ import annotations

import sys

from service.settings import Settings


def describe_error(error: Exception, settings: Settings | None) -> str | None:
    """One line for an error the commands leave to here (a part not answering, a database
    that is not there); None for one nobody expected."""
    if "temporalio" in sys.modules:
        from service.temporal import BinaryNotFound, TemporalUnavailable

        if isinstance(error, (BinaryNotFound, TemporalUnavailable)):
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
