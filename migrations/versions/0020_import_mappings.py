"""members: import_mappings (saved column choices per association), member_imports.layout and
failed_step

Revision ID: 0020_import_mappings
Revises: 0015_subtree_figures
Create Date: 2026-11-30 17:00:00
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0020_import_mappings"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None

TABLES = ("import_mappings",)


def upgrade():
    op.create_table(
        "import_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_import_mappings_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_mappings")),
        sa.UniqueConstraint(
            "association_id", "kind", name=op.f("uq_import_mappings_association_id_kind")
        ),
    )
    with op.batch_alter_table("import_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_mappings_association_id"), ["association_id"], unique=False
        )
    with op.batch_alter_table("member_imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("layout", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("failed_step", sa.String(length=20), nullable=True))
    rls.protect_new_tables(op, TABLES, current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    with op.batch_alter_table("member_imports", schema=None) as batch_op:
        batch_op.drop_column("failed_step")
        batch_op.drop_column("layout")
    with op.batch_alter_table("import_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_mappings_association_id"))
    op.drop_table("import_mappings")
