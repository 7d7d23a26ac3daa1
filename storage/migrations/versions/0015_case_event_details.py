"""Each accepted case event keeps the standard it names and its details.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

What the case's clocks were told, so a period's cases can be replayed with their
recorded events under another policy (what-if). Never the staff details kept on the
case. Events recorded before this revision keep none (NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("standard", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("details")
        batch.drop_column("standard")
