"""members and households: deleted_at (restorable for 30 days by the secretary, then purged),
households.restore_links (the links a household's deletion undid)

Revision ID: 0026_undo_deletes
Revises: 0025_merge
Create Date: 2026-11-30 19:40:00
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_undo_deletes"
down_revision = "0025_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("restore_links", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_column("restore_links")
        batch_op.drop_column("deleted_at")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
