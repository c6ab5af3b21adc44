"""dashboards: per-association, per-year figures summed over a subtree

Revision ID: 0011_dashboards
Revises: 0007_events
Create Date: 2026-11-23 12:00:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0011_dashboards"
down_revision = "0007_events"
branch_labels = None
depends_on = None

TABLES = ("association_figures",)


def upgrade():
    op.create_table(
        "association_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("activities_q1", sa.Integer(), nullable=False),
        sa.Column("activities_q2", sa.Integer(), nullable=False),
        sa.Column("activities_q3", sa.Integer(), nullable=False),
        sa.Column("activities_q4", sa.Integer(), nullable=False),
        sa.Column("checklist_status", sa.String(length=12), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("covered_households", sa.Integer(), nullable=False),
        sa.Column("dues_expected_fen", sa.Integer(), nullable=True),
        sa.Column("dues_collected_fen", sa.Integer(), nullable=True),
        sa.Column("volunteer_minutes", sa.Integer(), nullable=True),
        sa.Column("overdue_rectifications", sa.Integer(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_association_figures_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association_figures")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_association_figures_association_id_year")
        ),
    )
    with op.batch_alter_table("association_figures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_association_figures_association_id"), ["association_id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        role = current_app.config["DATABASE_APP_ROLE"]
        for table in TABLES:
            for statement in rls.tenant_table_sql(table):
                op.execute(statement)
        for statement in rls.grant_app_role_sql(role):
            op.execute(statement)


def downgrade():
    with op.batch_alter_table("association_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_association_figures_association_id"))
    op.drop_table("association_figures")
