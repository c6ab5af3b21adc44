"""dashboards: figures_queue.changed_from, the earliest date a queued change can count at

Revision ID: 0034_queue_changed_from
Revises: 0033_figures_queue
Create Date: 2026-12-01 05:15:00

A change to an activity held this year leaves the figures of the years (and closed quarters)
that ended before it as they are: the refresh recomputes only the periods that end on or
after `changed_from` (NULL: every period). Nullable, so rows queued before the upgrade refresh
every year, as they did.
"""

import sqlalchemy as sa
from alembic import op

revision = "0034_queue_changed_from"
down_revision = "0033_figures_queue"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("figures_queue") as batch:
        batch.add_column(sa.Column("changed_from", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("figures_queue") as batch:
        batch.drop_column("changed_from")
