"""Database fixtures.

``database_url`` runs a test once on SQLite and once on PostgreSQL; deselect
the second with ``-m "not postgres"``. Every test gets its own empty database
at the head revision. Migrations run once per session into a template, which
each test then copies: much faster than migrating per test, and just as
isolated.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from storage.database import make_engine, make_session_factory, normalise_url, upgrade_to_head
from tests.skip_banner import pytest_terminal_summary  # noqa: F401  (a hook: found by name)

POSTGRES_ADMIN_URL_VARIABLE = "PLEDGE_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _unique_database_name(prefix: str) -> str:
    # Random rather than per-test names, so parallel or aborted runs never collide.
    return f"{prefix}_{secrets.token_hex(6)}"


def _sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade_to_head(_sqlite_url(path))
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database in a file of its own."""
    path = tmp_path / "pledge.db"
    # The migration engine has been disposed, so the WAL is checkpointed into
    # the main file and copying that one file copies the whole database.
    shutil.copyfile(sqlite_template, path)
    return _sqlite_url(path)


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[Engine]:
    url = normalise_url(os.environ.get(POSTGRES_ADMIN_URL_VARIABLE, DEFAULT_POSTGRES_ADMIN_URL))
    # CREATE and DROP DATABASE refuse to run inside a transaction.
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {make_url(url)!r} ({error.orig}); set "
            f'{POSTGRES_ADMIN_URL_VARIABLE} or deselect these tests with -m "not postgres"'
        )
    yield engine
    engine.dispose()


def _postgres_url(admin: Engine, database: str) -> str:
    return admin.url.set(database=database).render_as_string(hide_password=False)


def _drop_postgres_database(admin: Engine, database: str) -> None:
    with admin.connect() as connection:
        # FORCE ends any connection a failed test left open.
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_engine: Engine) -> Iterator[str]:
    name = _unique_database_name("pledge_template")
    with postgres_admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        upgrade_to_head(_postgres_url(postgres_admin_engine, name))
        yield name
    finally:
        _drop_postgres_database(postgres_admin_engine, name)


@pytest.fixture
def postgresql_url(postgres_admin_engine: Engine, postgres_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database created for this test and dropped after it."""
    name = _unique_database_name("pledge_test")
    with postgres_admin_engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"'))
    try:
        yield _postgres_url(postgres_admin_engine, name)
    finally:
        _drop_postgres_database(postgres_admin_engine, name)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL; tests using it run once per database."""
    # Looked up lazily so that a SQLite-only run never touches PostgreSQL.
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
def db_engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    # Closing pooled connections lets the per-test PostgreSQL database be dropped.
    engine.dispose()


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a fresh migrated SQLite database (one engine, disposed after)."""
    engine = make_engine(sqlite_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def db_session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)
