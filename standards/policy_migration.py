"""Moving a running case to a new version of its policy, deliberately: the case book's
decision of which deadlines move and how.

A case keeps the policy version it was opened on. Migrating it recomputes, under the
new version, the window of each obligation still running (``pending``), from the
instant it started, exactly as the book would have planned it (enhanced rights, the
victim's agreed update interval). Only an obligation whose window differs is moved; a
met, met-late, breached or cancelled obligation never changes, nor does one whose
standard the new version no longer has (it is listed, and left to run out as it is).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from standards.case import CaseBook
from standards.case_state import Effects, PendingRetime
from standards.obligations import Obligation, ObligationState, Schedule, retime
from standards.policy import Policy

MIGRATED: str = "migrated"


class MigrationRefused(ValueError):
    """A migration that cannot be made (another policy, or not a newer version)."""


@dataclass(frozen=True)
class DeadlineMove:
    """One obligation's deadline before and after the migration."""

    key: str
    standard: str
    window_before: str
    window_after: str
    due_before: datetime
    due_after: datetime


@dataclass
class MigrationPlan:
    """What a migration would change; `effects.retimes` are handed to the driver to work
    out the new deadlines, as every deadline is worked out."""

    policy: Policy
    effects: Effects = field(default_factory=Effects)
    # Pending obligations of standards the new version does not have: left as they are.
    dropped: list[str] = field(default_factory=list)


def _window_text(amount: int, unit: str) -> str:
    return f"{amount} {unit}"


def plan_migration(book: CaseBook, policy: Policy) -> MigrationPlan:
    """Which running obligations of the case move under `policy`, a newer version of the
    case's own policy."""
    current = book.policy
    if policy.id != current.id:
        raise MigrationRefused(
            f"the case runs on policy {current.id!r}; it can only move to a version of it, "
            f"not to {policy.id!r}"
        )
    if policy.version <= current.version:
        raise MigrationRefused(
            f"the case runs on {current.id} v{current.version}; give a newer version "
            f"(not v{policy.version})"
        )
    under_new = CaseBook(dataclasses.replace(book.facts, policy=policy), book.state)
    plan = MigrationPlan(policy=policy)
    for obligation in book.state.obligations:
        if obligation.state != ObligationState.PENDING:
            continue
        if not policy.has_standard(obligation.standard):
            plan.dropped.append(obligation.key)
            continue
        request = under_new._request(
            policy.standard(obligation.standard), obligation.key, obligation.started_at
        )
        if (request.amount, request.unit) == (obligation.window_amount, obligation.window_unit):
            continue
        plan.effects.retimes.append(
            PendingRetime(
                key=obligation.key,
                request=request,
                cause=(
                    f"{MIGRATED} from {current.id} v{current.version} to v{policy.version}: "
                    f"window {_window_text(obligation.window_amount, obligation.window_unit)}"
                    f" -> {_window_text(request.amount, request.unit)}"
                ),
            )
        )
    return plan


def _obligation(book: CaseBook, key: str) -> Obligation:
    return next(o for o in book.state.obligations if o.key == key)


def deadline_moves(
    book: CaseBook, plan: MigrationPlan, schedules: dict[str, Schedule]
) -> list[DeadlineMove]:
    """Each deadline the plan moves, from its current one to the one in `schedules`."""
    moves: list[DeadlineMove] = []
    for pending in plan.effects.retimes:
        obligation = _obligation(book, pending.key)
        moves.append(
            DeadlineMove(
                key=obligation.key,
                standard=obligation.standard,
                window_before=_window_text(obligation.window_amount, obligation.window_unit),
                window_after=_window_text(pending.request.amount, pending.request.unit),
                due_before=obligation.due_at,
                due_after=schedules[pending.key].due_at,
            )
        )
    return moves


def apply_migration(
    book: CaseBook, plan: MigrationPlan, schedules: dict[str, Schedule], at: datetime
) -> list[DeadlineMove]:
    """Move the deadlines (each recorded as a transition naming the old and new window and
    deadline) and put the case on the new version; returns what moved."""
    moves = deadline_moves(book, plan, schedules)
    for pending, move in zip(plan.effects.retimes, moves, strict=True):
        obligation = _obligation(book, pending.key)
        if obligation.state != ObligationState.PENDING:
            continue  # met or breached since the plan was made: it never changes
        retime(
            obligation,
            schedules[pending.key],
            at,
            f"{pending.cause}; due {move.due_before.isoformat()} -> {move.due_after.isoformat()}",
        )
        obligation.window_amount = pending.request.amount
        obligation.window_unit = pending.request.unit
        if obligation.key not in book.state.dirty:
            book.state.dirty.append(obligation.key)
    book.facts = dataclasses.replace(book.facts, policy=plan.policy)
    book.policy = plan.policy
    return moves


@dataclass
class PolicyMigrationRequest:
    """The workflow update's input: the version to move to; with `dry_run`, only say what
    would move."""

    policy: Policy
    dry_run: bool = False


@dataclass
class PolicyMigrationReceipt:
    reference: str
    from_version: int
    to_version: int
    moves: list[DeadlineMove]
    # Pending obligations of standards the new version does not have (left as they are).
    dropped: list[str]
    applied: bool
