"""dashboards: figure_targets, the targets each level sets for its subtree per year

Revision ID: 0021_figures_periods
Revises: 0015_subtree_figures
Create Date: 2026-11-30 17:00:00

A platform table (no row-level security): targets are read by every association below the one
that set them. Granted to the app role.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0021_figures_periods"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "figure_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value_centi", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("unit", sa.String(length=12), nullable=True),
        sa.Column("figure", sa.String(length=40), nullable=True),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_figure_targets_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["users.id"],
            name=op.f("fk_figure_targets_set_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_targets")),
        sa.UniqueConstraint(
            "association_id", "year", "key", name=op.f("uq_figure_targets_association_id_year_key")
        ),
    )
    with op.batch_alter_table("figure_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_figure_targets_association_id"), ["association_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.grant_app_role_sql(current_app.config["DATABASE_APP_ROLE"]):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table("figure_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_targets_association_id"))
    op.drop_table("figure_targets")
