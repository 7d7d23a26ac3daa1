"""Each case event may keep the note its member of staff wrote with it, and a note may be
added to a case on its own (a new event type, 'note_added').

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

What was said on a contact, or done with an action, as the staff case page records it.
Personal data: kept here, never told to the case's clocks, erased with the victim's
contact profile. Events recorded before this revision have none (NULL). The vocabulary
is copied here, not imported, so this revision never changes with the code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TYPES_BEFORE = (
    "contact_recorded",
    "review_recorded",
    "update_delivered",
    "officer_assigned",
    "arrest",
    "charge",
    "court_outcome",
    "closed",
    "reopened",
    "preferences_changed",
    "breach_explained",
)
TYPES_AFTER = (*TYPES_BEFORE, "note_added")


def _types(types: tuple[str, ...]) -> None:
    # SQLite cannot alter a CHECK constraint in place: batch mode rebuilds the table.
    allowed = ", ".join(f"'{name}'" for name in types)
    with op.batch_alter_table("case_events", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_case_events_type"), type_="check")
        batch.create_check_constraint(op.f("ck_case_events_type"), f"type IN ({allowed})")


def upgrade() -> None:
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
    _types(TYPES_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM case_events WHERE type = 'note_added'")
    _types(TYPES_BEFORE)
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("note")
