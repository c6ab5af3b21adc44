"""associations.register_stamp: a random value renewed by every committed change to the
association's register, the key under which each worker keeps the figures above the member
list (app/members/register_figures.py)

Existing rows get a random stamp each. A platform table: nothing to grant.

Revision ID: 0035_register_stamp
Revises: 0034_queue_changed_from
Create Date: 2026-12-01 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0035_register_stamp"
down_revision = "0034_queue_changed_from"
branch_labels = None
depends_on = None

RANDOM_HEX = {
    "postgresql": "md5(random()::text || clock_timestamp()::text || id::text)",
    "sqlite": "lower(hex(randomblob(16)))",
}


def upgrade():
    op.add_column("associations", sa.Column("register_stamp", sa.String(32), nullable=True))
    random_hex = RANDOM_HEX[op.get_bind().dialect.name]
    op.execute(f"UPDATE associations SET register_stamp = {random_hex}")  # noqa: S608 - constant


def downgrade():
    with op.batch_alter_table("associations") as batch:
        batch.drop_column("register_stamp")
