"""The what-if's input: the cases reported in a period, read back as the service recorded
them (facts, the victim's contact profile, every accepted event in the order the case
received it), ready for the engine.

Reading is set-based: the cases of an id range with three queries (cases, victims,
events), whatever the number of cases, so a year is read in a few hundred queries by the
processes that replay it (:mod:`reporting.what_if`), each streaming its own range.

- **Posting order and clock.** Events are replayed in the order they were recorded (their
  row id), each reaching the case at the instant the service received it (never before
  the report, never before the previous one), as the workflow's clock saw it.
- **Erased contact profiles.** A closed case whose victim's profile was erased by
  retention (``contact_erasures``) has no victim row. Its messages are replayed as if
  the victim could be reached by email at any hour.
- **Events recorded before their details were kept** (migration 0015: ``details`` NULL)
  are replayed without details or standard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, create_engine, make_url, select

from engine.delivery import Victim
from engine.driver import PostedEvent
from engine.run import CaseInput
from standards.clock import Nation
from standards.contact import ContactProfile
from standards.events import EventType
from standards.force import Force, UnknownUnit
from standards.vocabulary import Channel
from storage.database import normalise_url
from storage.models import Case, CaseEventRecord
from storage.models import Victim as VictimRecord

# Who a replayed erased case's messages go to: an address that reaches nobody.
ERASED_NAME = "(erased)"
ERASED_EMAIL = "erased@invalid.example"
# Rows fetched from the database at a time while a range is read.
FETCH_ROWS = 2_000


@dataclass
class RecordedCase:
    """A case as recorded, ready to replay: the engine's input and the policy it was on."""

    case: CaseInput
    policy_id: str
    policy_version: int
    erased: bool = False
    # Its events recorded before their details were kept.
    events_without_details: int = 0


@dataclass
class History:
    """Recorded cases held in memory (tests, small periods): see :func:`read_history`."""

    cases: list[RecordedCase] = field(default_factory=list)

    @property
    def erased_cases(self) -> int:
        return sum(recorded.erased for recorded in self.cases)

    @property
    def events_without_details(self) -> int:
        return sum(recorded.events_without_details for recorded in self.cases)


@dataclass(frozen=True)
class Period:
    """Which recorded cases a what-if reads: reported in [start, end), of one borough
    (unit id) when given."""

    start: datetime
    end: datetime
    borough: str | None = None

    def where(self, *more: ColumnElement[bool]) -> list[ColumnElement[bool]]:
        conditions = [Case.reported_at >= self.start, Case.reported_at < self.end, *more]
        if self.borough is not None:
            conditions.append(Case.borough == self.borough)
        return conditions


@dataclass(frozen=True)
class CaseRef:
    """What the what-if needs to know of a case before reading it: to plan the reads and
    load the policies."""

    id: int
    policy_id: str
    policy_version: int


def case_refs(connection: Connection, period: Period) -> list[CaseRef]:
    """Every case of the period, in id order: one query over the cases table."""
    query = (
        select(Case.id, Case.policy_id, Case.policy_version)
        .where(*period.where())
        .order_by(Case.id)
    )
    return [CaseRef(*row) for row in connection.execute(query)]


def read_cases(
    connection: Connection, force: Force, period: Period, first: int, last: int
) -> list[RecordedCase]:
    """The period's cases with ids in [first, last], in id order, with their events."""
    in_range = period.where(Case.id >= first, Case.id <= last)
    victims = {
        row.case_id: row
        for row in _stream(
            connection,
            select(VictimRecord.__table__)
            .join(Case, Case.id == VictimRecord.case_id)
            .where(*in_range),
        )
    }
    by_id: dict[int, RecordedCase] = {}
    # A force has few units and resolving one is a search: each is resolved once.
    unit_names: dict[str, str] = {}
    case_rows = select(
        Case.id,
        Case.reference,
        Case.category,
        Case.borough,
        Case.reported_at,
        Case.vulnerable,
        Case.nation,
        Case.policy_id,
        Case.policy_version,
    ).where(*in_range)
    for row in _stream(connection, case_rows.order_by(Case.id)):
        victim = victims.get(row.id)
        unit_name = unit_names.get(row.borough)
        if unit_name is None:
            unit_name = unit_names[row.borough] = _unit_name(force, row.borough)
        by_id[row.id] = RecordedCase(
            case=CaseInput(
                reference=row.reference,
                category=row.category,
                borough=row.borough,
                borough_name=unit_name,
                reported_at=row.reported_at,
                victim=_victim(victim),
                vulnerable=bool(row.vulnerable),
                nation=Nation(row.nation),
            ),
            policy_id=row.policy_id,
            policy_version=row.policy_version,
            erased=victim is None,
        )
    events = (
        select(
            CaseEventRecord.case_id,
            CaseEventRecord.id,
            CaseEventRecord.type,
            CaseEventRecord.at,
            CaseEventRecord.standard,
            CaseEventRecord.details,
            CaseEventRecord.event_id,
            CaseEventRecord.received_at,
        )
        .join(Case, Case.id == CaseEventRecord.case_id)
        .where(*in_range)
        .order_by(CaseEventRecord.case_id, CaseEventRecord.id)
    )
    for event in _stream(connection, events):
        recorded = by_id[event.case_id]
        owner = recorded.case
        posted_events = owner.events
        previous = posted_events[-1].posted_at if posted_events else owner.reported_at
        recorded.events_without_details += event.details is None
        posted_events.append(
            PostedEvent(
                index=len(posted_events),
                posted_at=max(event.received_at, previous, owner.reported_at),
                type=EventType(event.type),
                at=event.at,
                standard=event.standard,
                details=dict(event.details or {}),
                # The workflow is told who recorded it by the row, never the person.
                actor=f"actor:{event.id}",
                event_id=event.event_id,
            )
        )
    return list(by_id.values())


def read_history(
    connection: Connection,
    force: Force,
    start: datetime,
    end: datetime,
    borough: str | None = None,
) -> History:
    """Every case reported in [start, end) (of one borough, when given), with its events,
    read into memory in this process."""
    period = Period(start, end, borough)
    refs = case_refs(connection, period)
    if not refs:
        return History()
    return History(read_cases(connection, force, period, refs[0].id, refs[-1].id))


def id_ranges(refs: Sequence[CaseRef], size: int) -> list[tuple[int, int]]:
    """The refs' ids cut into consecutive inclusive ranges of `size` cases each."""
    return [(refs[i].id, refs[min(i + size, len(refs)) - 1].id) for i in range(0, len(refs), size)]


def _stream(connection: Connection, query: Any) -> Any:
    """The query's rows fetched a batch at a time (a server-side cursor on PostgreSQL);
    the caller's connection keeps its own options."""
    return connection.execute(
        query, execution_options={"stream_results": True, "yield_per": FETCH_ROWS}
    )


def _unit_name(force: Force, borough: str) -> str:
    try:
        return force.resolve_unit(borough).name
    except UnknownUnit:
        return borough


def _victim(row: Any | None) -> Victim:
    if row is None:
        return Victim(
            name=ERASED_NAME,
            email=ERASED_EMAIL,
            phone=None,
            profile=ContactProfile(
                preferred_channel=Channel.EMAIL.value,
                allowed_channels=[Channel.EMAIL.value],
                has_email=True,
            ),
            discreet=True,
        )
    return Victim.reached_by(
        name=row.name,
        email=row.email,
        phone=row.phone,
        preferred_channel=row.preferred_channel,
        allowed_channels=row.allowed_channels,
        sms_opted_out=bool(row.sms_opted_out),
        do_not_contact=bool(row.do_not_contact),
        safe_hours_start=row.safe_hours_start,
        safe_hours_end=row.safe_hours_end,
        discreet=bool(row.discreet),
        language=row.language,
    )


# A read of one range waits at most this long for the database.
QUERY_SECONDS = 300


def reading_engine(url: str) -> Engine:
    """An engine that only reads, for a process replaying ranges of the period.

    The service's SQLite engine takes the write lock at every BEGIN (``storage.database``),
    which would queue the replaying processes behind each other; plain reads of a WAL
    database never wait for one another. Every query is bounded by `QUERY_SECONDS`.
    """
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        return create_engine(parsed, connect_args={"timeout": QUERY_SECONDS})
    return create_engine(
        parsed,
        pool_pre_ping=True,
        connect_args={
            "connect_timeout": 30,
            "options": f"-c statement_timeout={QUERY_SECONDS * 1000}",
        },
    )
