"""core + accounts: the SMS outbox (one row per message, with its delivery report), the
numbers that opted out of notices, messages to groups, and SMS sign-in codes

Revision ID: 0024_sms_sign_in
Revises: 0015_subtree_figures
Create Date: 2026-11-30 18:10:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0024_sms_sign_in"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sms_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("phone_encrypted", sa.Text(), nullable=False),
        sa.Column("phone_masked", sa.String(length=11), nullable=False),
        sa.Column("params_encrypted", sa.Text(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("quiet_hours", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.String(length=80), nullable=True),
        sa.Column("cost_fen", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_error", sa.String(length=80), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_sms_messages_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sms_messages_idempotency_key")),
    )
    op.create_index(
        "ix_sms_messages_association_created", "sms_messages", ["association_id", "created_at"]
    )
    op.create_index("ix_sms_messages_status_next", "sms_messages", ["status", "next_attempt_at"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_opt_outs")),
        sa.UniqueConstraint("phone_hash", name=op.f("uq_sms_opt_outs_phone_hash")),
    )
    op.create_table(
        "phone_sign_in_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=120), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_sign_in_codes")),
    )
    op.create_index(
        op.f("ix_phone_sign_in_codes_phone_hash"), "phone_sign_in_codes", ["phone_hash"]
    )
    op.create_table(
        "group_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group", sa.String(length=20), nullable=False),
        sa.Column("body", sa.String(length=300), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("opted_out", sa.Integer(), nullable=False),
        sa.Column("capped", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_group_messages_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["users.id"],
            name=op.f("fk_group_messages_sent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_messages")),
    )
    op.create_index(op.f("ix_group_messages_association_id"), "group_messages", ["association_id"])
    # A tenant table: row-level security and the app role's grants (PostgreSQL only).
    rls.protect_new_tables(op, ("group_messages",), current_app.config["DATABASE_APP_ROLE"])
    if op.get_bind().dialect.name == "postgresql":
        # Not tenant tables (sign-in codes and their messages belong to no association yet).
        for statement in rls.grant_app_role_sql(current_app.config["DATABASE_APP_ROLE"]):
            op.execute(statement)


def downgrade():
    op.drop_index(op.f("ix_group_messages_association_id"), table_name="group_messages")
    op.drop_table("group_messages")
    op.drop_index(op.f("ix_phone_sign_in_codes_phone_hash"), table_name="phone_sign_in_codes")
    op.drop_table("phone_sign_in_codes")
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_sms_messages_status_next", table_name="sms_messages")
    op.drop_index("ix_sms_messages_association_created", table_name="sms_messages")
    op.drop_table("sms_messages")
