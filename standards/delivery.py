"""What becomes of a case's automatic messages: outcomes of a send, and what they mean.

The types a send hands back (`MessageOutcome`, `DeliveryStatus`) and a message waiting
to be sent again (`DeferredMessage`) are defined here, once, so that the case book
can decide what every outcome means and every driver of the book (the Temporal
workflow, the in-process engine) hands it the same facts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from standards.vocabulary import MessageStatus

# A message held up by less than this (the milliseconds a driver takes to get to it)
# is recorded at its trigger's instant; one held up longer carries the real instant.
SEND_PUNCTUALITY = timedelta(minutes=1)


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    # Handed to a provider that reports delivery later (a status callback).
    PENDING = "pending"
    # Safe hours: not sent yet, try again at `retry_at`.
    DEFERRED = "deferred"
    # Nothing automatic may be sent (do-not-contact, or no allowed channel left).
    NOT_ALLOWED = "not_allowed"
    FAILED = "failed"


@dataclass
class MessageIntent:
    """One automatic message the case should send; `key` makes retries idempotent."""

    key: str
    template: str
    at: datetime
    obligation_key: str | None = None
    facts: dict[str, str] = field(default_factory=dict)


@dataclass
class MessageOutcome:
    status: DeliveryStatus
    channel: str | None = None
    retry_at: datetime | None = None
    error: str | None = None
    # A permanent failure on one channel that fell back to another.
    fell_back_from: str | None = None


@dataclass
class DeferredMessage:
    """A message to send at `retry_at` (now, for a first try), avoiding some channels."""

    intent: MessageIntent
    retry_at: datetime
    excluded_channels: list[str] = field(default_factory=list)


def due_by(
    deferred: list[DeferredMessage], now: datetime
) -> tuple[list[DeferredMessage], list[DeferredMessage]]:
    """The waiting messages due by `now`, and those still waiting, each in order."""
    return [d for d in deferred if d.retry_at <= now], [d for d in deferred if d.retry_at > now]


def send_instant(deferred: DeferredMessage, now: datetime) -> datetime:
    """When a message goes out: as its trigger happens (or its safe hours open).

    The milliseconds spent getting here are not part of the record; a message
    held up for longer (a backdated event, a retry) carries the real instant.
    """
    if timedelta(0) <= now - deferred.retry_at <= SEND_PUNCTUALITY:
        return deferred.retry_at
    return now


def over_channels(channels: list[str], deliver: Callable[[str], MessageOutcome]) -> MessageOutcome:
    """Try each allowed channel in order until one does not fail permanently (a channel
    that says "later" ends the round).

    The first permanent failure is named on the outcome of the channel that took the
    message (`fell_back_from`), so staff hear that the victim's first choice failed.
    """
    failed: list[tuple[str, str]] = []
    for channel in channels:
        outcome = deliver(channel)
        if outcome.status == DeliveryStatus.DEFERRED:
            # A temporary failure: the same channel is tried again later, not the next.
            return outcome
        if outcome.status == DeliveryStatus.FAILED:
            failed.append((channel, outcome.error or "failed"))
            continue
        if failed:
            outcome.fell_back_from = failed[0][0]
            outcome.error = failed[0][1]
        return outcome
    errors = "; ".join(f"{channel}: {error}" for channel, error in failed)
    return MessageOutcome(status=DeliveryStatus.FAILED, error=errors or "no channel")


# A temporary failure is retried on the case's own clock (a workflow timer, which a
# rehearsal's time skipping passes over), not by an activity's retry policy, whose
# backoff waits in wall-clock time inside the workflow task.
FIRST_RETRY_AFTER = timedelta(seconds=2)
LONGEST_RETRY_WAIT = timedelta(minutes=5)


def retry_instant(at: datetime, attempts: int) -> datetime:
    """When a copy that has failed `attempts` times for now is tried again (doubling)."""
    wait: timedelta = FIRST_RETRY_AFTER * 2 ** max(0, min(attempts - 1, 16))
    return at + min(wait, LONGEST_RETRY_WAIT)


def outbox_key(intent_key: str, channel: str) -> str:
    """The idempotency key of one channel's copy of a message: its outbox row's key."""
    return f"{intent_key}|{channel}"


# What a message's final status means to the case book (the one mapping); a status not
# here (queued, sent) is not final: the provider reports later.
FINAL_STATUS: dict[MessageStatus, DeliveryStatus] = {
    MessageStatus.DELIVERED: DeliveryStatus.DELIVERED,
    MessageStatus.UNDELIVERED: DeliveryStatus.FAILED,
    MessageStatus.FAILED: DeliveryStatus.FAILED,
}


def outcome_of_row(status: str, channel: str, error: str | None) -> MessageOutcome:
    """What an outbox row's status means to the case book."""
    final = FINAL_STATUS.get(MessageStatus(status))
    if final is None:
        return MessageOutcome(status=DeliveryStatus.PENDING, channel=channel)
    failed = final == DeliveryStatus.FAILED
    return MessageOutcome(status=final, channel=channel, error=error if failed else None)
