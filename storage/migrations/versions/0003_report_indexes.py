"""A covering index for the compliance report.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

The report reads every obligation due in a period; with every column it needs in one
index, keyed by due_at, both databases answer from the index alone instead of visiting
each table row.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REPORT_COLUMNS = [
    "due_at",
    "state",
    "standard",
    "borough",
    "category",
    "started_at",
    "met_at",
    "explanation_reason",
]


def upgrade() -> None:
    op.create_index("ix_obligations_report", "obligations", REPORT_COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_obligations_report", table_name="obligations")
