"""activity participants: which registered members took part in an activity

Revision ID: 0005_activity_members
Revises: 0004_activities, 0002_members
Create Date: 2026-11-23 10:00:00

"""
import sqlalchemy as sa
from alembic import op

from tenants import rls


# revision identifiers, used by Alembic.
revision = '0005_activity_members'
down_revision = ('0004_activities', '0002_members')
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('activity_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['association_id', 'activity_id'], ['activities.association_id', 'activities.id'], name=op.f('fk_activity_participants_association_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id', 'member_id'], ['members.association_id', 'members.id'], name=op.f('fk_activity_participants_association_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_activity_participants_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_participants')),
    sa.UniqueConstraint('association_id', 'activity_id', 'member_id', name=op.f('uq_activity_participants_association_id_activity_id_member_id'))
    )
    op.create_index(op.f('ix_activity_participants_activity_id'), 'activity_participants', ['activity_id'], unique=False)
    op.create_index(op.f('ix_activity_participants_association_id'), 'activity_participants', ['association_id'], unique=False)
    op.create_index(op.f('ix_activity_participants_member_id'), 'activity_participants', ['member_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        for statement in rls.tenant_table_sql("activity_participants"):
            op.execute(statement)


def downgrade():
    op.drop_index(op.f('ix_activity_participants_member_id'), table_name='activity_participants')
    op.drop_index(op.f('ix_activity_participants_association_id'), table_name='activity_participants')
    op.drop_index(op.f('ix_activity_participants_activity_id'), table_name='activity_participants')
    op.drop_table('activity_participants')
