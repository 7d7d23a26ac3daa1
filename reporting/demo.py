"""Realistic demo history written straight into the database, fast enough for millions of rows.

Cases, victims (with contact details reserved for drama: +447700900xxx and example.org),
obligations and their transitions, consistent with the policy's windows: every deadline
comes from ``standards.clock.add_window`` and every state agrees with its instants and
with the as-of instant (nothing is met, breached or explained in the future).

Rows bypass the ORM: SQLite gets one ``executemany`` per table and batch, PostgreSQL gets
``COPY``, because building millions of ORM objects would take longer than the benchmark
it feeds. Identifiers are assigned here (after the current maximum) so that children can
point at their parents without a round trip, and PostgreSQL's sequences are moved past
them afterwards so that the service's own inserts never collide.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Connection, Engine, func, select, text

from standards.clock import (
    LONDON,
    HolidayCorrections,
    Nation,
    WindowUnit,
    add_calendar_days,
    add_working_days,
)
from standards.force import Force
from standards.obligations import BreachReason, ObligationState
from standards.policy import Policy, StandardRule, Trigger
from storage import models
from storage.enums import TransitionEvent
from storage.summary import rebuild_report_summary

# Rough shares of reported crime; feedback is the service's own complaints channel.
CATEGORY_WEIGHTS: Final = {
    "general": 46,
    "burglary": 14,
    "domestic_abuse": 12,
    "sexual_offence": 4,
    "hate_crime": 3,
    "serious_assault": 6,
    "road_traffic_collision": 9,
    "feedback": 6,
}
FIRST_NAMES: Final = ("Alex", "Sam", "Jordan", "Priya", "Tom", "Aisha", "Chen", "Maria", "Kofi")
LAST_NAMES: Final = ("Example", "Sample", "Testcase", "Placeholder", "Demo", "Fictional")
REASONS: Final = tuple(reason.value for reason in BreachReason)
BATCH_CASES: Final = 5_000
MAX_UPDATES: Final = 6
OPENED: Final = "case_opened by crime recording system"

CASE_COLUMNS: Final = (
    "id", "reference", "workflow_id", "category", "borough", "vulnerable", "nation",
    "reported_at", "policy_id", "policy_version", "status", "closed_at", "created_at",
)  # fmt: skip
VICTIM_COLUMNS: Final = (
    "id", "case_id", "name", "email", "phone", "preferred_channel", "allowed_channels",
    "discreet", "do_not_contact", "sms_opted_out", "updates_paused",
)  # fmt: skip
OBLIGATION_COLUMNS: Final = (
    "id", "case_id", "key", "standard", "occurrence", "state", "borough", "category",
    "started_at", "due_at", "warn_at", "escalate_at", "warned_at", "breached_at",
    "escalated_at", "met_at", "cancelled_at", "window_amount", "window_unit",
    "explanation_reason", "explanation_text", "explained_at", "updated_at",
)  # fmt: skip
DUE_AT: Final = OBLIGATION_COLUMNS.index("due_at")
TRANSITION_COLUMNS: Final = (
    "id",
    "obligation_id",
    "case_id",
    "seq",
    "event",
    "state",
    "at",
    "cause",
)


@dataclass
class DemoCounts:
    cases: int = 0
    victims: int = 0
    obligations: int = 0
    transitions: int = 0
    states: dict[str, int] = field(default_factory=dict)


@dataclass
class _Ids:
    case: int
    victim: int
    obligation: int
    transition: int


@dataclass
class _Batch:
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    victims: list[tuple[Any, ...]] = field(default_factory=list)
    obligations: list[tuple[Any, ...]] = field(default_factory=list)
    transitions: list[tuple[Any, ...]] = field(default_factory=list)


@lru_cache(maxsize=65_536)
def _working_deadline(
    start_day: date, days: int, nation: Nation, corrections: HolidayCorrections
) -> datetime:
    # Working-day deadlines depend only on the London start day; caching makes millions
    # of them cheap instead of walking the calendar for each one.
    start = datetime.combine(start_day, datetime.min.time(), tzinfo=LONDON).replace(hour=12)
    return add_working_days(start, days, nation, corrections)


def deadline(
    start: datetime, amount: int, unit: str, nation: Nation, corrections: HolidayCorrections
) -> datetime:
    """The policy deadline, as ``standards.clock.add_window`` computes it (cached)."""
    match WindowUnit(unit):
        case WindowUnit.MINUTES:
            return start + timedelta(minutes=amount)
        case WindowUnit.HOURS:
            return start + timedelta(hours=amount)
        case WindowUnit.DAYS:
            return add_calendar_days(start, amount)
        case WindowUnit.WEEKS:
            return add_calendar_days(start, 7 * amount)
        case WindowUnit.WORKING_DAYS:
            return _working_deadline(start.astimezone(LONDON).date(), amount, nation, corrections)


class _Generator:
    def __init__(self, policy: Policy, force: Force, now: datetime, rng: random.Random) -> None:
        self.policy = policy
        self.now = now
        self.rng = rng
        # Cases belong to the force's units (their canonical ids), in their units' nations.
        self.units = [(unit.id, force.nation_of(unit)) for unit in force.units]
        self.nation_of = dict(self.units)
        self.corrections = force.holiday_corrections
        self.categories = [c for c in CATEGORY_WEIGHTS if c in policy.categories]
        self.weights = [CATEGORY_WEIGHTS[c] for c in self.categories]
        self.states: dict[str, int] = {}

    def case(self, ids: _Ids, batch: _Batch, reported_at: datetime) -> None:
        rng = self.rng
        case_id = ids.case
        ids.case += 1
        category = rng.choices(self.categories, self.weights)[0]
        borough, nation = rng.choice(self.units)
        vulnerable = rng.random() < 0.08
        closed_at: datetime | None = None
        if category != "feedback" and rng.random() < 0.8:
            closed_at = reported_at + timedelta(seconds=rng.expovariate(1 / (35 * 86400)))
        if category == "feedback":
            closed_at = reported_at + timedelta(days=rng.uniform(1, 10))
        if closed_at is not None and closed_at > self.now:
            closed_at = None
        reference = f"{(case_id // 1_000_000) % 100:02d}/{case_id % 1_000_000:06d}/"
        reference += f"{reported_at.year % 100:02d}"
        batch.cases.append(
            (
                case_id, reference, f"case:{reference}", category, borough, vulnerable,
                nation.value, reported_at, self.policy.id, self.policy.version,
                "closed" if closed_at else "open", closed_at, reported_at,
            )
        )  # fmt: skip
        channel = "sms" if rng.random() < 0.6 else "email"
        discreet = self.policy.discreet_by_default_for(category)
        batch.victims.append(
            (
                ids.victim, case_id,
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                f"victim{case_id}@example.org", f"+447700900{case_id % 1000:03d}",
                channel, json.dumps([channel, "email" if channel == "sms" else "sms"]),
                discreet, rng.random() < 0.01, False, False,
            )
        )  # fmt: skip
        ids.victim += 1

        enhanced = self.policy.has_enhanced_rights(category, vulnerable)
        case_row = (case_id, borough, category, closed_at, enhanced)
        for rule in self.policy.started_by(Trigger.CASE_OPENED, category):
            if rule.recurs:
                self._recurring(ids, batch, case_row, rule, reported_at)
            else:
                self._obligation(ids, batch, case_row, rule, 1, reported_at, OPENED)
        if category == "feedback":
            return
        arrest_at = reported_at + timedelta(days=rng.uniform(0.5, 25))
        if rng.random() < 0.2 and arrest_at <= min(closed_at or self.now, self.now):
            for rule in self.policy.started_by(Trigger.ARREST, category):
                self._obligation(
                    ids, batch, case_row, rule, 1, arrest_at, "arrest by crime recording system"
                )
            court_at = arrest_at + timedelta(days=rng.uniform(20, 120))
            if rng.random() < 0.35 and court_at <= self.now:
                for rule in self.policy.started_by(Trigger.COURT_OUTCOME, category):
                    self._obligation(
                        ids,
                        batch,
                        case_row,
                        rule,
                        1,
                        court_at,
                        "court_outcome by crime recording system",
                    )
        if closed_at is not None:
            for rule in self.policy.started_by(Trigger.CLOSED, category):
                self._obligation(
                    ids, batch, case_row, rule, 1, closed_at, "closed by crime recording system"
                )

    def _recurring(
        self,
        ids: _Ids,
        batch: _Batch,
        case_row: tuple[int, str, str, datetime | None, bool],
        rule: StandardRule,
        start: datetime,
    ) -> None:
        # Each qualifying update restarts the clock, until the case closes.
        cause = OPENED
        for occurrence in range(1, MAX_UPDATES + 1):
            met_at = self._obligation(ids, batch, case_row, rule, occurrence, start, cause)
            if met_at is None:
                return
            start, cause = met_at, "restarted: update delivered"

    def _obligation(
        self,
        ids: _Ids,
        batch: _Batch,
        case_row: tuple[int, str, str, datetime | None, bool],
        rule: StandardRule,
        occurrence: int,
        started_at: datetime,
        trigger: str,
    ) -> datetime | None:
        """Write one obligation and its transitions; return its met instant, if any."""
        rng, now = self.rng, self.now
        case_id, borough, category, closed_at, enhanced = case_row
        if started_at > now or (closed_at is not None and started_at >= closed_at and rule.recurs):
            return None
        amount = self.policy.window_for(rule, enhanced)
        nation = self.nation_of[borough]
        due_at = deadline(started_at, amount, rule.unit, nation, self.corrections)
        window = due_at - started_at
        warn_at = started_at + window * self.policy.warning_fraction(rule)
        escalate_at = due_at + timedelta(hours=self.policy.escalation_hours(rule))

        automatic = any(token.startswith("message:") for token in rule.met_by) and not rule.recurs
        roll = rng.random()
        met_at: datetime | None
        if automatic and roll < 0.9:
            met_at = started_at + timedelta(seconds=rng.randint(5, 900))
        elif roll < 0.84:
            met_at = started_at + window * (rng.random() ** 1.6 * 0.99)
        elif roll < 0.92:
            met_at = due_at + timedelta(seconds=rng.expovariate(1 / (2 * 86400)) + 60)
        else:
            met_at = None
        met_at = met_at.replace(microsecond=0) if met_at else None
        cancelled_at: datetime | None = None
        # Closing the case cancels an update still running then ("on_close = cancel").
        if (
            rule.on_close == "cancel"
            and closed_at is not None
            and (met_at is None or met_at > closed_at)
            and closed_at < due_at
        ):
            met_at, cancelled_at = None, closed_at
        if met_at is not None and met_at > now:
            met_at = None

        events: list[tuple[datetime, TransitionEvent, str]] = [
            (started_at, TransitionEvent.STARTED, trigger)
        ]
        end_of_clock = min(x for x in (met_at, cancelled_at, now) if x is not None)
        warned_at = warn_at if warn_at <= end_of_clock and warn_at < due_at else None
        if warned_at:
            events.append((warned_at, TransitionEvent.WARNED, "75% of the window elapsed"))
        met_in_time = met_at is not None and met_at <= due_at
        breached_at = due_at if due_at <= end_of_clock and not met_in_time else None
        escalated_at = escalate_at if breached_at and escalate_at <= end_of_clock else None
        if breached_at:
            events.append((breached_at, TransitionEvent.BREACHED, "deadline passed unmet"))
        if escalated_at:
            events.append((escalated_at, TransitionEvent.ESCALATED, "still unmet 24h after breach"))
        if met_at is not None:
            how = "message:" + rule.met_by[0].removeprefix("message:") + " delivered"
            event = TransitionEvent.MET_LATE if breached_at else TransitionEvent.MET
            events.append((met_at, event, how if automatic else "contact by officer"))
        if cancelled_at is not None:
            events.append((cancelled_at, TransitionEvent.CANCELLED, "case closed"))

        reason = text_ = explained_at = None
        if breached_at is not None and rng.random() < 0.6:
            explained = breached_at + timedelta(hours=rng.uniform(1, 72))
            if explained <= now:
                explained_at = explained.replace(microsecond=0)
                reason = rng.choice(REASONS)
                text_ = "victim moved address; new one traced" if reason == "other" else None
                events.append(
                    (explained_at, TransitionEvent.EXPLAINED, f"explained by vfu: {reason}")
                )

        if cancelled_at is not None:
            state = ObligationState.CANCELLED
        elif met_at is not None:
            state = ObligationState.MET_LATE if breached_at else ObligationState.MET
        elif breached_at is not None:
            state = ObligationState.BREACHED
        else:
            state = ObligationState.PENDING
        self.states[state] = self.states.get(state, 0) + 1

        obligation_id = ids.obligation
        ids.obligation += 1
        batch.obligations.append(
            (
                obligation_id, case_id, f"{rule.id}#{occurrence}", rule.id, occurrence,
                state.value, borough, category, started_at, due_at, warn_at, escalate_at,
                warned_at, breached_at, escalated_at, met_at, cancelled_at, amount,
                rule.unit.value, reason, text_, explained_at, max(e[0] for e in events),
            )
        )  # fmt: skip
        events.sort(key=lambda e: e[0])
        current = ObligationState.PENDING
        after: dict[str, ObligationState] = {
            TransitionEvent.BREACHED: ObligationState.BREACHED,
            TransitionEvent.MET: ObligationState.MET,
            TransitionEvent.MET_LATE: ObligationState.MET_LATE,
            TransitionEvent.CANCELLED: ObligationState.CANCELLED,
        }
        for seq, (at, event, cause) in enumerate(events, start=1):
            current = after.get(event, current)
            batch.transitions.append(
                (ids.transition, obligation_id, case_id, seq, event.value, current.value, at, cause)
            )
            ids.transition += 1
        return met_at


def _next_ids(connection: Connection) -> _Ids:
    def after(model: Any) -> int:
        return (
            int(connection.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()) + 1
        )

    return _Ids(
        case=after(models.Case),
        victim=after(models.Victim),
        obligation=after(models.Obligation),
        transition=after(models.ObligationTransition),
    )


def _sqlite_instant(value: Any) -> Any:
    # The exact text UTCDateTime writes on SQLite (naive UTC, always with microseconds),
    # so that string comparisons in reports order these rows correctly with the rest.
    if isinstance(value, datetime):
        return (
            value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        )
    return value


def _write(
    connection: Connection, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    converted = [tuple(_sqlite_instant(v) for v in row) for row in rows]
    connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", converted)


def _reset_sequences(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    for table in ("cases", "victims", "obligations", "obligation_transitions"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def _report_instants(
    start: datetime, days: int, count: int, rng: random.Random
) -> Iterator[datetime]:
    # Sorted report times, so ids and references rise with time as a real force's do.
    span = days * 86400
    offsets = sorted(rng.randrange(span) for _ in range(count))
    for offset in offsets:
        yield start + timedelta(seconds=offset)


def generate(
    engine: Engine,
    policy: Policy,
    *,
    force: Force,
    cases: int,
    start: datetime,
    days: int,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoCounts:
    """Write ``cases`` cases reported over ``days`` days from ``start``; return what was written."""
    if cases < 0 or days < 1:
        raise ValueError("cases must be >= 0 and days >= 1")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    rng = random.Random(seed)
    generator = _Generator(policy, force, now, rng)
    counts = DemoCounts()
    with engine.begin() as connection:
        ids = _next_ids(connection)
    batch = _Batch()
    instants = _report_instants(start.astimezone(UTC), days, cases, rng)
    first_due: datetime | None = None
    last_due: datetime | None = None
    for written, reported_at in enumerate(instants, start=1):
        generator.case(ids, batch, reported_at)
        if len(batch.cases) >= BATCH_CASES or written == cases:
            if batch.obligations:
                dues = [row[DUE_AT] for row in batch.obligations]
                low, high = min(dues), max(dues)
                first_due = low if first_due is None else min(first_due, low)
                last_due = high if last_due is None else max(last_due, high)
            _flush(engine, batch, counts)
            if progress is not None:
                progress(written)
            batch = _Batch()
    with engine.begin() as connection:
        _reset_sequences(connection)
        if first_due is not None and last_due is not None:
            # The report reads the monthly summary, so summarise what was just written.
            rebuild_report_summary(connection, first_due, last_due)
    counts.states = dict(generator.states)
    return counts


def _flush(engine: Engine, batch: _Batch, counts: DemoCounts) -> None:
    # One transaction per batch: memory stays bounded and a crash loses one batch at most.
    with engine.begin() as connection:
        _write(connection, "cases", CASE_COLUMNS, batch.cases)
        _write(connection, "victims", VICTIM_COLUMNS, batch.victims)
        _write(connection, "obligations", OBLIGATION_COLUMNS, batch.obligations)
        _write(connection, "obligation_transitions", TRANSITION_COLUMNS, batch.transitions)
    counts.cases += len(batch.cases)
    counts.victims += len(batch.victims)
    counts.obligations += len(batch.obligations)
    counts.transitions += len(batch.transitions)
