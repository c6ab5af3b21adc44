"""governance: the yearly plan (承诺), its commitments, progress notes, planned activities, the
level above's comments (监督) and the residents' evaluation (评议) with one-time codes

Revision ID: 0022_governance
Revises: 0015_subtree_figures
Create Date: 2026-11-30 17:00:00
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from app.core.models import UTCDateTime
from tenants import rls

# revision identifiers, used by Alembic.
revision = "0022_governance"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None

TABLES = (
    "year_plans",
    "plan_commitments",
    "planned_activities",
    "commitment_updates",
    "supervision_comments",
    "surveys",
    "survey_codes",
    "survey_responses",
    "year_reports",
    "survey_phones",
)


def _tenant_columns():
    return [
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    ]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["association_id"],
        ["associations.id"],
        name=op.f(f"fk_{table}_association_id_associations"),
        ondelete="CASCADE",
    )


def upgrade():
    op.create_table(
        "year_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column(
            "approved_by",
            sa.Enum(
                "members_meeting",
                "committee",
                name="approvingbody",
                native_enum=False,
                length=20,
            ),
            nullable=True,
        ),
        sa.Column("attendance", sa.Integer(), nullable=True),
        sa.Column("minutes_file_id", sa.Integer(), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("show_activities", sa.Boolean(), nullable=False),
        sa.Column("show_dues", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        *_tenant_columns(),
        sa.CheckConstraint(
            "attendance IS NULL OR attendance >= 0", name=op.f("ck_year_plans_attendance")
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "minutes_file_id"],
            ["stored_files.association_id", "stored_files.id"],
            name=op.f("fk_year_plans_association_id_stored_files"),
            deferrable=True,
            initially="DEFERRED",
        ),
        _tenant_fk("year_plans"),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_year_plans_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_plans")),
        sa.UniqueConstraint("association_id", "id", name=op.f("uq_year_plans_association_id_id")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_year_plans_association_id_year")
        ),
    )
    op.create_index(op.f("ix_year_plans_association_id"), "year_plans", ["association_id"])

    op.create_table(
        "plan_commitments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column(
            "measure",
            sa.Enum(
                "members",
                "activities",
                "member_ratio",
                "linkage_coverage",
                "collection_rate",
                "volunteer_hours",
                "manual",
                name="measure",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("due_quarter", sa.Integer(), nullable=False),
        *_tenant_columns(),
        sa.CheckConstraint(
            "due_quarter BETWEEN 1 AND 4", name=op.f("ck_plan_commitments_due_quarter")
        ),
        sa.CheckConstraint("target >= 0", name=op.f("ck_plan_commitments_target")),
        sa.ForeignKeyConstraint(
            ["association_id", "plan_id"],
            ["year_plans.association_id", "year_plans.id"],
            name=op.f("fk_plan_commitments_association_id_year_plans"),
            ondelete="CASCADE",
        ),
        _tenant_fk("plan_commitments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_commitments")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_plan_commitments_association_id_id")
        ),
    )
    op.create_index(
        op.f("ix_plan_commitments_association_id"), "plan_commitments", ["association_id"]
    )
    op.create_index(op.f("ix_plan_commitments_plan_id"), "plan_commitments", ["plan_id"])

    op.create_table(
        "planned_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        *_tenant_columns(),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_planned_activities_month")),
        sa.ForeignKeyConstraint(
            ["association_id", "plan_id"],
            ["year_plans.association_id", "year_plans.id"],
            name=op.f("fk_planned_activities_association_id_year_plans"),
            ondelete="CASCADE",
        ),
        _tenant_fk("planned_activities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_activities")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_planned_activities_association_id_id")
        ),
    )
    op.create_index(
        op.f("ix_planned_activities_association_id"), "planned_activities", ["association_id"]
    )
    op.create_index(op.f("ix_planned_activities_plan_id"), "planned_activities", ["plan_id"])

    op.create_table(
        "commitment_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commitment_id", sa.Integer(), nullable=False),
        sa.Column("noted_on", sa.Date(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("evidence_file_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        *_tenant_columns(),
        sa.CheckConstraint("value IS NULL OR value >= 0", name=op.f("ck_commitment_updates_value")),
        sa.ForeignKeyConstraint(
            ["association_id", "commitment_id"],
            ["plan_commitments.association_id", "plan_commitments.id"],
            name=op.f("fk_commitment_updates_association_id_plan_commitments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "evidence_file_id"],
            ["stored_files.association_id", "stored_files.id"],
            name=op.f("fk_commitment_updates_association_id_stored_files"),
            deferrable=True,
            initially="DEFERRED",
        ),
        _tenant_fk("commitment_updates"),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_commitment_updates_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_updates")),
    )
    op.create_index(
        op.f("ix_commitment_updates_association_id"), "commitment_updates", ["association_id"]
    )
    op.create_index(
        op.f("ix_commitment_updates_commitment_id"), "commitment_updates", ["commitment_id"]
    )
    _evaluation_tables()
    rls.protect_new_tables(op, TABLES, current_app.config["DATABASE_APP_ROLE"])


def _evaluation_tables():
    op.create_table(
        "supervision_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_association_id", sa.Integer(), nullable=True),
        *_tenant_columns(),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_supervision_comments_year")),
        _tenant_fk("supervision_comments"),
        sa.ForeignKeyConstraint(
            ["author_association_id"],
            ["associations.id"],
            name=op.f("fk_supervision_comments_author_association_id_associations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_supervision_comments_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_comments")),
    )
    op.create_index(
        op.f("ix_supervision_comments_association_id"), "supervision_comments", ["association_id"]
    )
    op.create_index(op.f("ix_supervision_comments_year"), "supervision_comments", ["year"])

    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("target_percent", sa.Integer(), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("codes_issued", sa.Integer(), nullable=False),
        sa.Column("burst_flagged_on", sa.Date(), nullable=True),
        *_tenant_columns(),
        sa.CheckConstraint(
            "target_percent BETWEEN 1 AND 100", name=op.f("ck_surveys_target_percent")
        ),
        _tenant_fk("surveys"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("association_id", "id", name=op.f("uq_surveys_association_id_id")),
        sa.UniqueConstraint("association_id", "year", name=op.f("uq_surveys_association_id_year")),
    )
    op.create_index(op.f("ix_surveys_association_id"), "surveys", ["association_id"])

    op.create_table(
        "survey_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "survey_id"],
            ["surveys.association_id", "surveys.id"],
            name=op.f("fk_survey_codes_association_id_surveys"),
            ondelete="CASCADE",
        ),
        _tenant_fk("survey_codes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_codes")),
        sa.UniqueConstraint(
            "association_id", "code_hash", name=op.f("uq_survey_codes_association_id_code_hash")
        ),
    )
    op.create_index(op.f("ix_survey_codes_association_id"), "survey_codes", ["association_id"])
    op.create_index(op.f("ix_survey_codes_survey_id"), "survey_codes", ["survey_id"])

    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("overall", sa.Integer(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column(
            "comment_state",
            sa.Enum(
                "pending",
                "published",
                "hidden",
                name="commentstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.CheckConstraint("overall BETWEEN 1 AND 5", name=op.f("ck_survey_responses_overall")),
        sa.ForeignKeyConstraint(
            ["association_id", "survey_id"],
            ["surveys.association_id", "surveys.id"],
            name=op.f("fk_survey_responses_association_id_surveys"),
            ondelete="CASCADE",
        ),
        _tenant_fk("survey_responses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_survey_responses_association_id_id")
        ),
    )
    op.create_index(
        op.f("ix_survey_responses_association_id"), "survey_responses", ["association_id"]
    )
    op.create_index(op.f("ix_survey_responses_survey_id"), "survey_responses", ["survey_id"])

    op.create_table(
        "year_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("frozen", sa.JSON(), nullable=True),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        *_tenant_columns(),
        sa.CheckConstraint("year BETWEEN 2000 AND 2100", name=op.f("ck_year_reports_year")),
        _tenant_fk("year_reports"),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_year_reports_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_year_reports")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_year_reports_association_id_year")
        ),
    )
    op.create_index(op.f("ix_year_reports_association_id"), "year_reports", ["association_id"])

    op.create_table(
        "survey_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("survey_id", sa.Integer(), nullable=False),
        sa.Column("phone_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "survey_id"],
            ["surveys.association_id", "surveys.id"],
            name=op.f("fk_survey_phones_association_id_surveys"),
            ondelete="CASCADE",
        ),
        _tenant_fk("survey_phones"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_phones")),
        sa.UniqueConstraint(
            "association_id",
            "survey_id",
            "phone_hash",
            name=op.f("uq_survey_phones_association_id_survey_id_phone_hash"),
        ),
    )
    op.create_index(op.f("ix_survey_phones_association_id"), "survey_phones", ["association_id"])
    op.create_index(op.f("ix_survey_phones_survey_id"), "survey_phones", ["survey_id"])


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
