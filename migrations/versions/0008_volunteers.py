"""volunteers: profiles, teams, shifts with sign-ups and hours, reminders sent

Revision ID: 0008_volunteers
Revises: 0007_events
Create Date: 2026-11-23 11:40:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0008_volunteers"
down_revision = "0007_events"
branch_labels = None
depends_on = None

TABLES = (
    "volunteers",
    "volunteer_teams",
    "volunteer_team_members",
    "volunteer_shifts",
    "volunteer_assignments",
    "event_reminders",
    "volunteer_settings",
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
        "volunteers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone_encrypted", sa.Text(), nullable=True),
        sa.Column("phone_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_masked", sa.String(length=11), nullable=True),
        sa.Column("skills", sa.String(length=400), nullable=False),
        sa.Column("availability", sa.String(length=400), nullable=False),
        sa.Column("weekdays_text", sa.String(length=40), nullable=False),
        sa.Column("times_text", sa.String(length=60), nullable=False),
        sa.Column("tags_text", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "member_id"],
            ["members.association_id", "members.id"],
            name="fk_volunteers_member",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_volunteers_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteers")),
        sa.UniqueConstraint("association_id", "id", name=op.f("uq_volunteers_association_id_id")),
        sa.UniqueConstraint(
            "association_id", "member_id", name=op.f("uq_volunteers_association_id_member_id")
        ),
    )
    with op.batch_alter_table("volunteers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteers_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            "ix_volunteers_association_name", ["association_id", "name"], unique=False
        )

    op.create_table(
        "volunteer_teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("duties", sa.Text(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_volunteer_teams_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_teams")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_volunteer_teams_association_id_id")
        ),
        sa.UniqueConstraint(
            "association_id", "name", name=op.f("uq_volunteer_teams_association_id_name")
        ),
    )
    with op.batch_alter_table("volunteer_teams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteer_teams_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "volunteer_team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column("duty", sa.String(length=200), nullable=False),
        sa.Column("is_leader", sa.Boolean(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id", "team_id"],
            ["volunteer_teams.association_id", "volunteer_teams.id"],
            name="fk_volunteer_team_members_team",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "volunteer_id"],
            ["volunteers.association_id", "volunteers.id"],
            name="fk_volunteer_team_members_volunteer",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_volunteer_team_members_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_team_members")),
        sa.UniqueConstraint(
            "association_id",
            "team_id",
            "volunteer_id",
            name=op.f("uq_volunteer_team_members_association_id_team_id_volunteer_id"),
        ),
    )
    with op.batch_alter_table("volunteer_team_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteer_team_members_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_volunteer_team_members_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_volunteer_team_members_volunteer_id"), ["volunteer_id"], unique=False
        )

    op.create_table(
        "volunteer_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column("people_needed", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_volunteer_shifts_ends_after_start")
        ),
        sa.CheckConstraint("people_needed > 0", name=op.f("ck_volunteer_shifts_people_needed")),
        sa.ForeignKeyConstraint(
            ["association_id", "event_id"],
            ["events.association_id", "events.id"],
            name="fk_volunteer_shifts_event",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "team_id"],
            ["volunteer_teams.association_id", "volunteer_teams.id"],
            name="fk_volunteer_shifts_team",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_volunteer_shifts_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_volunteer_shifts_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_shifts")),
        sa.UniqueConstraint(
            "association_id", "id", name=op.f("uq_volunteer_shifts_association_id_id")
        ),
    )
    with op.batch_alter_table("volunteer_shifts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteer_shifts_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_shifts_association_starts_at",
            ["association_id", "starts_at"],
            unique=False,
        )

    op.create_table(
        "volunteer_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "signed_up", "cancelled", name="assignmentstatus", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("assigned_by_id", sa.Integer(), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=True),
        sa.Column("served_on", sa.Date(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "minutes IS NULL OR minutes > 0", name=op.f("ck_volunteer_assignments_minutes_positive")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["users.id"],
            name=op.f("fk_volunteer_assignments_assigned_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "shift_id"],
            ["volunteer_shifts.association_id", "volunteer_shifts.id"],
            name="fk_volunteer_assignments_shift",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id", "volunteer_id"],
            ["volunteers.association_id", "volunteers.id"],
            name="fk_volunteer_assignments_volunteer",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_volunteer_assignments_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["users.id"],
            name=op.f("fk_volunteer_assignments_confirmed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_assignments")),
        sa.UniqueConstraint(
            "association_id",
            "shift_id",
            "volunteer_id",
            name=op.f("uq_volunteer_assignments_association_id_shift_id_volunteer_id"),
        ),
    )
    with op.batch_alter_table("volunteer_assignments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteer_assignments_association_id"), ["association_id"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_assignments_association_served",
            ["association_id", "served_on"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_volunteer_assignments_shift_id"), ["shift_id"], unique=False
        )
        batch_op.create_index(
            "ix_volunteer_assignments_shift_status", ["shift_id", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_volunteer_assignments_volunteer_id"), ["volunteer_id"], unique=False
        )

    op.create_table(
        "event_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_event_reminders_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["event_registrations.id"],
            name=op.f("fk_event_reminders_registration_id_event_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_reminders")),
        sa.UniqueConstraint(
            "association_id",
            "registration_id",
            name=op.f("uq_event_reminders_association_id_registration_id"),
        ),
    )
    with op.batch_alter_table("event_reminders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_reminders_association_id"), ["association_id"], unique=False
        )

    op.create_table(
        "volunteer_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ranking_visible_to_members", sa.Boolean(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_volunteer_settings_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_settings")),
        sa.UniqueConstraint("association_id", name=op.f("uq_volunteer_settings_association_id")),
    )
    with op.batch_alter_table("volunteer_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_volunteer_settings_association_id"), ["association_id"], unique=False
        )


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
