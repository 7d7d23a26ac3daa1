"""The database layer, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from standards.vocabulary import RecipientRole, TransitionEvent
from storage.database import alembic_config, make_engine, normalise_url
from storage.enums import AlertKind, ObligationState
from storage.models import Alert, Base, Case, Obligation, ObligationTransition, Victim
from storage.types import UTCDateTime

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORTED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SCHEMA_TABLES = set(Base.metadata.tables)


def a_case(reference: str = "01/123456/26", **overrides: Any) -> Case:
    values: dict[str, Any] = {
        "reference": reference,
        "workflow_id": f"case-{reference}",
        "category": "burglary",
        "borough": "camden",
        "vulnerable": False,
        "nation": "england_and_wales",
        "reported_at": REPORTED,
        "policy_id": "met-pledge",
        "policy_version": 1,
    } | overrides
    return Case(**values)


def an_obligation(case: Case, key: str = "acknowledgement#1", **overrides: Any) -> Obligation:
    values: dict[str, Any] = {
        "case": case,
        "key": key,
        "standard": "acknowledgement",
        "occurrence": 1,
        "borough": case.borough,
        "category": case.category,
        "started_at": REPORTED,
        "due_at": REPORTED + timedelta(hours=24),
        "window_amount": 24,
        "window_unit": "hours",
    } | overrides
    return Obligation(**values)


def an_alert(case: Case, kind: AlertKind = AlertKind.WARNING) -> Alert:
    return Alert(
        case_id=case.id,
        reference=case.reference,
        borough=case.borough,
        standard="acknowledgement",
        obligation_key="acknowledgement#1",
        kind=kind,
        at=REPORTED + timedelta(hours=18),
        due_at=REPORTED + timedelta(hours=24),
        detail="Acknowledgement due within 6 hours",
        recipient_role=RecipientRole.VFU,
    )


def a_transition(obligation: Obligation, seq: int) -> ObligationTransition:
    return ObligationTransition(
        obligation_id=obligation.id,
        case_id=obligation.case_id,
        seq=seq,
        event=TransitionEvent.STARTED,
        state=ObligationState.PENDING,
        at=REPORTED,
        cause="intake",
    )


def saved(session_factory: sessionmaker[Session], *rows: Base) -> None:
    with session_factory() as session, session.begin():
        session.add_all(rows)


def refused_on_flush(session_factory: sessionmaker[Session], build: Callable[[], Base]) -> None:
    with session_factory() as session:
        session.add(build())
        with pytest.raises(IntegrityError):
            session.flush()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_create_every_table_the_models_declare(database_url: str) -> None:
    assert table_names(database_url) == SCHEMA_TABLES | {"alembic_version"}


def test_the_migrations_describe_exactly_the_schema_of_the_models(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        differences = compare_metadata(context, Base.metadata)

    assert differences == []


def test_the_schema_can_be_downgraded_to_nothing_and_upgraded_again(database_url: str) -> None:
    config = alembic_config(database_url)

    command.downgrade(config, "base")
    assert table_names(database_url) == {"alembic_version"}

    command.upgrade(config, "head")
    assert table_names(database_url) == SCHEMA_TABLES | {"alembic_version"}


def test_an_aware_datetime_is_read_back_as_the_same_instant_in_utc(
    db_session_factory: sessionmaker[Session],
) -> None:
    british_summer_time = timezone(timedelta(hours=1))
    reported = datetime(2026, 6, 1, 10, 15, 30, 123456, tzinfo=british_summer_time)
    saved(db_session_factory, a_case(reported_at=reported))

    with db_session_factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            # The server answers in the session's zone; it must not leak through.
            session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
        read = session.scalars(select(Case.reported_at)).one()

    assert read == reported
    assert read.tzinfo is UTC
    assert read.hour == 9


def test_instants_given_with_any_offset_compare_correctly_in_queries(
    db_session_factory: sessionmaker[Session],
) -> None:
    saved(db_session_factory, a_case(reported_at=REPORTED))
    just_before_in_new_york = (REPORTED - timedelta(seconds=1)).astimezone(
        timezone(timedelta(hours=-5))
    )

    with db_session_factory() as session:
        later = session.scalars(
            select(Case.reference).where(Case.reported_at > just_before_in_new_york)
        ).all()

    assert later == ["01/123456/26"]


def test_a_naive_datetime_is_refused_before_it_reaches_the_database(
    db_session_factory: sessionmaker[Session],
) -> None:
    with db_session_factory() as session:
        session.add(a_case(reported_at=datetime(2026, 3, 1, 9, 30)))
        with pytest.raises(StatementError, match="offset is required") as raised:
            session.flush()

    assert isinstance(raised.value.orig, ValueError)


def test_the_datetime_type_itself_refuses_a_naive_value() -> None:
    with pytest.raises(ValueError, match="offset is required"):
        UTCDateTime().process_bind_param(datetime(2026, 3, 1), sqlite.dialect())


def test_a_second_case_with_the_same_reference_is_refused(
    db_session_factory: sessionmaker[Session],
) -> None:
    saved(db_session_factory, a_case("01/123456/26", workflow_id="case-1"))

    refused_on_flush(db_session_factory, lambda: a_case("01/123456/26", workflow_id="case-2"))


def test_a_second_alert_of_the_same_kind_for_the_same_obligation_is_refused(
    db_session_factory: sessionmaker[Session],
) -> None:
    case = a_case()
    saved(db_session_factory, case)
    saved(db_session_factory, an_alert(case, AlertKind.WARNING), an_alert(case, AlertKind.BREACH))

    refused_on_flush(db_session_factory, lambda: an_alert(case, AlertKind.WARNING))


def test_a_transition_repeating_a_sequence_number_is_refused(
    db_session_factory: sessionmaker[Session],
) -> None:
    case = a_case()
    obligation = an_obligation(case)
    saved(db_session_factory, case, obligation)
    saved(db_session_factory, a_transition(obligation, seq=1))

    refused_on_flush(db_session_factory, lambda: a_transition(obligation, seq=1))


def test_a_victim_of_a_case_that_does_not_exist_is_refused(
    db_session_factory: sessionmaker[Session],
) -> None:
    def orphan() -> Victim:
        return Victim(
            case_id=999,
            name="A Person",
            preferred_channel="sms",
            allowed_channels=["sms"],
            discreet=False,
            do_not_contact=False,
        )

    refused_on_flush(db_session_factory, orphan)


def test_an_obligation_in_a_state_outside_the_vocabulary_is_refused(
    db_session_factory: sessionmaker[Session],
) -> None:
    case = a_case()
    saved(db_session_factory, case)

    refused_on_flush(db_session_factory, lambda: an_obligation(case, state="overdue"))


def test_a_victims_contact_profile_round_trips_with_its_defaults(
    db_session_factory: sessionmaker[Session],
) -> None:
    case = a_case()
    victim = Victim(
        case=case,
        name="A Person",
        phone="+447700900123",
        preferred_channel="sms",
        allowed_channels=["sms", "email"],
        discreet=True,
        do_not_contact=False,
    )
    saved(db_session_factory, case, victim)

    with db_session_factory() as session:
        read = session.scalars(select(Victim)).one()

    assert read.allowed_channels == ["sms", "email"]
    assert (read.sms_opted_out, read.updates_paused) == (False, False)
    assert read.case_id == case.id


def test_sqlite_connections_use_write_ahead_logging_and_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    finally:
        engine.dispose()

    assert (journal, foreign_keys) == ("wal", 1)


def test_a_sqlite_database_in_a_missing_directory_is_created_on_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'not' / 'yet' / 'there.db'}"

    command.upgrade(alembic_config(url), "head")

    assert table_names(url) == SCHEMA_TABLES | {"alembic_version"}


def test_the_alembic_command_line_upgrades_the_database_named_in_database_url(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    ini = PROJECT_ROOT / "storage" / "alembic.ini"

    # Run from an unrelated directory to show nothing depends on the working directory.
    subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(ini), "upgrade", "head"],
        cwd=tmp_path,
        env=os.environ | {"DATABASE_URL": url},
        check=True,
        capture_output=True,
    )

    assert table_names(url) == SCHEMA_TABLES | {"alembic_version"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/pledge", "postgresql+psycopg://u:p@db:5432/pledge"),
        ("postgresql://u@db/pledge", "postgresql+psycopg://u@db/pledge"),
        ("postgresql+psycopg://u@db/pledge", "postgresql+psycopg://u@db/pledge"),
        ("sqlite:///data/pledge.db", "sqlite:///data/pledge.db"),
    ],
)
def test_bare_postgresql_urls_are_pointed_at_psycopg_3(given: str, expected: str) -> None:
    assert normalise_url(given) == expected
