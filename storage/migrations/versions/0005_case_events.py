"""Events as received, with who recorded them: actors stay out of workflow history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A member of staff's name is personal data. The service keeps it here, beside the
caller's event id (the idempotency key of a repeated post), and the case workflow
is told only a reference to this row. The event types in the CHECK constraint are
copied, not imported, so that this revision never changes when the code does.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TYPES = (
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


def upgrade() -> None:
    allowed = ", ".join(f"'{name}'" for name in EVENT_TYPES)
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")
        ),
        sa.UniqueConstraint("case_id", "event_id", name=op.f("uq_case_events_case_id_event_id")),
        sa.CheckConstraint(f"type IN ({allowed})", name=op.f("ck_case_events_type")),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_events_case_id"), table_name="case_events")
    op.drop_table("case_events")
