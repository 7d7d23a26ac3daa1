"""The book's driving protocol (standards.driving) issues the commands every driver
executes, in order: deadlines, sends, what the outcomes lead to, then one record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from standards.case import CaseBook
from standards.case_state import CaseFacts, CaseState
from standards.contracts import SentAndRecorded
from standards.delivery import DeliveryStatus, MessageOutcome
from standards.driving import (
    CaseSteps,
    Command,
    ComputeSchedules,
    Record,
    Send,
    SendWithRecords,
    run_steps,
)
from standards.policy import load_policy
from standards.schedules import opening, schedule_for

POLICY = load_policy(Path(__file__).resolve().parents[2] / "policies" / "met-pledge.toml")
REPORTED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
FACTS = CaseFacts(
    reference="01/7/26", category="burglary", borough="Camden", reported_at=REPORTED, policy=POLICY
)


class Driver:
    """Executes each command with a scripted outcome and remembers what it was asked."""

    def __init__(self, *outcomes: MessageOutcome) -> None:
        self.commands: list[Command] = []
        self._outcomes = list(outcomes)

    def outcome(self) -> MessageOutcome:
        if self._outcomes:
            return self._outcomes.pop(0)
        return MessageOutcome(status=DeliveryStatus.DELIVERED, channel="email")

    def __call__(self, command: Command) -> object:
        self.commands.append(command)
        if isinstance(command, ComputeSchedules):
            return {r.key: schedule_for(r) for r in command.requests}
        if isinstance(command, Send):
            return self.outcome()
        if isinstance(command, SendWithRecords):
            # Delivered, and the book's planned reaction recorded with the sends.
            sends = command.wake.sends
            return SentAndRecorded(
                outcomes=[self.outcome() for _ in sends],
                reacted_obligations=[
                    key for p in sends if p.on_delivery for key in p.on_delivery.obligation_keys
                ],
            )
        return None

    def kinds(self) -> list[str]:
        return [type(c).__name__ for c in self.commands]


def test_an_opening_with_its_deadlines_worked_out_sends_then_records_once() -> None:
    plan = opening(FACTS)
    book = CaseBook(FACTS, plan.state)
    steps = CaseSteps(book, lambda: REPORTED, intake_schedules=plan.schedules)
    driver = Driver()
    changed = run_steps(steps.carry_out(plan.effects), driver)
    assert driver.kinds() == ["Send", "Record"]
    (send, record) = driver.commands
    assert isinstance(send, Send) and send.request.intent.template == "acknowledgement"
    assert send.request.at == REPORTED
    assert isinstance(record, Record)
    assert [o.key for o in record.changes.obligations] == changed
    assert changed


def test_an_opening_planned_in_the_workflow_asks_for_its_deadlines_first() -> None:
    book = CaseBook(FACTS, CaseState())
    driver = Driver()
    run_steps(CaseSteps(book, lambda: REPORTED).carry_out(book.open_case()), driver)
    assert driver.kinds() == ["ComputeSchedules", "Send", "Record"]


def test_sends_recorded_together_go_in_one_command_and_leave_nothing_recorded_twice() -> None:
    book = CaseBook(FACTS, CaseState())
    steps = CaseSteps(book, lambda: REPORTED, sends_recorded_together=lambda: True)
    driver = Driver()
    run_steps(steps.carry_out(book.open_case()), driver)
    assert driver.kinds() == ["ComputeSchedules", "SendWithRecords"]
    (_, together) = driver.commands
    assert isinstance(together, SendWithRecords)
    assert together.wake.changes.obligations
    assert [p.request.intent.template for p in together.wake.sends] == ["acknowledgement"]


def test_the_send_shape_is_asked_once_at_the_first_send() -> None:
    asked: list[bool] = []

    def together() -> bool:
        asked.append(True)
        return False

    book = CaseBook(FACTS, CaseState())
    steps = CaseSteps(book, lambda: REPORTED, sends_recorded_together=together)
    driver = Driver()
    steps_of_opening = steps.carry_out(book.open_case())
    assert isinstance(next(steps_of_opening), ComputeSchedules)
    assert asked == []
    run_steps(steps.carry_out(book.open_case()), driver)
    assert asked == [True]


def test_a_message_deferred_to_safe_hours_is_held_until_its_retry_is_due() -> None:
    later = REPORTED + timedelta(hours=10)
    book = CaseBook(FACTS, CaseState())
    steps = CaseSteps(book, lambda: REPORTED)
    driver = Driver(MessageOutcome(status=DeliveryStatus.DEFERRED, retry_at=later))
    run_steps(steps.carry_out(book.open_case()), driver)
    assert [d.retry_at for d in steps.deferred] == [later]
    assert book.wake_with(steps.deferred) == later
    assert steps.take_due_retries(later - timedelta(seconds=1)) == []
    (due,) = steps.take_due_retries(later)
    assert due.intent.template == "acknowledgement" and steps.deferred == []


def test_a_message_a_provider_reports_on_later_is_awaited_until_it_settles() -> None:
    book = CaseBook(FACTS, CaseState())
    steps = CaseSteps(book, lambda: REPORTED)
    run_steps(
        steps.carry_out(book.open_case()),
        Driver(MessageOutcome(status=DeliveryStatus.PENDING, channel="sms")),
    )
    (intent,) = steps.awaiting.values()
    effects = book.on_provider_status(intent, DeliveryStatus.FAILED, REPORTED, "sms", "gone")
    driver = Driver()
    run_steps(steps.carry_out(effects), driver)
    assert steps.awaiting == {}
    # The next channel is tried at once, and the failure's alert recorded.
    assert driver.kinds() == ["Send", "Record"]
    (send, record) = driver.commands
    assert isinstance(send, Send) and send.request.excluded_channels == ["sms"]
    assert isinstance(record, Record)
    assert [a.kind.value for a in record.changes.alerts] == ["delivery_failed"]


def test_once_the_case_is_recorded_a_wake_that_changes_nothing_records_nothing() -> None:
    plan = opening(FACTS)
    book = CaseBook(FACTS, plan.state)
    steps = CaseSteps(book, lambda: REPORTED, intake_schedules=plan.schedules)
    run_steps(steps.carry_out(plan.effects), Driver())
    # The case's own facts are first compared at a record with nothing else in it (the
    # order every saved history has): that one still records.
    first = Driver()
    run_steps(steps.carry_out(book.advance(REPORTED)), first)
    assert first.kinds() == ["Record"]
    driver = Driver()
    assert run_steps(steps.carry_out(book.advance(REPORTED)), driver) == []
    assert driver.commands == []
