"""The case book driven in a test as any driver drives it (standards.driving): deadlines
worked out at once, every message delivered at once, each outcome handed back."""

from __future__ import annotations

from datetime import datetime

from standards.case import CaseBook
from standards.case_state import Effects
from standards.delivery import DeliveryStatus, MessageOutcome
from standards.driving import CaseSteps, Command, ComputeSchedules, Record, Send, run_steps
from standards.obligations import Alert
from standards.schedules import schedule_for

DELIVERED = MessageOutcome(status=DeliveryStatus.DELIVERED, channel="email")


def carry_out(case: CaseBook, effects: Effects, now: datetime) -> list[Alert]:
    """Carry out what the book asked at `now` (messages for an earlier instant go out
    now); returns the alerts raised, as they are recorded."""
    alerts: list[Alert] = []

    def execute(command: Command) -> object:
        if isinstance(command, ComputeSchedules):
            return {r.key: schedule_for(r) for r in command.requests}
        if isinstance(command, Send):
            return MessageOutcome(status=DELIVERED.status, channel=DELIVERED.channel)
        assert isinstance(command, Record)
        alerts.extend(command.changes.alerts)
        return None

    run_steps(CaseSteps(case, lambda: now).carry_out(effects), execute)
    return alerts
