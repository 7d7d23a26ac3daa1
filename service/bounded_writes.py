"""Opening a case and posting an event within a time limit, for callers that cannot wait.

Temporal or the worker may be slow or down. A write then answers in bounded time:
either the case was accepted (its workflow started) and its intake will run when the
worker is back, or nothing was accepted and the caller should try again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Hashable
from enum import StrEnum
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from service.cases import CaseError, CaseIn, EventIn, case_started, open_case, post_event
from standards.contracts import EventReceipt
from standards.force import Force
from standards.policy import Policy

log = logging.getLogger("pledge.writes")

T = TypeVar("T")

# Writes still running after their caller had its answer (an accepted case whose intake
# waits for the worker, an event in flight). Kept so they are not garbage-collected.
_in_flight: set[asyncio.Task[object]] = set()


class OpenOutcome(StrEnum):
    # Recorded, started, and its first obligations are running.
    OPENED = "opened"
    # Recorded and started; the worker has not run its intake yet.
    ACCEPTED = "accepted"


class TemporalUnavailable(RuntimeError):
    """Temporal or the worker did not answer in time; the write was not accepted."""


def _unavailable(error: BaseException) -> bool:
    """Whether a failure means Temporal could not be reached (not that it refused)."""
    cause = error.__cause__ if isinstance(error, CaseError) else error
    if isinstance(cause, RPCError):
        return cause.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.CANCELLED,
        )
    # The SDK reports a client that cannot connect as a plain RuntimeError.
    return type(cause) is RuntimeError


class SingleFlight(Generic[T]):
    """Concurrent calls with one key share the first call's outcome.

    A client whose own timeout is shorter than ours retries while its first request
    is still running; the retry must get that request's outcome, not a conflict.
    """

    def __init__(self) -> None:
        self._running: dict[Hashable, asyncio.Future[T]] = {}

    async def run(self, key: Hashable, start: Callable[[], Awaitable[T]]) -> T:
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(start())
            self._running[key] = running
            running.add_done_callback(lambda _: self._running.pop(key, None))
        return await asyncio.shield(running)


async def _wait(task: asyncio.Task[T], timeout: float) -> T:
    """The task's result within `timeout` (else TimeoutError, the task left running);
    a failure to reach Temporal comes out as TemporalUnavailable."""
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout)
    except (CaseError, RPCError, RuntimeError) as error:
        if _unavailable(error):
            raise TemporalUnavailable(f"Temporal did not answer: {error}") from error
        raise


def _keep_running(task: asyncio.Task[T]) -> None:
    _in_flight.add(task)

    def finished(done: asyncio.Task[T]) -> None:
        _in_flight.discard(done)
        if not done.cancelled() and done.exception() is not None:
            log.warning("a write finished after its caller's answer: %s", done.exception())

    task.add_done_callback(finished)


async def open_case_within(
    client: Client,
    sessions: sessionmaker[Session],
    policy: Policy,
    case: CaseIn,
    task_queue: str,
    timeout: float,
    *,
    force: Force,
    publish_category: bool = True,
) -> OpenOutcome:
    """Open the case, waiting at most `timeout` seconds for Temporal and the worker.

    Raises CaseError when the case is refused, TemporalUnavailable when nothing was
    accepted (the case's row is removed again, as `open_case` does on any failure).
    """
    task = asyncio.create_task(
        open_case(
            client,
            sessions,
            policy,
            case,
            task_queue,
            force=force,
            publish_category=publish_category,
        )
    )
    try:
        await _wait(task, timeout)
        return OpenOutcome.OPENED
    except TimeoutError:
        pass
    if await case_started(client, case.reference):
        _keep_running(task)
        return OpenOutcome.ACCEPTED
    task.cancel()
    with contextlib.suppress(BaseException):
        await task
    # The start may have reached the server as the wait was given up.
    if await case_started(client, case.reference):
        return OpenOutcome.ACCEPTED
    raise TemporalUnavailable(
        f"Temporal or the worker did not answer within {timeout:g} s; nothing was accepted"
    )


async def post_event_within(
    client: Client,
    sessions: sessionmaker[Session],
    event: EventIn,
    timeout: float,
    on_receipt: Callable[[EventReceipt], Awaitable[None]],
) -> EventReceipt:
    """Post the event, waiting at most `timeout` seconds; `on_receipt` runs once it is
    recorded, even if that is after the caller was told to try again (so the retry,
    with the same event id, gets this receipt)."""

    async def post_and_record() -> EventReceipt:
        receipt = await post_event(client, sessions, event)
        await on_receipt(receipt)
        return receipt

    task = asyncio.create_task(post_and_record())
    try:
        return await _wait(task, timeout)
    except TimeoutError:
        _keep_running(task)
        raise TemporalUnavailable(
            f"Temporal or the worker did not answer within {timeout:g} s; retry with the "
            "same event_id to learn the outcome"
        ) from None
