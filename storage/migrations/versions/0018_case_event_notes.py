"""Each case event may keep the note its member of staff wrote with it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

What was said on a contact, or done with an action, as the staff case page records it.
Personal data: kept here, never told to the case's clocks, erased with the victim's
contact profile. Events recorded before this revision have none (NULL).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("note")
