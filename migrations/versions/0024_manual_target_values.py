"""dashboards: manual_target_values, the values a grassroots association enters by hand for
the targets measured by hand (知晓率, 自治开展面, 满意率 without a residents' evaluation, a
level's own targets entered by hand)

Revision ID: 0024_manual_target_values
Revises: 0015_subtree_figures
Create Date: 2026-11-30 18:00:00
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0024_manual_target_values"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None

TABLES = ("manual_target_values",)


def upgrade():
    op.create_table(
        "manual_target_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value_centi", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_manual_target_values_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["users.id"],
            name=op.f("fk_manual_target_values_entered_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_target_values")),
        sa.UniqueConstraint(
            "association_id",
            "year",
            "key",
            name=op.f("uq_manual_target_values_association_id_year_key"),
        ),
    )
    with op.batch_alter_table("manual_target_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_manual_target_values_association_id"), ["association_id"], unique=False
        )
    rls.protect_new_tables(op, TABLES, current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    with op.batch_alter_table("manual_target_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manual_target_values_association_id"))
    op.drop_table("manual_target_values")
