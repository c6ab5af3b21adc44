"""oversight: rectification tasks (整改) with their history and evidence, spot checks (抽查)

Revision ID: 0012_oversight
Revises: 0007_events
Create Date: 2026-11-23 12:00:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0012_oversight"
down_revision = "0007_events"
branch_labels = None
depends_on = None

TABLES = (
    "rectification_tasks",
    "rectification_events",
    "rectification_evidence",
    "spot_checks",
    "spot_check_entries",
)


def upgrade():
    _create_tables()
    if op.get_bind().dialect.name == "postgresql":
        _row_level_security()


def _row_level_security():
    role = current_app.config["DATABASE_APP_ROLE"]
    for table in TABLES:
        for statement in rls.tenant_table_sql(table):
            op.execute(statement)
    for statement in rls.grant_app_role_sql(role):
        op.execute(statement)


def _create_tables():
    op.create_table(
        "spot_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("drawn_by_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=True),
        sa.Column("child_association_id", sa.Integer(), nullable=True),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("activity_ids", sa.JSON(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quarter IS NULL OR quarter BETWEEN 1 AND 4", name=op.f("ck_spot_checks_quarter")
        ),
        sa.CheckConstraint("sample_size > 0", name=op.f("ck_spot_checks_sample_size")),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_spot_checks_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["child_association_id"],
            ["associations.id"],
            name=op.f("fk_spot_checks_child_association_id_associations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["drawn_by_id"],
            ["users.id"],
            name=op.f("fk_spot_checks_drawn_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_checks")),
        sa.UniqueConstraint("association_id", "id", name=op.f("uq_spot_checks_association_id_id")),
    )
    with op.batch_alter_table("spot_checks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spot_checks_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "rectification_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "answered",
                "returned",
                "closed",
                name="taskstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_by_association_id", sa.Integer(), nullable=True),
        sa.Column("checklist_item_id", sa.Integer(), nullable=True),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "checklist_item_id"],
            ["checklist_items.association_id", "checklist_items.id"],
            name=op.f("fk_rectification_tasks_association_id_checklist_items"),
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_rectification_tasks_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_association_id"],
            ["associations.id"],
            name=op.f("fk_rectification_tasks_opened_by_association_id_associations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["users.id"],
            name=op.f("fk_rectification_tasks_opened_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_tasks")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_rectification_tasks_association_id_id")
        ),
    )
    with op.batch_alter_table("rectification_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectification_tasks_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            "ix_rectification_tasks_state_deadline_on", ["state", "deadline_on"], unique=False
        )

    op.create_table(
        "rectification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_association_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_association_id"],
            ["associations.id"],
            name=op.f("fk_rectification_events_actor_association_id_associations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_rectification_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "task_id"],
            ["rectification_tasks.association_id", "rectification_tasks.id"],
            name=op.f("fk_rectification_events_association_id_rectification_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_rectification_events_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_events")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_rectification_events_association_id_id")
        ),
    )
    with op.batch_alter_table("rectification_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectification_events_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rectification_events_task_id"), ["task_id"], unique=False
        )

    op.create_table(
        "spot_check_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("spot_check_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("activity_association_id", sa.Integer(), nullable=True),
        sa.Column(
            "verdict",
            sa.Enum("pending", "ok", "problem", name="verdict", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_association_id"],
            ["associations.id"],
            name=op.f("fk_spot_check_entries_activity_association_id_associations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "spot_check_id"],
            ["spot_checks.association_id", "spot_checks.id"],
            name=op.f("fk_spot_check_entries_association_id_spot_checks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_spot_check_entries_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["checked_by_id"],
            ["users.id"],
            name=op.f("fk_spot_check_entries_checked_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["rectification_tasks.id"],
            name=op.f("fk_spot_check_entries_task_id_rectification_tasks"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spot_check_entries")),
        sa.UniqueConstraint(
            "association_id",
            "spot_check_id",
            "position",
            name=op.f("uq_spot_check_entries_association_id_spot_check_id_position"),
        ),
    )
    with op.batch_alter_table("spot_check_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spot_check_entries_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_spot_check_entries_spot_check_id"), ["spot_check_id"], unique=False
        )

    op.create_table(
        "rectification_evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("stored_file_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "event_id"],
            ["rectification_events.association_id", "rectification_events.id"],
            name=op.f("fk_rectification_evidence_association_id_rectification_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "stored_file_id"],
            ["stored_files.association_id", "stored_files.id"],
            name=op.f("fk_rectification_evidence_association_id_stored_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "task_id"],
            ["rectification_tasks.association_id", "rectification_tasks.id"],
            name=op.f("fk_rectification_evidence_association_id_rectification_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_rectification_evidence_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rectification_evidence")),
    )
    with op.batch_alter_table("rectification_evidence", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rectification_evidence_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_rectification_evidence_task_id"), ["task_id"], unique=False
        )


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
