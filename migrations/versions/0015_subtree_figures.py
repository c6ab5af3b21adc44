"""dashboards: subtree_figures, the figures summed over each association's subtree

Revision ID: 0015_subtree_figures
Revises: 0014_merge
Create Date: 2026-11-23 15:00:00

Filled by `flask dashboards refresh` (and the nightly job) on an existing database.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0015_subtree_figures"
down_revision = "0014_merge"
branch_labels = None
depends_on = None

TABLES = ("subtree_figures",)


def upgrade():
    op.create_table(
        "subtree_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("oldest_computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_subtree_figures_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subtree_figures")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_subtree_figures_association_id_year")
        ),
    )
    with op.batch_alter_table("subtree_figures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subtree_figures_association_id"), ["association_id"], unique=False
        )
    rls.protect_new_tables(op, TABLES, current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    with op.batch_alter_table("subtree_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subtree_figures_association_id"))
    op.drop_table("subtree_figures")
