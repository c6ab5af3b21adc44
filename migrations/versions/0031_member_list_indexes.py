"""members: two partial indexes for the member list of a large association: its counts (all and
active, with the ids so the count reads the index alone) and the tags in use

Measured on the 10,000-member association (bench/list_throughput_bench.py, PostgreSQL, loaded
machine): the count went from a scan of the table (14.6 ms) to an index-only scan (5.2 ms), the
tags in use from 9.6 ms to 0.16 ms.

Revision ID: 0031_member_list_indexes
Revises: 0030_path_statistics
Create Date: 2026-12-01 02:50:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0031_member_list_indexes"
down_revision = "0030_path_statistics"
branch_labels = None
depends_on = None

LIVE = "deleted_at IS NULL"


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_index(
        "ix_members_live_status",
        "members",
        ["association_id", "status"],
        postgresql_include=["id"] if postgresql else [],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    tagged = f"{LIVE} AND tags_text <> ''"
    op.create_index(
        "ix_members_live_tags",
        "members",
        ["association_id", "tags_text"],
        sqlite_where=sa.text(tagged),
        postgresql_where=sa.text(tagged),
    )


def downgrade():
    op.drop_index("ix_members_live_tags", table_name="members")
    op.drop_index("ix_members_live_status", table_name="members")
