"""users.roles_stamp: a random value renewed by every committed change to the user's roles, the
key under which each worker keeps her access per association (tenants/access.py)

Existing rows get a random stamp each. A platform table: nothing to grant.

Revision ID: 0036_roles_stamp
Revises: 0035_register_stamp
Create Date: 2026-12-01 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0036_roles_stamp"
down_revision = "0035_register_stamp"
branch_labels = None
depends_on = None

RANDOM_HEX = {
    "postgresql": "md5(random()::text || clock_timestamp()::text || id::text)",
    "sqlite": "lower(hex(randomblob(16)))",
}


def upgrade():
    op.add_column("users", sa.Column("roles_stamp", sa.String(32), nullable=True))
    random_hex = RANDOM_HEX[op.get_bind().dialect.name]
    op.execute(f"UPDATE users SET roles_stamp = {random_hex}")  # noqa: S608 - constant


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("roles_stamp")
