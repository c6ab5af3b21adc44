"""stripe: the webhook event store (stripe_events), a platform table

Revision ID: 0010_stripe
Revises: 0009_dues
Create Date: 2026-11-23 11:50:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0010_stripe"
down_revision = "0009_dues"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=True),
        sa.Column("payment_intent", sa.String(length=255), nullable=True),
        sa.Column("stripe_created", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    op.create_index(
        "ix_stripe_events_account_payment_intent",
        "stripe_events",
        ["account", "payment_intent"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        # A platform table (no tenant yet when an event arrives): no row-level security.
        for statement in rls.grant_app_role_sql(current_app.config["DATABASE_APP_ROLE"]):
            op.execute(statement)


def downgrade():
    op.drop_index("ix_stripe_events_account_payment_intent", table_name="stripe_events")
    op.drop_table("stripe_events")
