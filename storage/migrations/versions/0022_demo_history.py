"""Demo history is marked: cases written by `pledge demo-data --history` have no workflow.

Revision ID: 0022
Revises: 0017
Create Date: 2026-12-06

The engine writes a year of demo history straight to the tables, for the reports and the
dashboard; no workflow runs for those cases, so they can take no event. Marked, the VFU
queue leaves them out and an event posted to one is refused with the reason. Every case
before this revision is a live one (history written earlier is not told apart).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("demo_history", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("demo_history")
