"""Indexes for the breach register, the dashboard's lists of cases and its escalations.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06

The register lists the breached and met-late obligations of a period, oldest deadline
first, 50 at a time; the dashboard's drill-down lists the obligations of one state. Keyed
by (state, due_at, id) each state is read in deadline order from where the last page
ended, so a page reads about 50 rows instead of sorting every breach of the period
(bench/report.py times the whole dashboard page). The dashboard also counts the
manager's unacknowledged escalations; keyed by (recipient_role, kind, acknowledged_at,
borough) that count reads the index, not every alert of the history.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_obligations_state_due_at", "obligations", ["state", "due_at", "id"])
    op.create_index(
        "ix_alerts_open_desk",
        "alerts",
        ["recipient_role", "kind", "acknowledged_at", "borough"],
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_open_desk", table_name="alerts")
    op.drop_index("ix_obligations_state_due_at", table_name="obligations")
