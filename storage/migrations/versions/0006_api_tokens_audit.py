"""The HTTP API's bearer tokens and its audit of accepted writes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Tokens keep only a SHA-256 digest of their secret. The audit records who wrote what to
which case (never the request body) and carries the key a retried request is matched by.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("borough", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "api_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_name", sa.String(length=64), nullable=False),
        sa.Column("route", sa.String(length=128), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=255), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_audit")),
        sa.UniqueConstraint(
            "route",
            "reference",
            "request_key",
            name=op.f("uq_api_audit_route_reference_request_key"),
        ),
    )
    op.create_index(op.f("ix_api_audit_reference"), "api_audit", ["reference"])


def downgrade() -> None:
    op.drop_index(op.f("ix_api_audit_reference"), table_name="api_audit")
    op.drop_table("api_audit")
    op.drop_table("api_tokens")
