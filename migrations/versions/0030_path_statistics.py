"""associations: a finer histogram of `path` on PostgreSQL, so a subtree's path range is
estimated near its real size

With the default 100 buckets for 21,622 paths, interpolating inside one bucket made a county's
range (186 associations) look like 1 row; the dashboards' problems list then rescanned the
ORM's subtree filter once per association (county page 1: 168 ms, 9.8 ms with this).

Revision ID: 0030_path_statistics
Revises: 0029_merge
Create Date: 2026-12-01 02:30:00
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0030_path_statistics"
down_revision = "0029_merge"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE associations ALTER COLUMN path SET STATISTICS 1000")
        op.execute("ANALYZE associations")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE associations ALTER COLUMN path SET STATISTICS -1")
