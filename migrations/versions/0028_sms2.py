"""SMS, second part: the worker's batch claims (a token per claim), group messages scheduled
for a later time (status, send_at, sent_at) and to the secretaries of one kind of association
below (target_kind), and the notification centre (notifications)

Revision ID: 0028_sms2
Revises: 0027_merge
Create Date: 2026-11-30 23:30:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

revision = "0028_sms2"
down_revision = "0027_merge"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim", sa.String(length=32), nullable=True))
    with op.batch_alter_table("group_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), nullable=False, server_default="sent")
        )
        batch_op.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("target_kind", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_group_messages_status_send_at", ["status", "send_at"])
    op.execute("UPDATE group_messages SET sent_at = created_at")
    op.create_table(
        "notifications",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=120), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=1000), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_notifications_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_notifications_user_id_key")),
    )
    op.create_index(op.f("ix_notifications_association_id"), "notifications", ["association_id"])
    op.create_index("ix_notifications_user_read", "notifications", ["user_id", "read_at"])
    if op.get_bind().dialect.name == "postgresql":
        # Not a tenant table: each row is addressed to a user, who reads her own from every
        # association she belongs to (app/core/inbox.py); reads filter by her id.
        for statement in rls.grant_app_role_sql(current_app.config["DATABASE_APP_ROLE"]):
            op.execute(statement)


def downgrade():
    op.drop_index("ix_notifications_user_read", table_name="notifications")
    op.drop_index(op.f("ix_notifications_association_id"), table_name="notifications")
    op.drop_table("notifications")
    with op.batch_alter_table("group_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_group_messages_status_send_at")
        batch_op.drop_column("target_kind")
        batch_op.drop_column("sent_at")
        batch_op.drop_column("send_at")
        batch_op.drop_column("status")
    with op.batch_alter_table("sms_messages", schema=None) as batch_op:
        batch_op.drop_column("claim")
