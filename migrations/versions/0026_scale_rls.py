"""row-level security whose cost does not grow with the viewer's subtree, and scopes that a
read-only transaction (a hot standby) can enter

Revision ID: 0026_scale_rls
Revises: 0025_merge
Create Date: 2026-11-30 19:40:00

The read policy built the set of the viewer's subtree ids for every statement (21,622 ids at a
province, a million at the national root); it now lets a row through on the scope's own
association without a lookup, and otherwise probes the row's association by primary key and
compares its path with the scope's (tenants/rls.py: READ_RULE). Entering a scope took nextval()
of a private sequence, which a hot standby and a read-only transaction refuse: a read-only
transaction now enters one scope only and needs no serial, so a replica can serve reads under
the same wall.
"""

from alembic import op

from tenants import rls

# revision identifiers, used by Alembic.
revision = "0026_scale_rls"
down_revision = "0025_merge"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in rls.WALL_SQL:
        op.execute(statement)
    op.execute(rls.rewrite_policies_sql(rls.READ_RULE, rls.WRITE_RULE))


def downgrade():
    # The functions stay: the earlier rule calls the same readers, and the earlier app enters
    # scopes through the same xiehui_enter_scope.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(rls.rewrite_policies_sql(rls.SUBTREE_SET_READ_RULE, rls.WRITE_RULE))
