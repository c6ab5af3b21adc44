"""reports: report_forms (a level's statistics forms, a platform table read down the tree)
and reports (each association's filings, one row per version; a tenant table)

Revision ID: 0026_reports_forms
Revises: 0025_merge
Create Date: 2026-11-30 19:40:00
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0026_reports_forms"
down_revision = "0025_merge"
branch_labels = None
depends_on = None

TABLES = ("reports",)


def upgrade():
    op.create_table(
        "report_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column(
            "period_kind",
            sa.Enum("month", "quarter", "year", name="periodkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("period_number", sa.Integer(), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("reused_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_report_forms_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_report_forms_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reused_from_id"],
            ["report_forms.id"],
            name=op.f("fk_report_forms_reused_from_id_report_forms"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_forms")),
    )
    op.create_index(
        "ix_report_forms_association_id_year", "report_forms", ["association_id", "year"]
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "returned",
                "accepted",
                "superseded",
                name="reportstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("figures_source", sa.String(length=12), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("incomplete_reason", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_reports_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["form_id"],
            ["report_forms.id"],
            name=op.f("fk_reports_form_id_report_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_reports_submitted_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_reports_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint(
            "association_id",
            "form_id",
            "version",
            name=op.f("uq_reports_association_id_form_id_version"),
        ),
    )
    op.create_index(op.f("ix_reports_association_id"), "reports", ["association_id"])
    op.create_index("ix_reports_form_id_state", "reports", ["form_id", "state"])
    rls.protect_new_tables(op, TABLES, current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    op.drop_index("ix_reports_form_id_state", table_name="reports")
    op.drop_index(op.f("ix_reports_association_id"), table_name="reports")
    op.drop_table("reports")
    op.drop_index("ix_report_forms_association_id_year", table_name="report_forms")
    op.drop_table("report_forms")
