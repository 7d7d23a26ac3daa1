"""The case book's reaction to a send, planned before the send and applied elsewhere with
the book's own rule (standards.send_outcome), comes out as the book's own reaction."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from standards.case import CaseBook
from standards.delivery import DeferredMessage, DeliveryStatus, MessageIntent, MessageOutcome
from standards.send_outcome import alert_identity, meet_on_delivery, outcome_alerts
from tests.support.delivery import book_before_acknowledgement

REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def opened() -> tuple[CaseBook, DeferredMessage]:
    book, acknowledgement = book_before_acknowledgement("01/7/26", "burglary", REPORTED)
    book.take_dirty()
    return book, acknowledgement


def test_the_acknowledgement_is_planned_to_meet_the_acknowledgement_obligation() -> None:
    book, acknowledgement = opened()
    meets = book.delivery_meets(acknowledgement.intent)
    assert meets is not None
    assert meets.obligation_keys == ["acknowledgement#1"]
    assert meets.cause == "acknowledgement message delivered"


def test_a_delivery_that_restarts_a_recurring_standard_is_left_for_the_book_to_record() -> None:
    book, _ = opened()
    assert any(o.standard == "victim_update" and o.is_open for o in book.state.obligations)
    arrest = MessageIntent(key="01/7/26|arrest|2", template="arrest", at=REPORTED)
    assert book.delivery_meets(arrest) is None


def test_a_late_delivery_met_as_planned_breaches_and_meets_late_as_the_book_does() -> None:
    book, acknowledgement = opened()
    meets = book.delivery_meets(acknowledgement.intent)
    assert meets is not None
    copies = [copy.deepcopy(o) for o in book.state.obligations if o.key in meets.obligation_keys]
    late = max(o.due_at for o in copies) + timedelta(hours=1)
    alerts, met = meet_on_delivery(copies, meets, late)
    delivered = MessageOutcome(status=DeliveryStatus.DELIVERED, channel="sms")
    effects = book.on_send_outcome(acknowledgement, late, delivered)
    assert [alert_identity(a) for a in alerts] == ["acknowledgement#1|breach"]
    assert alerts == effects.alerts
    assert met == book.take_dirty()
    assert [o.state for o in met] == ["met_late"]


def test_a_fallback_and_a_failure_raise_the_alerts_the_book_raises() -> None:
    book, acknowledgement = opened()
    outcomes = [
        MessageOutcome(
            status=DeliveryStatus.PENDING, channel="email", fell_back_from="sms", error="landline"
        ),
        MessageOutcome(status=DeliveryStatus.FAILED, error="sms: invalid number"),
        MessageOutcome(status=DeliveryStatus.NOT_ALLOWED, error="do not contact"),
    ]
    for outcome in outcomes:
        expected = book.on_send_outcome(acknowledgement, REPORTED, outcome).alerts
        assert outcome_alerts(acknowledgement.intent, outcome) == expected
        assert len(expected) == 1
