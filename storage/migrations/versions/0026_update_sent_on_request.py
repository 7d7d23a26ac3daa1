"""A member of staff sends the victim an update now: a case event (`update_sent_on_request`).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

The case_events type CHECK constraint gains `update_sent_on_request` ("Send the victim
an update now" on the case page, or posted through the API). The vocabulary is copied
here, not imported, so this revision never changes with the code. Downgrading deletes
the rows of the new type, which the old constraint cannot hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0023's types: those before it and the Victims' Code's.
EVENT_TYPES_BEFORE = (
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
    "update_requested",
    "suspect_interviewed",
    "released_without_charge",
    "released_on_bail",
    "released_under_investigation",
    "bail_conditions_changed",
    "bail_cancelled",
    "not_investigated",
    "needs_assessed",
    "support_consent",
    "support_declined",
    "referral_made",
    "witness_statement_taken",
    "vps_offered",
    "not_prosecuted",
    "vrr_requested",
    "vrr_decided",
)
NEW_EVENT = "update_sent_on_request"


def _allow(types: Sequence[str]) -> None:
    allowed = ", ".join(f"'{name}'" for name in types)
    # SQLite cannot alter a CHECK constraint in place: batch mode rebuilds the table.
    with op.batch_alter_table("case_events", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_case_events_type"), type_="check")
        batch.create_check_constraint(op.f("ck_case_events_type"), f"type IN ({allowed})")


def upgrade() -> None:
    _allow((*EVENT_TYPES_BEFORE, NEW_EVENT))


def downgrade() -> None:
    op.execute(f"DELETE FROM case_events WHERE type = '{NEW_EVENT}'")
    _allow(EVENT_TYPES_BEFORE)
