"""Staff accounts, their sessions and the sign-in log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Passwords are kept as argon2 hashes and session ids as SHA-256 digests. The sign-in
log's failed attempts are what the sign-in rate limits count, so every web process
shares them. The vocabularies in the CHECK constraints are copied, not imported, so
that this revision never changes when the code does.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("vfu", "manager", "admin")
SESSION_ENDS = ("signed_out", "idle", "lifetime", "disabled", "replaced")
AUTH_EVENTS = (
    "sign_in_ok",
    "sign_in_failed",
    "sign_in_throttled",
    "signed_out",
    "session_expired",
    "user_added",
    "user_disabled",
    "user_enabled",
    "token_created",
    "token_revoked",
)


def _one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=column)


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("borough", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("email", name=op.f("uq_staff_users_email")),
        _one_of("role", ROLES),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_staff_sessions_session_hash")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_user_id_staff_users"),
        ),
        _one_of("ended_reason", SESSION_ENDS),
    )
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"])
    op.create_table(
        "staff_auth_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=True),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_auth_events")),
        _one_of("event", AUTH_EVENTS),
    )
    op.create_index("ix_staff_auth_events_email_at", "staff_auth_events", ["email", "at"])
    op.create_index("ix_staff_auth_events_address_at", "staff_auth_events", ["address", "at"])


def downgrade() -> None:
    op.drop_index("ix_staff_auth_events_address_at", table_name="staff_auth_events")
    op.drop_index("ix_staff_auth_events_email_at", table_name="staff_auth_events")
    op.drop_table("staff_auth_events")
    op.drop_index(op.f("ix_staff_sessions_user_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_users")
