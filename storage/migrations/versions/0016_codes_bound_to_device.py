"""Victims' codes are bound to the browser that asked, and wrong codes counted by device.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

Anyone who knew a reference could type five wrong codes and lock it for everyone, the
victim included. Now a code works only in the browser that asked for it (the digest of
a random device token), wrong codes lock only the device that typed them, and codes to
one victim past a few in a window are spaced out (a new outcome, 'reference_backoff'),
not refused. The wrong-code counters are short-lived (a lock lasts minutes), so the old
table is replaced, not converted. The vocabulary is copied here, not imported, so this
revision never changes with the code.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES_BEFORE = (
    "'sent', 'no_such_case', 'do_not_contact', 'no_safe_channel', 'outside_safe_hours', "
    "'reference_limit', 'failed'"
)
OUTCOMES_AFTER = (
    "'sent', 'no_such_case', 'do_not_contact', 'no_safe_channel', 'outside_safe_hours', "
    "'reference_limit', 'reference_backoff', 'failed'"
)


def _instant(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def _wrong_codes_table(*, by_device: bool) -> None:
    columns: list[sa.Column[object]] = [
        sa.Column("reference", sa.String(length=32), nullable=False)
    ]
    key = ["reference"]
    if by_device:
        columns.append(sa.Column("device_hash", sa.String(length=64), nullable=False))
        key.append("device_hash")
    op.create_table(
        "victim_wrong_codes",
        *columns,
        sa.Column("count", sa.Integer(), nullable=False),
        _instant("last_at"),
        _instant("locked_until"),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_victim_wrong_codes")),
    )


def _outcomes(allowed: str) -> None:
    # SQLite cannot alter a CHECK constraint in place: batch mode rebuilds the table.
    with op.batch_alter_table("victim_code_requests", recreate="always") as batch:
        batch.drop_constraint(op.f("ck_victim_code_requests_outcome"), type_="check")
        batch.create_check_constraint(
            op.f("ck_victim_code_requests_outcome"), f"outcome IN ({allowed})"
        )


def upgrade() -> None:
    with op.batch_alter_table("victim_sign_in_codes") as batch:
        batch.add_column(sa.Column("device_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("victim_code_requests") as batch:
        batch.add_column(sa.Column("device_hash", sa.String(length=64), nullable=True))
    _outcomes(OUTCOMES_AFTER)
    op.drop_table("victim_wrong_codes")
    _wrong_codes_table(by_device=True)


def downgrade() -> None:
    op.drop_table("victim_wrong_codes")
    _wrong_codes_table(by_device=False)
    op.execute(
        "UPDATE victim_code_requests SET outcome = 'reference_limit' "
        "WHERE outcome = 'reference_backoff'"
    )
    _outcomes(OUTCOMES_BEFORE)
    with op.batch_alter_table("victim_code_requests") as batch:
        batch.drop_column("device_hash")
    with op.batch_alter_table("victim_sign_in_codes") as batch:
        batch.drop_column("device_hash")
