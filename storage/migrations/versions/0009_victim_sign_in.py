"""Victims' sign-in by one-time code, their sessions, and the "update requested" alert.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Codes, session tokens and asking addresses are kept only as digests. The alerts' kind
gains 'update_requested' (a victim's request for an update from their page); the
vocabulary is copied here, not imported, so this revision never changes with the code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALERT_KINDS_BEFORE = (
    "'warning', 'breach', 'escalation', 'delivery_failed', 'manual_contact_required'"
)
ALERT_KINDS_AFTER = f"{ALERT_KINDS_BEFORE}, 'update_requested'"
CODE_REQUEST_OUTCOMES = (
    "'sent', 'no_such_case', 'do_not_contact', 'no_safe_channel', 'outside_safe_hours', "
    "'reference_limit', 'failed'"
)


def _instant(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _alert_kinds(allowed: str) -> None:
    # SQLite cannot alter a CHECK constraint in place: batch mode rebuilds the table.
    with op.batch_alter_table("alerts", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_alerts_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_alerts_kind"), f"kind IN ({allowed})")


def upgrade() -> None:
    op.create_table(
        "victim_sign_in_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=97), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        _instant("issued_at", nullable=False),
        _instant("expires_at", nullable=False),
        _instant("used_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victim_sign_in_codes")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_victim_sign_in_codes_case_id_cases")
        ),
    )
    op.create_index(
        "ix_victim_sign_in_codes_case_id_issued_at",
        "victim_sign_in_codes",
        ["case_id", "issued_at"],
    )
    op.create_table(
        "victim_wrong_codes",
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _instant("last_at"),
        _instant("locked_until"),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_victim_wrong_codes")),
    )
    op.create_table(
        "victim_code_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        _instant("at", nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victim_code_requests")),
        sa.CheckConstraint(
            f"outcome IN ({CODE_REQUEST_OUTCOMES})", name=op.f("ck_victim_code_requests_outcome")
        ),
    )
    op.create_index(
        "ix_victim_code_requests_address_at", "victim_code_requests", ["address_hash", "at"]
    )
    op.create_index(
        "ix_victim_code_requests_reference_at", "victim_code_requests", ["reference", "at"]
    )
    op.create_table(
        "victim_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        _instant("created_at", nullable=False),
        _instant("last_seen_at", nullable=False),
        _instant("ended_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victim_sessions")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_victim_sessions_case_id_cases")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_victim_sessions_token_hash")),
    )
    op.create_index(op.f("ix_victim_sessions_case_id"), "victim_sessions", ["case_id"])
    _alert_kinds(ALERT_KINDS_AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE kind = 'update_requested'")
    _alert_kinds(ALERT_KINDS_BEFORE)
    op.drop_index(op.f("ix_victim_sessions_case_id"), table_name="victim_sessions")
    op.drop_table("victim_sessions")
    op.drop_index("ix_victim_code_requests_reference_at", table_name="victim_code_requests")
    op.drop_index("ix_victim_code_requests_address_at", table_name="victim_code_requests")
    op.drop_table("victim_code_requests")
    op.drop_table("victim_wrong_codes")
    op.drop_index("ix_victim_sign_in_codes_case_id_issued_at", table_name="victim_sign_in_codes")
    op.drop_table("victim_sign_in_codes")
