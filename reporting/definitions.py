"""The report's definitions, printed with every report (terminal, CSV's README, HTML)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from messaging.display import exact_text

AS_OF_TERM: Final = "As of"
DEFINITIONS: Final[tuple[tuple[str, str], ...]] = (
    ("Period", "the half-open interval [from, to); dates are local midnights, Europe/London."),
    (
        AS_OF_TERM,
        "the instant the report counts to (--as-of, default the moment it runs); "
        "obligations whose deadline is after it are not due yet and are not counted at all; "
        "states are as recorded when the report runs.",
    ),
    (
        "Due",
        "deadline (due_at) in the period and not after the as-of instant; cancelled "
        "obligations are excluded.",
    ),
    ("Met on time", "due and in state met: satisfied on or before the deadline."),
    ("Met late", "due and in state met_late: satisfied after the breach."),
    ("Breached", "due and in state breached: deadline passed, still unmet."),
    (
        "Awaiting breach",
        "due but still pending because the breach is not recorded yet; counted in Due only.",
    ),
    (
        "On-time rate",
        "met on time / due, as a percentage from 0 to 100 (table, CSV and HTML alike); "
        "blank when nothing was due.",
    ),
    (
        "Time to meet",
        "met_at - started_at in whole seconds, for met and met-late obligations; in hours.",
    ),
    (
        "Share of window",
        "time to meet / (due_at - started_at); 1.0 is exactly at the deadline, above 1 is late.",
    ),
    (
        "Median, p90",
        "nearest-rank: sort the n values; the p-th percentile is the value at position "
        "ceil(p/100 x n).",
    ),
    ("Month", "the Europe/London calendar month of the deadline."),
    (
        "Breach reasons",
        "for breached and met-late obligations, the recorded reason code, or 'unexplained'.",
    ),
)


def definitions(as_of: datetime) -> tuple[tuple[str, str], ...]:
    """The definitions, the as-of one naming the instant this report counted to."""
    counted_to = f"counted to {exact_text(as_of)} (Europe/London): "
    return tuple(
        (term, counted_to + meaning if term == AS_OF_TERM else meaning)
        for term, meaning in DEFINITIONS
    )
