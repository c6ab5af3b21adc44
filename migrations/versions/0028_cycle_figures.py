"""dashboards: the self-governance cycle in association_figures (plan and report published,
survey responses and satisfied responses)

Revision ID: 0028_cycle_figures
Revises: 0027_merge
Create Date: 2026-11-30 23:20:00

NULL until `flask dashboards refresh` (and the nightly job) fills them on an existing database;
the stored subtree sums gain their keys in the same run. Until then the dashboard and the
governance pages show no plans, reports or responses below.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_cycle_figures"
down_revision = "0027_merge"
branch_labels = None
depends_on = None

COLUMNS = ("plan_published", "report_published", "survey_responses", "satisfied_responses")


def upgrade():
    with op.batch_alter_table("association_figures", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("association_figures", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
