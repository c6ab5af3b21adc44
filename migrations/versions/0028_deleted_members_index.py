"""members: a partial index of the deleted members, which every list of what hangs off a member
(sign-ups, charges, hours …) leaves out while they can be restored

Revision ID: 0028_deleted_members_index
Revises: 0027_merge
Create Date: 2026-11-30 23:00:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028_deleted_members_index"
down_revision = "0027_merge"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_members_deleted",
        "members",
        ["id"],
        sqlite_where=sa.text("deleted_at IS NOT NULL"),
        postgresql_where=sa.text("deleted_at IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_members_deleted", table_name="members")
