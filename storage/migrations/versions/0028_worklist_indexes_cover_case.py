"""The worklist's indexes also hold the case: its counts and rows are read from the index
alone again.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07

The worklist leaves out the read-only demo history (`obligations.case_id NOT IN` the
demo cases, since migration 0022). Neither ix_obligations_worklist nor
ix_obligations_due_soon held `case_id`, so every row counted had to be read from the
table: at 900,000 cases the force-wide due-soon count (218,425 rows) took SQLite 3.2 s
instead of 0.16 s, and the whole page about 3 s. Each is rebuilt with `case_id` last.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WORKLIST = ["state", "due_at", "borough", "warn_at", "explained_at", "breached_at"]
DUE_SOON = ["borough", "state", "warn_at", "due_at"]
INDEXES = (
    ("ix_obligations_worklist", WORKLIST),
    ("ix_obligations_due_soon", DUE_SOON),
)


def _rebuild(with_case: bool) -> None:
    for name, columns in INDEXES:
        op.drop_index(name, table_name="obligations")
        op.create_index(name, "obligations", [*columns, "case_id"] if with_case else columns)


def upgrade() -> None:
    _rebuild(with_case=True)


def downgrade() -> None:
    _rebuild(with_case=False)
