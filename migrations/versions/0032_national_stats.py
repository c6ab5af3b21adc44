"""associations.path: statistics target 10000, so the planner sees how many associations a
county's path range holds at national scale

Revision ID: 0032_national_stats
Revises: 0031_member_list_indexes
Create Date: 2026-12-01 03:00:00

0030_path_statistics set 1000, enough for a province (21,622 paths). At national scale
(1,043,375 associations, bench/national_bench.py) 1000 estimated a county's range of 365 at 1
row on some ANALYZE samples and 16–25 on others (3000 likewise), so the plan flipped from one
ANALYZE to the next; at 1 row the problems list's count ran the residents'-evaluation aggregate
once per association of the county, scanning the subtree again each time (133,225 index
probes): 210–225 ms instead of 1.8 ms. 10000 estimated 213–321 rows for four counties of
339–365, on every sample. The price is planning: about 0.5 ms per path range condition instead
of 0.13 ms (EXPLAIN (SUMMARY) on the national set). ANALYZE here so the target counts at once.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0032_national_stats"
down_revision = "0031_member_list_indexes"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE associations ALTER COLUMN path SET STATISTICS 10000")
        op.execute("ANALYZE associations")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE associations ALTER COLUMN path SET STATISTICS 1000")
        op.execute("ANALYZE associations")
