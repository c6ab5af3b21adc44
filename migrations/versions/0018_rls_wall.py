"""row-level security: a scope the app role cannot set for itself

Revision ID: 0018_rls_wall
Revises: 0015_subtree_figures
Create Date: 2026-11-30 17:00:00

The policies read `app.bypass`, `app.scope_low/high` and `app.write_association`, which any
connection of the app role could set. They now ask SECURITY DEFINER functions owned by the
migration role, which accept a scope only when the app entered it with its key
(tenants/rls.py). This revision installs the current app's key (RLS_SCOPE_KEY, or the one derived
from SECRET_KEY); `flask rls install-key` installs another.
"""

from alembic import op
from flask import current_app
from sqlalchemy import text

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0018_rls_wall"
down_revision = "0015_subtree_figures"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in rls.WALL_SQL:
        op.execute(statement)
    op.execute(rls.rewrite_policies_sql(rls.READ_RULE, rls.WRITE_RULE))
    op.get_bind().execute(text(rls.install_key_sql()), {"key": rls.scope_key(current_app.config)})


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(rls.rewrite_policies_sql(rls.SETTINGS_READ_RULE, rls.SETTINGS_WRITE_RULE))
