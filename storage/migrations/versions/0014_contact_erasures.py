"""The record of victims' contact profiles erased after retention.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("messages_scrubbed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_contact_erasures_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_erasures")),
        sa.UniqueConstraint("case_id", name=op.f("uq_contact_erasures_case_id")),
    )
    # Retention looks for closed cases by closing time.
    op.create_index("ix_cases_status_closed_at", "cases", ["status", "closed_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_status_closed_at", table_name="cases")
    op.drop_table("contact_erasures")
