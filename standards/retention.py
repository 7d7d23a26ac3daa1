"""How long a victim's contact details are kept: the rule, without any storage.

A victim's name, email and phone are needed while the case can still be worked or
reopened; after that, keeping them is only a risk. A closed case's contact profile is
erased once it has been closed for the retention period; what the case's clocks did
(obligations, transitions, alerts) carries no personal data and stays for reports.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from standards.clock import require_aware


def erase_contacts_closed_before(as_of: datetime, retention_days: int) -> datetime:
    """Cases closed before this instant have kept their contact details long enough."""
    if retention_days < 1:
        raise ValueError(f"retention must be at least one day (got {retention_days})")
    return require_aware(as_of, "as_of") - timedelta(days=retention_days)
