"""What-if on real history: the cases reported in a period, replayed under another policy.

Each case reported in [from, to) is read back as the service recorded it (its facts, its
victim's contact profile, and every accepted event in the order the case received it)
and run by the in-process engine (``engine.run``) twice: under the policy it was opened
on (its recorded policy id, from the policy folder) and under the proposed policy file.
Each run's obligations are written into a private in-memory SQLite database with the
project's schema and the figures are read by ``reporting.compliance.compliance_report``,
so both columns are counted by exactly the code `pledge report` uses.

Decisions worth knowing:

- **Posting order and clock.** Events are replayed in the order they were recorded (their
  row id), each reaching the case at the instant the service received it (never before
  the report, never before the previous one), as the workflow's clock saw it.
- **Erased contact profiles.** A closed case whose victim's profile was erased by
  retention (``contact_erasures``) has no victim row. Its messages are replayed as if
  the victim could be reached by email at any hour: under both policies alike, so the
  difference stays a difference of policy; how many such cases there were is printed.
- **Events recorded before their details were kept** (migration 0015: ``details`` NULL)
  are replayed without details or standard; how many is printed too.
- **Replayed to now, counted to as-of.** `pledge report` counts states as recorded when
  it runs, so each case is run to the moment the what-if runs and counted to ``--as-of``.
- **Opening.** A case is replayed from its report instant; a case opened long after it
  was reported (back-dated intake) met its opening deadlines later live than here.
- **Deliveries** are the rehearsal's (``engine.delivery``): delivered at once, but to the
  simulated failing test numbers; a live delivery that failed is not known here.
- **Migrated cases** (``pledge policy migrate``) are replayed on the version recorded
  for them now, from their report, not on the old version up to the move.
- **Explanations** (breach reasons) belong to obligations of the recorded run and are not
  carried over: a replayed breach is ``unexplained``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, create_engine, select
from sqlalchemy.pool import StaticPool

from activities.rendering import Channel, MessageRenderer
from engine.delivery import CaseOutbox, SimulatedDelivery, Victim
from engine.driver import CaseDriver, CaseRun, PostedEvent
from engine.run import CHUNK_CASES, CaseInput, CaseRunner, EngineConfig, run_chunks
from reporting.compliance import ComplianceReport, compliance_report
from standards.case import CaseFacts, EventType
from standards.clock import Nation
from standards.contact import ContactProfile
from standards.delivery import MessageIntent
from standards.force import Force, UnknownUnit
from standards.policy import Policy
from storage.base import Base
from storage.models import Case, CaseEventRecord, Obligation
from storage.models import Victim as VictimRecord
from storage.report_models import ReportDaySummary, ReportMonthSummary
from storage.summary import rebuild_report_summary

# Who a replayed erased case's messages go to: an address that reaches nobody.
ERASED_NAME = "(erased)"
ERASED_EMAIL = "erased@invalid.example"


class WhatIfError(ValueError):
    """A what-if that cannot be answered (nothing reported in the period, a missing policy)."""


@dataclass
class RecordedCase:
    """A case as recorded, ready to replay: the engine's input and the policy it was on."""

    case: CaseInput
    policy_id: str
    policy_version: int
    erased: bool = False


@dataclass
class History:
    cases: list[RecordedCase] = field(default_factory=list)
    # Cases whose contact profile was erased; events recorded before details were kept.
    erased_cases: int = 0
    events_without_details: int = 0


def _victim(row: Any | None) -> Victim:
    if row is None:
        return Victim(
            name=ERASED_NAME,
            email=ERASED_EMAIL,
            phone=None,
            profile=ContactProfile(
                preferred_channel="email", allowed_channels=["email"], has_email=True
            ),
            discreet=True,
        )
    return Victim(
        name=row.name,
        email=row.email,
        phone=row.phone,
        profile=ContactProfile(
            preferred_channel=row.preferred_channel,
            allowed_channels=list(row.allowed_channels or [row.preferred_channel]),
            has_email=bool(row.email),
            has_phone=bool(row.phone),
            sms_opted_out=bool(row.sms_opted_out),
            do_not_contact=bool(row.do_not_contact),
            safe_hours_start=row.safe_hours_start,
            safe_hours_end=row.safe_hours_end,
        ),
        discreet=bool(row.discreet),
    )


def read_history(
    connection: Connection,
    force: Force,
    start: datetime,
    end: datetime,
    borough: str | None = None,
) -> History:
    """Every case reported in [start, end) (of one borough, when given), with its events."""
    in_period = [Case.reported_at >= start, Case.reported_at < end]
    if borough is not None:
        in_period.append(Case.borough == borough)
    victims = {
        row.case_id: row
        for row in connection.execute(
            select(VictimRecord.__table__)
            .join(Case, Case.id == VictimRecord.case_id)
            .where(*in_period)
        )
    }
    history = History()
    by_id: dict[int, RecordedCase] = {}
    case_rows = connection.execute(
        select(
            Case.id,
            Case.reference,
            Case.category,
            Case.borough,
            Case.reported_at,
            Case.vulnerable,
            Case.nation,
            Case.policy_id,
            Case.policy_version,
        )
        .where(*in_period)
        .order_by(Case.id)
    )
    for row in case_rows:
        try:
            borough_name = force.resolve_unit(row.borough).name
        except UnknownUnit:
            borough_name = row.borough
        victim = victims.get(row.id)
        recorded = RecordedCase(
            case=CaseInput(
                reference=row.reference,
                category=row.category,
                borough=row.borough,
                borough_name=borough_name,
                reported_at=row.reported_at,
                victim=_victim(victim),
                vulnerable=bool(row.vulnerable),
                nation=Nation(row.nation),
            ),
            policy_id=row.policy_id,
            policy_version=row.policy_version,
            erased=victim is None,
        )
        history.erased_cases += victim is None
        by_id[row.id] = recorded
        history.cases.append(recorded)
    events = connection.execute(
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
        .where(*in_period)
        .order_by(CaseEventRecord.case_id, CaseEventRecord.id)
    )
    for event in events:
        owner = by_id[event.case_id].case
        posted_events = owner.events
        previous = posted_events[-1].posted_at if posted_events else owner.reported_at
        history.events_without_details += event.details is None
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
    return history


# -- replaying -----------------------------------------------------------------

# What a replay keeps of an obligation: what the report reads, and what the table needs.
ObligationRow = tuple[str, str, int, str, str, str, datetime, datetime, datetime | None, int, str]


class UnrenderedDelivery(SimulatedDelivery):
    """The rehearsal's delivery without writing the messages' text.

    A what-if reads only what each send's outcome did to the case's clocks, and the
    simulated backends decide an outcome by the recipient alone, so composing the text
    (a quarter of a replay's time) is skipped; every other step is the rehearsal's.
    """

    def _text(self, outbox: CaseOutbox, intent: MessageIntent, channel: Channel) -> str:
        return ""


# One per worker process and policy: the delivery keeps no state between cases.
_deliveries: dict[int, UnrenderedDelivery] = {}


def replay_case(config: EngineConfig, case: CaseInput, until: datetime) -> CaseRun:
    """One case run by the engine's driver, as `engine.run.CaseRunner.run` runs it, with
    its messages' outcomes but not their text."""
    delivery = _deliveries.get(id(config))
    if delivery is None:
        renderer = MessageRenderer(config.template_dir, reload_templates=False, with_html=False)
        delivery = _deliveries[id(config)] = UnrenderedDelivery(renderer, config.setting)
    facts = CaseFacts(
        reference=case.reference,
        category=case.category,
        borough=case.borough,
        reported_at=case.reported_at,
        policy=config.policy,
        vulnerable=case.vulnerable,
        nation=case.nation,
    )
    outbox = CaseOutbox(
        reference=case.reference,
        category=case.category,
        borough_name=case.borough_name,
        # Its own copy: a replay changes the victim's row (an opt-out, the interval).
        victim=dataclasses.replace(case.victim),
    )
    return CaseDriver(facts, outbox, delivery, config.corrections).drive(case.events, until)


def _replay_chunk(
    runner: CaseRunner, chunk: tuple[list[CaseInput], datetime, datetime, datetime]
) -> list[ObligationRow]:
    """Run a chunk's cases to `until`; keep the obligations due in [start, end)."""
    cases, until, start, end = chunk
    rows: list[ObligationRow] = []
    for case in cases:
        run = replay_case(runner.config, case, until)
        for o in run.book.state.obligations:
            if start <= o.due_at < end:
                rows.append(
                    (
                        o.key,
                        o.standard,
                        o.occurrence,
                        o.state.value,
                        case.borough,
                        case.category,
                        o.started_at,
                        o.due_at,
                        o.met_at,
                        o.window_amount,
                        o.window_unit,
                    )
                )
    return rows


def replay(
    config: EngineConfig,
    cases: Sequence[CaseInput],
    until: datetime,
    start: datetime,
    end: datetime,
    processes: int | None = None,
) -> list[ObligationRow]:
    """The obligations due in [start, end) of `cases` run under `config`'s policy to `until`."""
    chunks = [
        (list(cases[i : i + CHUNK_CASES]), until, start, end)
        for i in range(0, len(cases), CHUNK_CASES)
    ]
    rows: list[ObligationRow] = []
    for chunk_rows in run_chunks(config, _replay_chunk, chunks, processes):
        rows += chunk_rows
    return rows


_COLUMNS = (
    "key",
    "standard",
    "occurrence",
    "state",
    "borough",
    "category",
    "started_at",
    "due_at",
    "met_at",
    "window_amount",
    "window_unit",
)
_REPORT_TABLES = [
    Base.metadata.tables[model.__tablename__]
    for model in (Obligation, ReportMonthSummary, ReportDaySummary)
]


def _write_obligations(
    connection: Connection, rows: Sequence[ObligationRow], written_at: datetime
) -> None:
    """Insert the rows in one DB-API `executemany`, each value bound by its column's own
    type (UTC instants as the service stores them); SQLAlchemy's per-row parameter
    handling would take longer than the replay itself for a force's year."""
    table = Base.metadata.tables[Obligation.__tablename__]
    names = [*_COLUMNS, "case_id", "updated_at"]
    dialect = connection.dialect
    binders = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    placeholders = ", ".join("?" for _ in names)
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})"
    # Each obligation its own case id: nothing here reads the cases table.
    values = (
        tuple(
            value if bind is None else bind(value)
            for bind, value in zip(binders, (*row, number, written_at), strict=True)
        )
        for number, row in enumerate(rows)
    )
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(statement, values)
    finally:
        cursor.close()


def report_of(
    rows: Sequence[ObligationRow],
    start: datetime,
    end: datetime,
    by: Sequence[str],
    as_of: datetime,
    *,
    borough: str | None = None,
    standard: str | None = None,
) -> ComplianceReport:
    """`pledge report`'s figures for these obligations: written into a private in-memory
    database with the project's tables, summarised and counted by the report's own code."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        with engine.begin() as connection:
            Base.metadata.create_all(connection, tables=_REPORT_TABLES)
            _write_obligations(connection, rows, as_of)
            rebuild_report_summary(connection, start, end)
            return compliance_report(
                connection, start, end, by, as_of, borough=borough, standard=standard
            )
    finally:
        engine.dispose()


@dataclass
class WhatIf:
    current: ComplianceReport
    proposed: ComplianceReport
    proposed_policy: Policy
    current_policies: list[str]
    cases: int
    erased_cases: int
    events_without_details: int
    # Cases whose recorded policy version is not the one in the policy folder.
    other_versions: int


def what_if(
    history: History,
    current: dict[str, EngineConfig],
    proposed: EngineConfig,
    start: datetime,
    end: datetime,
    by: Sequence[str],
    as_of: datetime,
    *,
    standard: str | None = None,
    processes: int | None = None,
    now: datetime | None = None,
) -> WhatIf:
    """Replay `history` under each case's current policy (by id) and under `proposed`.

    Cases are run to `now` (the moment the what-if runs), as `pledge report` reads states
    as recorded when it runs, and counted to `as_of`, as the report counts.
    """
    if not history.cases:
        raise WhatIfError("no cases were reported in the period: nothing to replay")
    until = (now or datetime.now(UTC)).astimezone(UTC)
    groups: dict[str, list[CaseInput]] = {}
    for recorded in history.cases:
        groups.setdefault(recorded.policy_id, []).append(recorded.case)
    current_rows: list[ObligationRow] = []
    for policy_id, cases in groups.items():
        current_rows += replay(current[policy_id], cases, until, start, end, processes)
    proposed_rows = replay(proposed, [r.case for r in history.cases], until, start, end, processes)
    versions = Counter(
        r.policy_version != current[r.policy_id].policy.version for r in history.cases
    )
    return WhatIf(
        current=report_of(current_rows, start, end, by, as_of, standard=standard),
        proposed=report_of(proposed_rows, start, end, by, as_of, standard=standard),
        proposed_policy=proposed.policy,
        current_policies=[
            f"{c.policy.id} v{c.policy.version}" for c in (current[p] for p in groups)
        ],
        cases=len(history.cases),
        erased_cases=history.erased_cases,
        events_without_details=history.events_without_details,
        other_versions=versions[True],
    )
