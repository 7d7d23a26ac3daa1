"""`pledge alerts --borough`: a borough by id or name in any case, old spellings included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from cli.main import app
from storage import models

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seed_alert(sessions: sessionmaker[Session], reference: str, borough: str) -> None:
    with sessions.begin() as session:
        case = models.Case(
            reference=reference,
            workflow_id=f"case:{reference}",
            category="burglary",
            borough=borough,
            vulnerable=False,
            nation="england_and_wales",
            reported_at=AT,
            policy_id="met-pledge",
            policy_version=1,
        )
        session.add(case)
        session.flush()
        session.add(
            models.Alert(
                case_id=case.id,
                reference=reference,
                borough=borough,
                standard="victim_update",
                obligation_key="victim_update#1",
                kind="breach",
                at=AT,
                detail="no update given",
                recipient_role="vfu",
            )
        )


def alerts(database_url: str, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["alerts", *args], terminal_width=200)
    return result.exit_code, result.output


def test_alerts_for_a_borough_by_name_in_any_case_include_those_stored_by_old_spellings(
    database_url: str, db_session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_alert(db_session_factory, "01/000001/26", "kensington_and_chelsea")
    seed_alert(db_session_factory, "01/000002/26", "Kensington and Chelsea")  # before ids
    seed_alert(db_session_factory, "01/000003/26", "camden")
    code, output = alerts(database_url, monkeypatch, "--borough", "KENSINGTON AND CHELSEA")
    assert code == 0
    assert "01/000001/26" in output and "01/000002/26" in output
    assert "01/000003/26" not in output


def test_alerts_for_an_unknown_borough_are_refused_in_one_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, output = alerts(database_url, monkeypatch, "--borough", "Narnia")
    assert code == 1
    assert output.startswith("error: unknown borough 'Narnia'; accepted")
