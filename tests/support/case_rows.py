"""Cases and obligations written straight into the database, for tests of what pages read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from storage import models
from storage.enums import CaseStatus, ObligationState


@dataclass(frozen=True)
class ObligationSpec:
    standard: str
    state: ObligationState
    # Relative to the test's `now`: negative is in the past.
    due_in: timedelta
    window: timedelta = timedelta(hours=24)
    warning_fraction: float = 0.75
    explained: bool = False
    occurrence: int = 0
    # Relative to `now` too; by default the window's warning fraction after its start.
    warn_in: timedelta | None = None


def add_case(
    sessions: sessionmaker[Session],
    now: datetime,
    reference: str,
    *obligations: ObligationSpec,
    borough: str = "camden",
    category: str = "domestic_abuse",
    officer_name: str | None = None,
    victim_name: str = "Alex Smith",
    vulnerable: bool = False,
) -> int:
    """A case with its victim and obligations as the workflow would have recorded them."""
    with sessions.begin() as session:
        case = models.Case(
            reference=reference,
            workflow_id=f"case:{reference}",
            category=category,
            borough=borough,
            vulnerable=vulnerable,
            nation="england_and_wales",
            reported_at=now - timedelta(days=2),
            policy_id="met-pledge",
            policy_version=1,
            status=CaseStatus.OPEN,
            officer_name=officer_name,
        )
        case.victim = models.Victim(
            name=victim_name,
            email="alex@example.org",
            phone="+447700900123",
            preferred_channel="sms",
            allowed_channels=["sms", "email"],
            discreet=True,
            do_not_contact=False,
        )
        session.add(case)
        session.flush()
        for spec in obligations:
            due_at = now + spec.due_in
            started_at = due_at - spec.window
            breached = spec.state in (ObligationState.BREACHED, ObligationState.MET_LATE)
            session.add(
                models.Obligation(
                    case_id=case.id,
                    key=f"{spec.standard}#{spec.occurrence}",
                    standard=spec.standard,
                    occurrence=spec.occurrence,
                    state=spec.state,
                    borough=borough,
                    category=category,
                    started_at=started_at,
                    due_at=due_at,
                    warn_at=started_at + spec.window * spec.warning_fraction
                    if spec.warn_in is None
                    else now + spec.warn_in,
                    escalate_at=due_at + timedelta(hours=24),
                    breached_at=due_at if breached else None,
                    met_at=now
                    if spec.state in (ObligationState.MET, ObligationState.MET_LATE)
                    else None,
                    window_amount=int(spec.window.total_seconds() // 3600),
                    window_unit="hours",
                    explanation_reason="victim_unreachable" if spec.explained else None,
                    explained_at=now if spec.explained else None,
                )
            )
        return case.id
