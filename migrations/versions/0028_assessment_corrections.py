"""assessment deadlines and corrections: the self-assessment's due date on a scoring sheet and
when its reminders went out; when a report form's reminders went out; the reopenings of a
closed assessment (a tenant table of the reopening level, with row-level security)

Revision ID: 0028_assessment_corrections
Revises: 0027_merge
Create Date: 2026-11-30 23:05:00
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0028_assessment_corrections"
down_revision = "0027_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assessment_sheets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("due_soon_sent_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("overdue_sent_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("report_forms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_soon_sent_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("overdue_sent_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "assessment_reopenings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reopened_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_assessment_reopenings_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reopened_by_id"],
            ["users.id"],
            name=op.f("fk_assessment_reopenings_reopened_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_reopenings")),
    )
    with op.batch_alter_table("assessment_reopenings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_reopenings_association_id"), ["association_id"], unique=False
        )
    rls.protect_new_tables(op, ("assessment_reopenings",), current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    with op.batch_alter_table("assessment_reopenings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_reopenings_association_id"))
    op.drop_table("assessment_reopenings")
    with op.batch_alter_table("report_forms", schema=None) as batch_op:
        batch_op.drop_column("overdue_sent_at")
        batch_op.drop_column("due_soon_sent_at")
    with op.batch_alter_table("assessment_sheets", schema=None) as batch_op:
        batch_op.drop_column("overdue_sent_at")
        batch_op.drop_column("due_soon_sent_at")
        batch_op.drop_column("due_on")
