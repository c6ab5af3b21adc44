"""activities + governance + SMS: activity photos marked public (when, by whom, on what basis);
consents to SMS notices (when, how, for what); group messages to an event, a team or a
central household name it

Revision ID: 0026_govsms
Revises: 0025_merge
Create Date: 2026-11-30 19:45:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0026_govsms"
down_revision = "0025_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activity_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("public_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("public_basis", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_photos_public_by_id_users"),
            "users",
            ["public_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("group_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("target_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("target_label", sa.String(length=200), nullable=False, server_default="")
        )
    op.create_table(
        "sms_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=11), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("consented_on", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_sms_consents_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_sms_consents_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_consents")),
        sa.UniqueConstraint(
            "association_id", "phone_hash", name=op.f("uq_sms_consents_association_id_phone_hash")
        ),
    )
    op.create_index(op.f("ix_sms_consents_association_id"), "sms_consents", ["association_id"])
    if op.get_bind().dialect.name == "postgresql":
        # Not a tenant table, as the SMS outbox and opt-outs are not: notices look a number's
        # consent up from jobs and from other associations' requests; it holds no number.
        for statement in rls.grant_app_role_sql(current_app.config["DATABASE_APP_ROLE"]):
            op.execute(statement)


def downgrade():
    op.drop_index(op.f("ix_sms_consents_association_id"), table_name="sms_consents")
    op.drop_table("sms_consents")
    with op.batch_alter_table("group_messages", schema=None) as batch_op:
        batch_op.drop_column("target_label")
        batch_op.drop_column("target_id")
    with op.batch_alter_table("activity_photos", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_activity_photos_public_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("public_basis")
        batch_op.drop_column("public_by_id")
        batch_op.drop_column("public_at")
