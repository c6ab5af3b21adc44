"""dashboards: closed periods — frozen figures per association and subtree, with amendments

Revision ID: 0023_period_snapshots
Revises: 0022_figures_new_members
Create Date: 2026-11-30 17:30:00

Periods already over are closed by `flask dashboards close` (or the nightly job) after the
upgrade, as of their end with the tree as it stands then.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0023_period_snapshots"
down_revision = "0022_figures_new_members"
branch_labels = None
depends_on = None

TABLES = ("period_figures", "period_subtree_figures")


def _tenant_columns(table: str) -> list:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f(f"fk_{table}_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint(
            "association_id",
            "year",
            "quarter",
            name=op.f(f"uq_{table}_association_id_year_quarter"),
        ),
    ]


def upgrade():
    op.create_table(
        "closed_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_periods")),
        sa.UniqueConstraint("year", "quarter", name=op.f("uq_closed_periods_year_quarter")),
    )
    op.create_table(
        "period_figures",
        *_tenant_columns("period_figures"),
        sa.Column("path", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("frozen", sa.JSON(), nullable=False),
        sa.Column("amended", sa.JSON(), nullable=True),
    )
    op.create_table(
        "period_subtree_figures",
        *_tenant_columns("period_subtree_figures"),
        sa.Column("totals", sa.JSON(), nullable=False),
        sa.Column("amendments", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_association_id"), ["association_id"], unique=False
            )
    rls.protect_new_tables(op, TABLES, current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_association_id"))
        op.drop_table(table)
    op.drop_table("closed_periods")
