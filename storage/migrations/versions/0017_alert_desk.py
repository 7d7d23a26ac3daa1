"""The alerts page: who acknowledged an alert, and who it is given to, by whom and when.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06

`acknowledged_at` was kept already; an alert now also says who acknowledged it and can
be assigned to a member of staff. Alerts raised before this revision have none of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAFF_COLUMNS = ("acknowledged_by_id", "assigned_to_id", "assigned_by_id")


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        for column in STAFF_COLUMNS:
            batch.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch.create_foreign_key(
                op.f(f"fk_alerts_{column}_staff_users"), "staff_users", [column], ["id"]
            )
        batch.add_column(sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("assigned_at")
        for column in reversed(STAFF_COLUMNS):
            batch.drop_constraint(op.f(f"fk_alerts_{column}_staff_users"), type_="foreignkey")
            batch.drop_column(column)
