"""The alerts page's reads and actions: a role's alerts, acknowledged and assigned.

A VFU officer's desk holds the alerts raised for the borough's VFU (a victim's request
for an update, manual contact needed, a message that could not be delivered, due soon,
breached); a manager's holds the escalations raised for managers. Open alerts come
first, in the order a person should take them (a victim waiting first), then the newest.
Acknowledging and assigning record who did it and when; an alert outside the user's
boroughs is refused exactly as one that does not exist, and a refused action changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from standards.force import Force
from standards.obligations import AlertKind
from standards.staff import StaffRole, StaffUser, visible_boroughs
from standards.vocabulary import RecipientRole
from storage import models

ALERTS_PER_PAGE = 50

# What each desk holds, in the order a person should take them.
DESK_KINDS: dict[StaffRole, tuple[AlertKind, ...]] = {
    StaffRole.VFU: (
        AlertKind.UPDATE_REQUESTED,
        AlertKind.MANUAL_CONTACT_REQUIRED,
        AlertKind.DELIVERY_FAILED,
        AlertKind.WARNING,
        AlertKind.BREACH,
    ),
    StaffRole.MANAGER: (AlertKind.ESCALATION,),
}
DESK_RECIPIENT: dict[StaffRole, RecipientRole] = {
    StaffRole.VFU: RecipientRole.VFU,
    StaffRole.MANAGER: RecipientRole.MANAGER,
}
KIND_LABELS: dict[AlertKind, str] = {
    AlertKind.UPDATE_REQUESTED: "Victim asked for an update",
    AlertKind.MANUAL_CONTACT_REQUIRED: "Manual contact needed",
    AlertKind.DELIVERY_FAILED: "Message not delivered",
    AlertKind.WARNING: "Due soon",
    AlertKind.BREACH: "Breached",
    AlertKind.ESCALATION: "Escalation",
}


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ALL = "all"


class Refusal(StrEnum):
    """Why an action was refused, by a fixed key (a page may carry it in a link)."""

    ALREADY_ACKNOWLEDGED = "already_acknowledged"
    ALREADY_GIVEN = "already_given"
    NOT_GIVEN = "not_given"
    NOT_ASSIGNABLE = "not_assignable"


REFUSAL_TEXT: dict[Refusal, str] = {
    Refusal.ALREADY_ACKNOWLEDGED: "This alert was already acknowledged",
    Refusal.ALREADY_GIVEN: "This alert is already given to that person",
    Refusal.NOT_GIVEN: "This alert is not given to anyone",
    Refusal.NOT_ASSIGNABLE: "Choose someone from the list who works on these cases",
}


class AlertRefused(ValueError):
    """An action the alert does not take; one line for the page, nothing changed."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(REFUSAL_TEXT[reason])
        self.reason = reason


class NoSuchAlert(LookupError):
    """No alert with that id on the user's desk (or none at all: the two look the same)."""


@dataclass(frozen=True)
class DeskFilters:
    kind: AlertKind | None = None
    status: AlertStatus = AlertStatus.OPEN
    mine: bool = False
    page: int = 1


@dataclass(frozen=True)
class DeskAlert:
    id: int
    reference: str
    borough: str
    standard: str
    kind: AlertKind
    at: datetime
    due_at: datetime | None
    detail: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    assigned_to: str | None
    assigned_to_id: int | None
    assigned_by: str | None
    assigned_at: datetime | None


@dataclass(frozen=True)
class DeskCounts:
    """Open alerts of each kind on the desk, whatever the filters."""

    by_kind: dict[AlertKind, int]
    assigned_to_me: int


@dataclass(frozen=True)
class DeskPage:
    alerts: list[DeskAlert]
    total: int
    page: int
    pages: int
    counts: DeskCounts


@dataclass(frozen=True)
class Assignee:
    id: int
    name: str  # their display name, else their email


def desk_kinds(user: StaffUser) -> tuple[AlertKind, ...]:
    return DESK_KINDS.get(user.role, ())


def _on_desk(user: StaffUser, force: Force) -> list[ColumnElement[bool]]:
    """The conditions of the user's desk: their role's alerts, in their boroughs."""
    kinds = desk_kinds(user)
    recipient = DESK_RECIPIENT.get(user.role)
    boroughs = visible_boroughs(user, force)
    if not kinds or recipient is None or boroughs == []:
        return [models.Alert.id.is_(None)]  # nothing at all
    conditions: list[ColumnElement[bool]] = [
        models.Alert.kind.in_([k.value for k in kinds]),
        models.Alert.recipient_role == recipient.value,
    ]
    if boroughs is not None:
        conditions.append(models.Alert.borough.in_(boroughs))
    return conditions


def _filtered(user: StaffUser, force: Force, filters: DeskFilters) -> list[ColumnElement[bool]]:
    conditions = _on_desk(user, force)
    if filters.kind is not None:
        conditions.append(models.Alert.kind == filters.kind.value)
    if filters.status == AlertStatus.OPEN:
        conditions.append(models.Alert.acknowledged_at.is_(None))
    elif filters.status == AlertStatus.ACKNOWLEDGED:
        conditions.append(models.Alert.acknowledged_at.is_not(None))
    if filters.mine:
        conditions.append(models.Alert.assigned_to_id == user.id)
    return conditions


def read_desk(
    sessions: sessionmaker[Session], user: StaffUser, force: Force, filters: DeskFilters
) -> DeskPage:
    """One page of the user's desk, and the open counts at the top."""
    conditions = _filtered(user, force, filters)
    kinds = desk_kinds(user)
    order = case(
        {kind.value: rank for rank, kind in enumerate(kinds)},
        value=models.Alert.kind,
        else_=len(kinds),
    )
    acknowledger = aliased(models.StaffUserRecord)
    assignee = aliased(models.StaffUserRecord)
    assigner = aliased(models.StaffUserRecord)
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(models.Alert).where(*conditions))
        total = total or 0
        pages = max(1, -(-total // ALERTS_PER_PAGE))
        page = min(max(filters.page, 1), pages)
        query = (
            select(
                models.Alert,
                models.staff_known_as(acknowledger),
                models.staff_known_as(assignee),
                models.staff_known_as(assigner),
            )
            .outerjoin(acknowledger, acknowledger.id == models.Alert.acknowledged_by_id)
            .outerjoin(assignee, assignee.id == models.Alert.assigned_to_id)
            .outerjoin(assigner, assigner.id == models.Alert.assigned_by_id)
            .where(*conditions)
            .order_by(
                models.Alert.acknowledged_at.is_not(None),
                order,
                models.Alert.at.desc(),
                models.Alert.id.desc(),
            )
            .offset((page - 1) * ALERTS_PER_PAGE)
            .limit(ALERTS_PER_PAGE)
        )
        rows = session.execute(query).all()
        counts = _counts(session, user, force)
    return DeskPage(
        alerts=[_desk_alert(row[0], row[1], row[2], row[3]) for row in rows],
        total=total,
        page=page,
        pages=pages,
        counts=counts,
    )


def open_on_desk(session: Session, user: StaffUser, force: Force) -> int:
    """How many alerts on the user's desk are not yet acknowledged (one counting query:
    the dashboard shows it beside its link to the desk)."""
    count = session.scalar(
        select(func.count())
        .select_from(models.Alert)
        .where(*_on_desk(user, force), models.Alert.acknowledged_at.is_(None))
    )
    return count or 0


def _counts(session: Session, user: StaffUser, force: Force) -> DeskCounts:
    open_on_desk = [*_on_desk(user, force), models.Alert.acknowledged_at.is_(None)]
    by_kind = {kind: 0 for kind in desk_kinds(user)}
    for kind, count in session.execute(
        select(models.Alert.kind, func.count()).where(*open_on_desk).group_by(models.Alert.kind)
    ):
        by_kind[AlertKind(kind)] = count
    mine = session.scalar(
        select(func.count())
        .select_from(models.Alert)
        .where(*open_on_desk, models.Alert.assigned_to_id == user.id)
    )
    return DeskCounts(by_kind=by_kind, assigned_to_me=mine or 0)


def _desk_alert(
    row: models.Alert, acknowledged_by: str | None, assigned_to: str | None, assigned_by: str | None
) -> DeskAlert:
    return DeskAlert(
        id=row.id,
        reference=row.reference,
        borough=row.borough,
        standard=row.standard,
        kind=AlertKind(row.kind),
        at=row.at,
        due_at=row.due_at,
        detail=row.detail,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=acknowledged_by,
        assigned_to=assigned_to,
        assigned_to_id=row.assigned_to_id,
        assigned_by=assigned_by,
        assigned_at=row.assigned_at,
    )


def _desk_row(session: Session, user: StaffUser, force: Force, alert_id: int) -> models.Alert:
    row = session.scalar(
        select(models.Alert)
        .where(models.Alert.id == alert_id, *_on_desk(user, force))
        .with_for_update()
    )
    if row is None:
        raise NoSuchAlert(alert_id)
    return row


def acknowledge(
    sessions: sessionmaker[Session], user: StaffUser, force: Force, alert_id: int, now: datetime
) -> str:
    """Acknowledge an alert on the user's desk; its reference. Acknowledged already:
    refused, nothing changed (the desk shows who acknowledged it)."""
    with sessions.begin() as session:
        row = _desk_row(session, user, force, alert_id)
        if row.acknowledged_at is not None:
            raise AlertRefused(Refusal.ALREADY_ACKNOWLEDGED)
        row.acknowledged_at = now
        row.acknowledged_by_id = user.id
        return row.reference


def assignees(sessions: sessionmaker[Session], user: StaffUser, force: Force) -> list[Assignee]:
    """Who the user may give an alert to: the active VFU officers and managers of the
    user's borough and the force-wide managers (a force-wide manager: everyone active who
    works on cases)."""
    if visible_boroughs(user, force) == []:
        return []
    conditions: list[ColumnElement[bool]] = [
        models.StaffUserRecord.disabled_at.is_(None),
        models.StaffUserRecord.role.in_([StaffRole.VFU.value, StaffRole.MANAGER.value]),
    ]
    if user.borough is not None:
        conditions.append(
            or_(
                models.StaffUserRecord.borough == user.borough,
                and_(
                    models.StaffUserRecord.role == StaffRole.MANAGER.value,
                    models.StaffUserRecord.borough.is_(None),
                ),
            )
        )
    with sessions() as session:
        known_as = models.staff_known_as(models.StaffUserRecord).label("name")
        rows = session.execute(
            select(models.StaffUserRecord.id, known_as)
            .where(*conditions)
            .order_by(known_as, models.StaffUserRecord.id)
        ).all()
    return [Assignee(id=row.id, name=row.name) for row in rows]


def assign(
    sessions: sessionmaker[Session],
    user: StaffUser,
    force: Force,
    alert_id: int,
    assignee_id: int | None,
    now: datetime,
) -> str:
    """Give an alert on the user's desk to one of its `assignees` (None: to nobody); its
    reference. Anyone else is refused, nothing changed."""
    allowed = {a.id for a in assignees(sessions, user, force)}
    if assignee_id is not None and assignee_id not in allowed:
        raise AlertRefused(Refusal.NOT_ASSIGNABLE)
    with sessions.begin() as session:
        row = _desk_row(session, user, force, alert_id)
        if row.assigned_to_id == assignee_id:
            raise AlertRefused(
                Refusal.ALREADY_GIVEN if assignee_id is not None else Refusal.NOT_GIVEN
            )
        row.assigned_to_id = assignee_id
        row.assigned_by_id = user.id
        row.assigned_at = now
        return row.reference
