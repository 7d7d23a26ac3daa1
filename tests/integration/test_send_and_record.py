"""SendAndRecordActivities: a wake's sends recorded with its changes and the case book's
reaction, in one transaction for in-house sends and two for an outside provider."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from activities.send_and_record import SendAndRecordActivities
from adapters.delivery import DeliveryBackend, DeliveryReceipt, Envelope, LocalOutbox
from standards.case import CaseBook
from standards.contracts import (
    CaseChanges,
    DeliveryStatus,
    PlannedSend,
    SendAndRecord,
    SendMessage,
)
from standards.delivery import DeferredMessage
from standards.vocabulary import Channel
from storage import models
from tests.support.delivery import (
    CrashAfterFirstSend,
    FakeProvider,
    WorkerCrashed,
    book_before_acknowledgement,
    message_activities,
    outbox_rows,
    seed_case,
)


def wake_of(book: CaseBook, deferred: DeferredMessage, planned: bool = True) -> SendAndRecord:
    """What the workflow hands the activity: the changes so far, and the send as planned,
    copied as the data converter copies them (the book keeps its own obligations)."""
    state = book.state
    wake = SendAndRecord(
        changes=CaseChanges(
            reference=book.facts.reference,
            status=state.status,
            closed_at=state.closed_at,
            update_interval_days=state.update_interval_days,
            updates_paused=state.updates_paused,
            obligations=book.take_dirty(),
            alerts=[],
        ),
        sends=[
            PlannedSend(
                request=SendMessage(
                    reference=book.facts.reference,
                    intent=deferred.intent,
                    at=deferred.retry_at,
                    contact_number="101",
                ),
                on_delivery=book.delivery_meets(deferred.intent) if planned else None,
            )
        ],
    )
    return copy.deepcopy(wake)


def send_and_record(
    sessions: sessionmaker[Session], backend: DeliveryBackend
) -> SendAndRecordActivities:
    return SendAndRecordActivities(sessions, message_activities(sessions, {Channel.SMS: backend}))


def recorded_obligations(
    sessions: sessionmaker[Session], reference: str
) -> dict[str, tuple[str, list[str]]]:
    """Each recorded obligation's state and the events of its recorded transitions."""
    with sessions() as session:
        obligations = session.scalars(
            select(models.Obligation).join(models.Case).where(models.Case.reference == reference)
        )
        return {
            o.key: (
                o.state,
                list(
                    session.scalars(
                        select(models.ObligationTransition.event)
                        .where(models.ObligationTransition.obligation_id == o.id)
                        .order_by(models.ObligationTransition.seq)
                    )
                ),
            )
            for o in obligations
        }


def recorded_alerts(sessions: sessionmaker[Session], reference: str) -> list[tuple[str, str]]:
    with sessions() as session:
        return [
            (a.obligation_key, a.kind)
            for a in session.scalars(
                select(models.Alert).join(models.Case).where(models.Case.reference == reference)
            )
        ]


@contextmanager
def counting_commits(sessions: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every transaction committed on the test's database inside the block."""
    engine: Engine = sessions.kw["bind"]
    seen: list[str] = []

    def count(_connection: object) -> None:
        seen.append("commit")

    event.listen(engine, "commit", count)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", count)


def test_an_in_house_send_and_what_the_book_makes_of_it_are_recorded_in_one_transaction(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    book, acknowledgement = book_before_acknowledgement(reference)
    wake = wake_of(book, acknowledgement)
    with counting_commits(sessions) as commits:
        result = send_and_record(sessions, LocalOutbox()).send_and_record(wake)
    assert [o.status for o in result.outcomes] == [DeliveryStatus.DELIVERED]
    assert len(commits) == 1
    assert [row.status for row in outbox_rows(sessions, reference)] == ["delivered"]
    recorded = recorded_obligations(sessions, reference)
    assert recorded["acknowledgement#1"] == ("met", ["started", "met"])
    # The book, handed the real outcome, changes exactly what the activity recorded.
    book.on_send_outcome(acknowledgement, acknowledgement.retry_at, result.outcomes[0])
    dirty = book.take_dirty()
    assert [o.key for o in dirty] == result.reacted_obligations == ["acknowledgement#1"]
    assert all(recorded[o.key] == (o.state, [s.event for s in o.history]) for o in dirty)


class MarkCommittedFirst:
    """An outside provider that checks, as it is called, that the hand-over is on record."""

    def __init__(self, sessions: sessionmaker[Session], reference: str) -> None:
        self.inner = FakeProvider()
        self.sessions = sessions
        self.reference = reference
        self.marked_before_send: list[bool] = []

    def send(self, envelope: Envelope) -> DeliveryReceipt:
        rows = outbox_rows(self.sessions, self.reference)
        self.marked_before_send.append([r.sent_at is not None for r in rows] == [True])
        return self.inner.send(envelope)

    def recover(self, envelope: Envelope) -> DeliveryReceipt | None:
        return self.inner.recover(envelope)


def test_an_outside_provider_is_called_only_once_the_hand_over_mark_is_committed(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    book, acknowledgement = book_before_acknowledgement(reference)
    provider = MarkCommittedFirst(sessions, reference)
    wake = wake_of(book, acknowledgement)
    with counting_commits(sessions) as commits:
        send_and_record(sessions, provider).send_and_record(wake)
    assert provider.marked_before_send == [True]
    assert len(commits) == 2
    assert recorded_obligations(sessions, reference)["acknowledgement#1"][0] == "met"


def test_a_retry_after_a_crash_once_the_provider_took_the_message_sends_and_records_once(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    book, acknowledgement = book_before_acknowledgement(reference)
    provider = FakeProvider()
    activity = send_and_record(sessions, CrashAfterFirstSend(provider))
    wake = wake_of(book, acknowledgement)
    with pytest.raises(WorkerCrashed):
        activity.send_and_record(wake)
    # Only the hand-over mark was committed: nothing of the case's changes yet.
    assert recorded_obligations(sessions, reference) == {}
    result = activity.send_and_record(wake_of(*book_before_acknowledgement(reference)))
    assert [o.status for o in result.outcomes] == [DeliveryStatus.DELIVERED]
    assert provider.calls == 1
    assert recorded_obligations(sessions, reference)["acknowledgement#1"] == (
        "met",
        ["started", "met"],
    )


def test_a_message_that_may_not_be_sent_records_its_staff_alert_with_the_changes(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions, do_not_contact=True)
    book, acknowledgement = book_before_acknowledgement(reference)
    result = send_and_record(sessions, FakeProvider()).send_and_record(
        wake_of(book, acknowledgement)
    )
    assert [o.status for o in result.outcomes] == [DeliveryStatus.NOT_ALLOWED]
    assert result.reacted_alerts == [f"{acknowledgement.intent.key}|manual_contact_required"]
    assert recorded_alerts(sessions, reference) == [
        (acknowledgement.intent.key, "manual_contact_required")
    ]
    assert recorded_obligations(sessions, reference)["acknowledgement#1"][0] == "pending"


def test_a_delivery_whose_reaction_the_book_keeps_to_itself_is_recorded_without_it(
    sessions: sessionmaker[Session],
) -> None:
    reference = seed_case(sessions)
    book, acknowledgement = book_before_acknowledgement(reference)
    result = send_and_record(sessions, LocalOutbox()).send_and_record(
        wake_of(book, acknowledgement, planned=False)
    )
    assert [o.status for o in result.outcomes] == [DeliveryStatus.DELIVERED]
    assert result.reacted_obligations == []
    assert recorded_obligations(sessions, reference)["acknowledgement#1"] == (
        "pending",
        ["started"],
    )
