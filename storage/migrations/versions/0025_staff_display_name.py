"""Staff accounts get a display name, which the pages show for who did something.

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-06

Existing accounts get none (NULL): the pages go on naming them by their email until an
admin gives them a name. Names stay in this table, read when a page is drawn: a case's
workflow never holds one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would rebuild staff_users under the tables that
    # refer to it (sessions, alerts).
    op.add_column("staff_users", sa.Column("display_name", sa.String(length=100), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later), for the same reason.
    op.drop_column("staff_users", "display_name")
