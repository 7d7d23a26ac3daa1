"""The Victims' Code (2021) events a case may take (issue 21).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06

The case_events type CHECK constraint gains the events of the Code's police-owned
rights: a suspect's interview, release and bail, decisions not to investigate or to
prosecute, the needs assessment, consent to and referral to support services, the
Victim Personal Statement and the Victims' Right to Review. The vocabulary is copied
here, not imported, so this revision never changes with the code. Downgrading deletes
the rows of the new types, which the old constraint cannot hold.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

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
)
VICTIMS_CODE_EVENTS = (
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


def _allow(types: Sequence[str]) -> None:
    allowed = ", ".join(f"'{name}'" for name in types)
    # SQLite cannot alter a CHECK constraint in place: batch mode rebuilds the table.
    with op.batch_alter_table("case_events", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_case_events_type"), type_="check")
        batch.create_check_constraint(op.f("ck_case_events_type"), f"type IN ({allowed})")


def upgrade() -> None:
    _allow((*EVENT_TYPES_BEFORE, *VICTIMS_CODE_EVENTS))


def downgrade() -> None:
    listed = ", ".join(f"'{name}'" for name in VICTIMS_CODE_EVENTS)
    op.execute(f"DELETE FROM case_events WHERE type IN ({listed})")
    _allow(EVENT_TYPES_BEFORE)
