"""activities + governance + SMS: activity photos marked public (when, by whom, on what basis)

Revision ID: 0026_govsms
Revises: 0025_merge
Create Date: 2026-11-30 19:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_govsms"
down_revision = "0025_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activity_photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("public_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("public_basis", sa.String(length=20), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_activity_photos_public_by_id_users"),
            "users",
            ["public_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("activity_photos", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_activity_photos_public_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("public_basis")
        batch_op.drop_column("public_by_id")
        batch_op.drop_column("public_at")
