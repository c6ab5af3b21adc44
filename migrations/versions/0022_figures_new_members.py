"""dashboards: association_figures.new_members (新发展会员) and member_day_activities (5·29)

Revision ID: 0022_figures_new_members
Revises: 0021_figures_periods
Create Date: 2026-11-30 17:20:00

Filled by `flask dashboards refresh` (and the nightly job) on an existing database; the stored
subtree sums gain their keys (and the activity signatures of 0021's release) in the same run.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_figures_new_members"
down_revision = "0021_figures_periods"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("association_figures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("new_members", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("member_day_activities", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("association_figures", schema=None) as batch_op:
        batch_op.drop_column("member_day_activities")
        batch_op.drop_column("new_members")
