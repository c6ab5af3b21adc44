"""dashboards: figures_queue, the associations whose figures the refresh job is to recompute

Revision ID: 0033_figures_queue
Revises: 0032_national_stats
Create Date: 2026-12-01 02:40:00

A platform table (no row-level security): it holds association ids only, written after the
commit of a change and drained by the refresh job for every association at once. Granted to
the app role.
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

revision = "0033_figures_queue"
down_revision = "0032_national_stats"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "figures_queue",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figures_queue")),
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.grant_app_role_sql(current_app.config["DATABASE_APP_ROLE"]):
            op.execute(statement)


def downgrade():
    op.drop_table("figures_queue")
