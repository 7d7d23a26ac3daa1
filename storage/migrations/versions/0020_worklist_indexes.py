"""The VFU worklist's indexes: its two kinds of row read in deadline order, its counts
read from the index alone, and the officers of a borough's open cases.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06

- ix_obligations_worklist (state, due_at, borough, warn_at, explained_at, breached_at):
  the savable rows (pending, deadline ahead) deadline first and the breached ones later
  deadline first, one state at a time, with the borough and the rest of the conditions
  checked in the index; also counts the breaches.
- ix_obligations_due_soon (borough, state, warn_at, due_at): counts a borough's due-soon
  rows (pending, warning point passed) from the index, without reading every pending one.
- ix_cases_officers (borough, status, officer_name): the officers the filter offers.

bench/vfu_queue.py times the page with them at 900,000 cases.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    (
        "ix_obligations_worklist",
        "obligations",
        ["state", "due_at", "borough", "warn_at", "explained_at", "breached_at"],
    ),
    ("ix_obligations_due_soon", "obligations", ["borough", "state", "warn_at", "due_at"]),
    ("ix_cases_officers", "cases", ["borough", "status", "officer_name"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
