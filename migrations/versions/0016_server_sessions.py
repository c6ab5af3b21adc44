"""accounts: server-side sessions (flask_sessions), session records (user_sessions); the per-user
session version goes

Revision ID: 0016_server_sessions
Revises: 0015_subtree_figures
Create Date: 2026-11-30 17:00:00

Neither table is tenant-owned (no row-level security); both are granted to the app role, which
may not create tables: Flask-Session must never create its table at run time.
Every browser is signed out once by this upgrade (its signed cookie names no stored session).
"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0016_server_sessions"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "flask_sessions",
        sa.Column("session_id", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_flask_sessions")),
    )
    with op.batch_alter_table("flask_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flask_sessions_expires_at"), ["expires_at"])
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=43), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("staff", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"])
    # Session records replace the per-user version number. SQLite drops the column in place
    # (3.35+): a batch copy of `users` would have to drop a table other tables refer to.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE users DROP COLUMN session_version")
    else:
        op.drop_column("users", "session_version")
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.grant_app_role_sql(current_app.config["DATABASE_APP_ROLE"]):
            op.execute(statement)


def downgrade():
    op.add_column(
        "users",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_sessions_user_id"))
    op.drop_table("user_sessions")
    with op.batch_alter_table("flask_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flask_sessions_expires_at"))
    op.drop_table("flask_sessions")
