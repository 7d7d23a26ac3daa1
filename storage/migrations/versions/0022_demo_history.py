"""Demo history is marked: cases written by `pledge demo-data --history` have no workflow.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06

The engine writes a year of demo history straight to the tables, for the reports and the
dashboard; no workflow runs for those cases, so they can take no event. Marked, the VFU
queue leaves them out (found by an index) and an event posted to one is refused with the
reason. Every case before this revision is a live one (history written earlier is not
told apart).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (with its default, so NOT NULL holds): batch mode would rebuild
    # `cases`, and dropping the old table fails while other tables' rows refer to it.
    op.add_column(
        "cases",
        sa.Column("demo_history", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    # The worklist leaves the (few, usually no) history cases out by their ids: an index
    # finds them without reading every case.
    op.create_index("ix_cases_demo_history", "cases", ["demo_history"])


def downgrade() -> None:
    op.drop_index("ix_cases_demo_history", table_name="cases")
    # A plain DROP COLUMN (SQLite 3.35 and later), for the same reason.
    op.drop_column("cases", "demo_history")
