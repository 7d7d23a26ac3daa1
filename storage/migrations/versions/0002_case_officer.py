"""Who is dealing with a case: the officer's name and contact, for victim messages.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Kept in the database only: the case workflow never sees staff names or numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("officer_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("officer_contact", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("officer_contact")
        batch.drop_column("officer_name")
