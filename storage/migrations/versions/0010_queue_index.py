"""An index for the VFU queue.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

The queue asks for one borough's open (pending or breached) obligations, earliest due
first, every minute from every VFU. With only (borough, due_at) or due_at to go on, a
database walks the borough's whole history of met obligations to find the open ones;
keyed by (borough, state, due_at) it reads the open ones alone (bench/vfu_queue.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_obligations_queue", "obligations", ["borough", "state", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_obligations_queue", table_name="obligations")
