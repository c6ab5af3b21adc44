"""members: household_move_requests, a member's request to move household, decided by the
secretary or staff

Revision ID: 0019_household_moves
Revises: 0015_subtree_figures
Create Date: 2026-11-30 17:30:00
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0019_household_moves"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None

TABLE = "household_move_requests"


def upgrade():
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("from_address", sa.String(length=200), nullable=False),
        sa.Column("new_address", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "approved",
                "declined",
                name="moverequeststatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("moved_to_address", sa.String(length=200), nullable=False),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "member_id"],
            ["members.association_id", "members.id"],
            name="fk_household_move_requests_member",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_household_move_requests_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["users.id"],
            name=op.f("fk_household_move_requests_requested_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_household_move_requests_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_move_requests")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_household_move_requests_association_id"),
            ["association_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_household_move_requests_status",
            ["association_id", "status", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_household_move_requests_pending",
            ["association_id", "member_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
    rls.protect_new_tables(op, (TABLE,), current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.drop_index("uq_household_move_requests_pending")
        batch_op.drop_index("ix_household_move_requests_status")
        batch_op.drop_index(batch_op.f("ix_household_move_requests_association_id"))
    op.drop_table(TABLE)
