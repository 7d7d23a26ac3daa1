"""Keyset paging over obligations in deadline order, (due_at, id): the one condition every
list read that way (the API's obligations, the breach register, the dashboard's lists of
cases) uses to start a page where the last one ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from storage.models import Obligation


def after_in_deadline_order(due_at: datetime, obligation_id: int) -> ColumnElement[bool]:
    """The obligations after (due_at, obligation_id) in (due_at, id) order."""
    return and_(
        # The range start first, so an index on due_at is entered where the last page
        # ended rather than read from the beginning.
        Obligation.due_at >= due_at,
        or_(Obligation.due_at > due_at, Obligation.id > obligation_id),
    )
