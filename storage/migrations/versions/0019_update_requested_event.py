"""A victim's request for an update is a case event (`update_requested`).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06

The request starts an obligation (the policy's reply standard), so it is recorded in
`case_events` like every event: the CHECK on `case_events.type` takes the new type.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = (
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
    "note_added",
)
AFTER = (*BEFORE, "update_requested")


def _replace_check(types: Sequence[str]) -> None:
    allowed = ", ".join(f"'{name}'" for name in types)
    # SQLite cannot alter a CHECK constraint in place: batch mode rebuilds the table.
    with op.batch_alter_table("case_events", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_case_events_type"), type_="check")
        batch.create_check_constraint(op.f("ck_case_events_type"), f"type IN ({allowed})")


def upgrade() -> None:
    _replace_check(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM case_events WHERE type = 'update_requested'")
    _replace_check(BEFORE)
