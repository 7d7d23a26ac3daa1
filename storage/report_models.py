"""The summary the compliance report reads instead of every obligation.

One row per (London month of the deadline, standard, borough, category): how many
obligations are in each state (cancelled ones are left out, as the report leaves them
out), the breach reasons with their counts, and every time to meet, exactly, as two
sorted packed arrays (whole seconds, and share of the window). Nothing is rounded, so a
report built from the summary gives the same numbers as one built from the raw rows.

``storage.summary`` keeps it up to date; ``reporting.compliance`` only trusts it for
months that lie wholly inside the period and wholly before the as-of instant.

``report_day_summary`` holds the same figures per London day of the deadline, so a
period that starts or ends inside a month reads its partial months from a few thousand
day rows instead of every obligation in them (migration 0008).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Date, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.models import CODE_LENGTH, Obligation

__all__ = ["ReportDaySummary", "ReportMonthSummary"]


class _SummaryFigures:
    """The figures both summaries keep per period and (standard, borough, category)."""

    standard: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    borough: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    category: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    met: Mapped[int] = mapped_column(Integer)
    met_late: Mapped[int] = mapped_column(Integer)
    breached: Mapped[int] = mapped_column(Integer)
    pending: Mapped[int] = mapped_column(Integer)
    # {reason or "unexplained": count} over breached and met-late obligations.
    reasons: Mapped[dict[str, int]] = mapped_column(JSON)
    # Sorted little-endian int64 seconds from start to met, one per met or met-late row.
    hours: Mapped[bytes] = mapped_column(LargeBinary)
    # Sorted little-endian float64 shares of the window, one per met or met-late row.
    shares: Mapped[bytes] = mapped_column(LargeBinary)


class ReportMonthSummary(_SummaryFigures, Base):
    __tablename__ = "report_month_summary"

    # The first day of the Europe/London calendar month of due_at.
    month: Mapped[date] = mapped_column(Date, primary_key=True)


class ReportDaySummary(_SummaryFigures, Base):
    __tablename__ = "report_day_summary"

    # The Europe/London calendar day of due_at.
    day: Mapped[date] = mapped_column(Date, primary_key=True)


# Refreshing one summary row reads just that month's obligations of one key.
Index(
    "ix_obligations_summary_key",
    Obligation.standard,
    Obligation.borough,
    Obligation.category,
    Obligation.due_at,
)
# The breach register and the dashboard's drill-down read one state in deadline order,
# a page at a time (migration 0021).
Index("ix_obligations_state_due_at", Obligation.state, Obligation.due_at, Obligation.id)
