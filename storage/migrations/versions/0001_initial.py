"""Initial schema: cases, victims, obligations and their history, outbox, alerts.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

Written by hand to match storage.models; the vocabularies in the CHECK
constraints are copied, not imported, so that this revision never changes
when the code does.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("workflow_id", sa.String(length=255), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("borough", sa.String(length=64), nullable=False),
        sa.Column("vulnerable", sa.Boolean(), nullable=False),
        sa.Column("nation", sa.String(length=32), nullable=False),
        _instant("reported_at", nullable=False),
        sa.Column("policy_id", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        _instant("closed_at"),
        _instant("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
        sa.UniqueConstraint("workflow_id", name=op.f("uq_cases_workflow_id")),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_cases_status")),
    )
    op.create_index(op.f("ix_cases_borough"), "cases", ["borough"])

    op.create_table(
        "victims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("preferred_channel", sa.String(length=32), nullable=False),
        sa.Column("allowed_channels", sa.JSON(), nullable=False),
        sa.Column("safe_hours_start", sa.Time(), nullable=True),
        sa.Column("safe_hours_end", sa.Time(), nullable=True),
        sa.Column("discreet", sa.Boolean(), nullable=False),
        sa.Column("do_not_contact", sa.Boolean(), nullable=False),
        sa.Column("sms_opted_out", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("update_interval_days", sa.Integer(), nullable=True),
        sa.Column("updates_paused", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_victims")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_victims_case_id_cases")),
        sa.UniqueConstraint("case_id", name=op.f("uq_victims_case_id")),
        sa.CheckConstraint(
            "preferred_channel IN ('sms', 'email')", name=op.f("ck_victims_preferred_channel")
        ),
    )

    op.create_table(
        "obligations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("standard", sa.String(length=64), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("borough", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        _instant("started_at", nullable=False),
        _instant("due_at", nullable=False),
        _instant("warn_at"),
        _instant("escalate_at"),
        _instant("warned_at"),
        _instant("breached_at"),
        _instant("escalated_at"),
        _instant("met_at"),
        _instant("cancelled_at"),
        sa.Column("window_amount", sa.Integer(), nullable=False),
        sa.Column("window_unit", sa.String(length=32), nullable=False),
        sa.Column("explanation_reason", sa.String(length=32), nullable=True),
        sa.Column("explanation_text", sa.Text(), nullable=True),
        _instant("explained_at"),
        _instant("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligations")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_obligations_case_id_cases")
        ),
        sa.UniqueConstraint("case_id", "key", name=op.f("uq_obligations_case_id_key")),
        sa.CheckConstraint(
            "state IN ('pending', 'met', 'met_late', 'breached', 'cancelled')",
            name=op.f("ck_obligations_state"),
        ),
    )
    op.create_index(op.f("ix_obligations_due_at"), "obligations", ["due_at"])
    op.create_index(op.f("ix_obligations_standard_due_at"), "obligations", ["standard", "due_at"])
    op.create_index(op.f("ix_obligations_borough_due_at"), "obligations", ["borough", "due_at"])
    op.create_index(op.f("ix_obligations_state"), "obligations", ["state"])

    op.create_table(
        "obligation_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        _instant("at", nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation_transitions")),
        sa.ForeignKeyConstraint(
            ["obligation_id"],
            ["obligations.id"],
            name=op.f("fk_obligation_transitions_obligation_id_obligations"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_obligation_transitions_case_id_cases")
        ),
        sa.UniqueConstraint(
            "obligation_id", "seq", name=op.f("uq_obligation_transitions_obligation_id_seq")
        ),
        sa.CheckConstraint(
            "event IN ('started', 'warned', 'breached', 'escalated', 'met', 'met_late', "
            "'cancelled', 'explained', 'retimed')",
            name=op.f("ck_obligation_transitions_event"),
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'met', 'met_late', 'breached', 'cancelled')",
            name=op.f("ck_obligation_transitions_state"),
        ),
    )
    op.create_index(
        op.f("ix_obligation_transitions_case_id"), "obligation_transitions", ["case_id"]
    )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("provider_id", sa.String(length=255), nullable=True),
        sa.Column("obligation_key", sa.String(length=128), nullable=True),
        _instant("created_at", nullable=False),
        _instant("sent_at"),
        _instant("delivered_at"),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_outbox_messages_case_id_cases")
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")),
        sa.CheckConstraint("channel IN ('sms', 'email')", name=op.f("ck_outbox_messages_channel")),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'delivered', 'undelivered', 'failed')",
            name=op.f("ck_outbox_messages_status"),
        ),
    )
    op.create_index(op.f("ix_outbox_messages_case_id"), "outbox_messages", ["case_id"])
    op.create_index(op.f("ix_outbox_messages_provider_id"), "outbox_messages", ["provider_id"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("borough", sa.String(length=64), nullable=False),
        sa.Column("standard", sa.String(length=64), nullable=False),
        sa.Column("obligation_key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _instant("at", nullable=False),
        _instant("due_at"),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("recipient_role", sa.String(length=32), nullable=False),
        _instant("acknowledged_at"),
        _instant("emailed_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_alerts_case_id_cases")),
        sa.UniqueConstraint(
            "case_id", "obligation_key", "kind", name=op.f("uq_alerts_case_id_obligation_key_kind")
        ),
        sa.CheckConstraint(
            "kind IN ('warning', 'breach', 'escalation', 'delivery_failed', "
            "'manual_contact_required')",
            name=op.f("ck_alerts_kind"),
        ),
        sa.CheckConstraint(
            "recipient_role IN ('vfu', 'manager')", name=op.f("ck_alerts_recipient_role")
        ),
    )
    op.create_index(op.f("ix_alerts_borough"), "alerts", ["borough"])


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_borough"), table_name="alerts")
    op.drop_table("alerts")
    op.drop_index(op.f("ix_outbox_messages_provider_id"), table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_case_id"), table_name="outbox_messages")
    op.drop_table("outbox_messages")
    op.drop_index(op.f("ix_obligation_transitions_case_id"), table_name="obligation_transitions")
    op.drop_table("obligation_transitions")
    op.drop_index(op.f("ix_obligations_state"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_borough_due_at"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_standard_due_at"), table_name="obligations")
    op.drop_index(op.f("ix_obligations_due_at"), table_name="obligations")
    op.drop_table("obligations")
    op.drop_table("victims")
    op.drop_index(op.f("ix_cases_borough"), table_name="cases")
    op.drop_table("cases")
