"""The victim's language, and the language each message was sent in (issue 21, Right 1).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07

A victim's messages and pages follow their language (a BCP 47 code, "en" or "cy"); every
victim before this revision is English. Each outbox row records the language it was
rendered in, and the victim's language when that had no template for it (the message
went in English instead): rows before this revision were all English.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Copied, not imported (standards.vocabulary.DEFAULT_LANGUAGE, storage.limits).
ENGLISH = "en"
LANGUAGE_LENGTH = 16


def upgrade() -> None:
    # Plain ADD COLUMNs (with their default, so NOT NULL holds): batch mode would rebuild
    # the tables, and dropping `victims` or `outbox_messages` fails under their references.
    op.add_column(
        "victims",
        sa.Column(
            "language",
            sa.String(length=LANGUAGE_LENGTH),
            nullable=False,
            server_default=ENGLISH,
        ),
    )
    op.add_column(
        "outbox_messages",
        sa.Column(
            "language",
            sa.String(length=LANGUAGE_LENGTH),
            nullable=False,
            server_default=ENGLISH,
        ),
    )
    op.add_column(
        "outbox_messages",
        sa.Column("fallback_from", sa.String(length=LANGUAGE_LENGTH), nullable=True),
    )


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35 and later), for the same reason.
    op.drop_column("outbox_messages", "fallback_from")
    op.drop_column("outbox_messages", "language")
    op.drop_column("victims", "language")
