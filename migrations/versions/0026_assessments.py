"""assessments: the yearly assessment (考核) — scoring sheets and their items (platform tables
read down the tree), each association's assessment and its items, the closings, model
associations (示范协会) and the 目标管理责任书 (tenant tables, with row-level security)

Revision ID: 0026_assessments
Revises: 0025_merge
Create Date: 2026-11-30 19:20:56
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0026_assessments"
down_revision = "0025_merge"
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "assessments",
    "assessment_entries",
    "assessment_closings",
    "model_associations",
    "responsibility_statements",
)


def upgrade():
    op.create_table(
        "assessment_closings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_assessment_closings_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["users.id"],
            name=op.f("fk_assessment_closings_closed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_closings")),
        sa.UniqueConstraint(
            "association_id",
            "year",
            "kind",
            name=op.f("uq_assessment_closings_association_id_year_kind"),
        ),
    )
    with op.batch_alter_table("assessment_closings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_closings_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "assessment_sheets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_assessment_sheets_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_assessment_sheets_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["users.id"],
            name=op.f("fk_assessment_sheets_published_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_sheets")),
        sa.UniqueConstraint(
            "association_id",
            "year",
            "kind",
            name=op.f("uq_assessment_sheets_association_id_year_kind"),
        ),
    )
    with op.batch_alter_table("assessment_sheets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_sheets_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "submitted",
                "returned",
                "scored",
                "closed",
                name="state",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("self_tenths", sa.Integer(), nullable=True),
        sa.Column("score_tenths", sa.Integer(), nullable=True),
        sa.Column("score_comment", sa.Text(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scored_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("ranked_among", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_assessments_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scored_by_id"],
            ["users.id"],
            name=op.f("fk_assessments_scored_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessments")),
        sa.UniqueConstraint("association_id", "id", name=op.f("uq_assessments_association_id_id")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_assessments_association_id_year")
        ),
    )
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessments_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "model_associations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("score_tenths", sa.Integer(), nullable=True),
        sa.Column("named_by_association_id", sa.Integer(), nullable=True),
        sa.Column("named_by_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_model_associations_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["named_by_association_id"],
            ["associations.id"],
            name=op.f("fk_model_associations_named_by_association_id_associations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["named_by_id"],
            ["users.id"],
            name=op.f("fk_model_associations_named_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_associations")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_model_associations_association_id_year")
        ),
    )
    with op.batch_alter_table("model_associations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_model_associations_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "assessment_sheet_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("points_tenths", sa.Integer(), nullable=False),
        sa.Column(
            "rule",
            sa.Enum(
                "manual",
                "qiyou",
                "active_quarters",
                "activities_year",
                "member_ratio",
                "collection_rate",
                "linkage_coverage",
                name="rule",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("guidance", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "points_tenths > 0 AND points_tenths <= 1000",
            name=op.f("ck_assessment_sheet_items_points"),
        ),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["assessment_sheets.id"],
            name=op.f("fk_assessment_sheet_items_sheet_id_assessment_sheets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_sheet_items")),
    )
    with op.batch_alter_table("assessment_sheet_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_sheet_items_sheet_id"), ["sheet_id"], unique=False
        )

    op.create_table(
        "responsibility_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("upper_signatory", sa.String(length=60), nullable=False),
        sa.Column("upper_signed_on", sa.Date(), nullable=False),
        sa.Column("own_signatory", sa.String(length=60), nullable=False),
        sa.Column("own_signed_on", sa.Date(), nullable=False),
        sa.Column("stored_file_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "stored_file_id"],
            ["stored_files.association_id", "stored_files.id"],
            name=op.f("fk_responsibility_statements_association_id_stored_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_responsibility_statements_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["users.id"],
            name=op.f("fk_responsibility_statements_recorded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responsibility_statements")),
        sa.UniqueConstraint(
            "association_id", "year", name=op.f("uq_responsibility_statements_association_id_year")
        ),
    )
    with op.batch_alter_table("responsibility_statements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_responsibility_statements_association_id"),
            ["association_id"],
            unique=False,
        )

    op.create_table(
        "assessment_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("sheet_item_id", sa.Integer(), nullable=False),
        sa.Column("claimed_tenths", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("stored_file_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("awarded_tenths", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "activity_id"],
            ["activities.association_id", "activities.id"],
            name=op.f("fk_assessment_entries_association_id_activities"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "assessment_id"],
            ["assessments.association_id", "assessments.id"],
            name=op.f("fk_assessment_entries_association_id_assessments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "stored_file_id"],
            ["stored_files.association_id", "stored_files.id"],
            name=op.f("fk_assessment_entries_association_id_stored_files"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_assessment_entries_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sheet_item_id"],
            ["assessment_sheet_items.id"],
            name=op.f("fk_assessment_entries_sheet_item_id_assessment_sheet_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_entries")),
        sa.UniqueConstraint(
            "association_id",
            "assessment_id",
            "sheet_item_id",
            name=op.f("uq_assessment_entries_association_id_assessment_id_sheet_item_id"),
        ),
    )
    with op.batch_alter_table("assessment_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assessment_entries_assessment_id"), ["assessment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assessment_entries_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_assessment_entries_sheet_item_id"), ["sheet_item_id"], unique=False
        )

    rls.protect_new_tables(op, TENANT_TABLES, current_app.config["DATABASE_APP_ROLE"])


def downgrade():
    with op.batch_alter_table("assessment_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_entries_sheet_item_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_entries_association_id"))
        batch_op.drop_index(batch_op.f("ix_assessment_entries_assessment_id"))

    op.drop_table("assessment_entries")
    with op.batch_alter_table("responsibility_statements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_responsibility_statements_association_id"))

    op.drop_table("responsibility_statements")
    with op.batch_alter_table("assessment_sheet_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_sheet_items_sheet_id"))

    op.drop_table("assessment_sheet_items")
    with op.batch_alter_table("model_associations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_model_associations_association_id"))

    op.drop_table("model_associations")
    with op.batch_alter_table("assessments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessments_association_id"))

    op.drop_table("assessments")
    with op.batch_alter_table("assessment_sheets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_sheets_association_id"))

    op.drop_table("assessment_sheets")
    with op.batch_alter_table("assessment_closings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessment_closings_association_id"))

    op.drop_table("assessment_closings")
