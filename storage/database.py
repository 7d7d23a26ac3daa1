"""Engines, sessions and schema upgrades.

Nothing here connects at import time: the worker, the web service and the
tests each build their own engine from a URL they were given.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIRECTORY = Path(__file__).resolve().parent / "migrations"

# Activities run in threads and may wait behind another writer; five seconds
# outlasts any single write the service makes without hiding a real deadlock.
SQLITE_BUSY_TIMEOUT_MS = 30_000

_BARE_POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def normalise_url(url: str) -> str:
    """Point a bare PostgreSQL URL at psycopg 3.

    Hosting platforms hand out ``postgres://`` URLs, which SQLAlchemy would
    otherwise map to psycopg2 (or reject outright, for ``postgres``).
    """
    for scheme in _BARE_POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def make_engine(url: str) -> Engine:
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _make_sqlite_engine(parsed)
    return create_engine(
        parsed,
        # A connection dropped by a server restart or a firewall is replaced
        # rather than failing the activity that happened to draw it.
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_recycle=1800,
    )


def _make_sqlite_engine(url: URL, create: bool = True) -> Engine:
    database = url.database
    if create and _sqlite_file(url) is not None:
        Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    event.listen(engine, "connect", _configure_sqlite_connection)
    writers = _WriterQueue()
    event.listen(engine, "begin", writers.begin)
    event.listen(engine, "commit", writers.end)
    event.listen(engine, "rollback", writers.end)
    return engine


class _WriterQueue:
    """SQLite has one writer at a time; this process's writers queue here for it.

    A writer waiting in SQLite's busy handler sleeps in steps of up to 100 ms and
    so takes the lock late; many activity threads writing at once (intake) left the
    database idle between transactions. Queued on a lock, the next writer starts as
    the last one ends; writers in other processes still wait in the busy handler.
    The wait here is bounded like SQLite's, after which the writer goes on to SQLite.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def begin(self, connection: Connection) -> None:
        queued = self._lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        connection.info["pledge_writer_queued"] = queued
        try:
            _begin_immediately(connection)
        except BaseException:
            self.end(connection)
            raise

    def end(self, connection: Connection) -> None:
        if connection.info.pop("pledge_writer_queued", False):
            self._lock.release()


def _sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL (none for an in-memory or URI database)."""
    database = url.database
    if database and database != ":memory:" and not database.startswith("file:"):
        return Path(database)
    return None


class NoDatabase(LookupError):
    """A command that only reads found no database (or no schema) at the configured URL."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"no database at {display_url(url)}; run `pledge migrate` or `make run` first "
            "(or point DATABASE_URL at the service's database)"
        )


def display_url(url: str) -> str:
    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def existing_engine(url: str) -> Engine:
    """An engine on a database that already holds the schema; nothing is created or migrated.

    Reading commands use it: opening SQLite would otherwise create the file (and its
    folder), and an empty database would answer every question with nothing.
    """
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None and not path.is_file():
            raise NoDatabase(url)
        engine = _make_sqlite_engine(parsed, create=False)
    else:
        engine = make_engine(url)
    try:
        migrated = inspect(engine).has_table("alembic_version")
    except BaseException:
        engine.dispose()
        raise
    if not migrated:
        engine.dispose()
        raise NoDatabase(url)
    return engine


def describe_database_error(url: str, error: DBAPIError) -> str:
    """One line for a database that cannot be reached or refused the connection."""
    reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
    return (
        f"cannot use the database at {display_url(url)}: {reason}; check DATABASE_URL "
        "(is the server running and the database created? `pledge migrate` creates the schema)"
    )


def _begin_immediately(connection: Connection) -> None:
    # A deferred transaction that reads and then writes cannot wait for a
    # concurrent writer (SQLite answers "database is locked" at once, whatever
    # the busy timeout); taking the write lock up front makes it queue instead.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets the web pages read while an activity writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # With WAL, NORMAL stays crash-safe (a power cut may lose only the last
        # commits, never corrupt the file) and saves an fsync per commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        # pysqlite's own transaction handling would BEGIN before our event can.
        dbapi_connection.isolation_level = None
        cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    # Objects stay readable after commit, so an activity can return what it
    # wrote without a second round trip.
    return sessionmaker(bind=engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """An Alembic configuration that works from any current directory."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIRECTORY))
    # Passed as an attribute, not an ini option: ConfigParser would treat a
    # percent-encoded password as interpolation syntax.
    config.attributes["database_url"] = normalise_url(url)
    return config


def upgrade_to_head(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def refresh_statistics(engine: Engine) -> None:
    """Gather the query planner's statistics afresh (ANALYZE).

    PostgreSQL's autovacuum keeps its own current. SQLite keeps none until asked, and
    has none for an index a migration creates or rebuilds; without them it chooses the
    worklist's indexes badly at scale: at 900,000 cases one borough's page took 0.1 s
    with them and 0.5 to 3.3 s without (bench/vfu_queue.py). A few seconds at that size;
    `pledge migrate` and `pledge demo-data --history` run it."""
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")


@contextmanager
def existing_database(url: str) -> Iterator[Engine]:
    """An engine on a database that already exists (see existing_engine); disposed on exit."""
    engine = existing_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def migrated_engine(url: str) -> Iterator[Engine]:
    """An engine on a database first brought to the latest schema; disposed on exit."""
    upgrade_to_head(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
