"""The VFU worklist's vocabulary: what a page of it is asked for and what it holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from config import DEFAULT_QUEUE_COLUMN_SORT_LIMIT
from standards.vocabulary import ObligationState

# Rows a page shows.
PER_PAGE: Final = 50


class QueueState(StrEnum):
    """Which kind of row to show."""

    # Past its deadline and not met: pending the breach, or breached and unexplained.
    OVERDUE = "overdue"
    # Pending, before its deadline, past its warning point.
    DUE_SOON = "due_soon"
    # Due soon, and due before midnight in London.
    DUE_TODAY = "due_today"


QUEUE_STATE_LABELS: Final = {
    QueueState.OVERDUE: "Overdue",
    QueueState.DUE_SOON: "Due soon",
    QueueState.DUE_TODAY: "Due today",
}


class QueueSort(StrEnum):
    """The column the list is sorted by; PRIORITY is standards.worklist's order."""

    PRIORITY = "priority"
    TIME_LEFT = "time_left"
    REFERENCE = "reference"
    STANDARD = "standard"
    CATEGORY = "category"
    VULNERABLE = "vulnerable"
    OFFICER = "officer"
    CHANNEL = "channel"


# The orders read along an index (ix_obligations_worklist) a page at a time, however long
# the list: most urgent first and by time left.
INDEXED_SORTS: Final = frozenset({QueueSort.PRIORITY, QueueSort.TIME_LEFT})

# The longest list sorted by another column (Settings.queue_column_sort_limit). Such a
# sort reads and orders every row of the list before it can show 50: at 900,000 cases the
# force-wide list is 234,631 rows and takes SQLite 3 to 10 s (bench/vfu_queue.py), every
# minute the page refreshes. One borough's list (about 7,500 rows there) sorts in about
# 0.1 s. A longer list keeps the most-urgent-first order and the page asks the reader to
# narrow it first. A force on PostgreSQL, which sorts the whole list in about 0.2 s, may
# raise it.
COLUMN_SORT_LIMIT: Final = DEFAULT_QUEUE_COLUMN_SORT_LIMIT


@dataclass(frozen=True)
class QueueFilters:
    """What the VFU narrowed the list to; None shows everything."""

    standard: str | None = None
    state: QueueState | None = None
    officer: str | None = None


@dataclass(frozen=True)
class QueueQuery:
    """One page of the list: whose boroughs (the stored spellings of the units the reader
    may see and chose; None: every unit), the filters, the order and the page."""

    boroughs: list[str] | None
    filters: QueueFilters = field(default_factory=QueueFilters)
    sort: QueueSort = QueueSort.PRIORITY
    descending: bool = False
    page: int = 1
    per_page: int = PER_PAGE
    # The policy's enhanced-rights categories (Policy.enhanced_rights), for the order.
    enhanced_categories: tuple[str, ...] = ()
    # Whether to leave out the read-only demo history; read_queue sets it from the
    # database (service.queue_conditions.demo_history_present).
    leave_out_demo: bool = True


@dataclass(frozen=True)
class QueueCounts:
    """The counts at the top of the list, over the boroughs whatever the other filters."""

    breached: int
    due_today: int
    due_soon: int
    victim_requests: int


@dataclass(frozen=True)
class QueueRow:
    """One obligation in the list. No victim details: the list may be on a shared screen."""

    obligation_id: int
    reference: str
    category: str
    borough: str
    standard: str
    key: str
    state: ObligationState
    due_at: datetime
    # Negative once the deadline has passed.
    time_left: timedelta
    # standards.read_rules.is_overdue as of the page's instant (due exactly now: overdue).
    overdue: bool
    # standards.read_rules.needs_explanation: an explanation is accepted.
    explainable: bool
    officer_name: str | None
    vulnerable: bool
    enhanced: bool
    # The victim's preferred channel (None: no victim recorded).
    channel: str | None
    do_not_contact: bool


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    # Rows matching the filters, on every page.
    total: int
    page: int
    pages: int
    per_page: int
    counts: QueueCounts
    # The officers the filter offers: those of the boroughs' open cases (none force-wide).
    officers: list[str]
    now: datetime
    # The order the rows are in: the one asked for, or most urgent first when the list
    # is longer than `column_sort_limit` for a column that is not read along an index.
    sorted_by: QueueSort = QueueSort.PRIORITY
    column_sort_limit: int = COLUMN_SORT_LIMIT

    @property
    def column_sorts_offered(self) -> bool:
        """Whether every column sorts this list (the indexed orders always do)."""
        return self.total <= self.column_sort_limit

    def sort_set_aside(self, asked: QueueSort) -> bool:
        """Whether the order asked for was not used, the list being too long for it."""
        return asked != self.sorted_by

    @property
    def first(self) -> int:
        """The position of the page's first row (1-based; 0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)
