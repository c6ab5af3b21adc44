"""onboarding: population history and association settings

Revision ID: 0003_onboarding
Revises: 0001
Create Date: 2026-11-23 12:00:00

"""
import sqlalchemy as sa
from alembic import op

from tenants import rls


# revision identifiers, used by Alembic.
revision = '0003_onboarding'
down_revision = '0001'
branch_labels = None
depends_on = None

TENANT_TABLES = ("population_records", "association_settings")


def upgrade():
    op.create_table('population_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('from_year', sa.Integer(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('population > 0', name=op.f('ck_population_records_population')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_population_records_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_population_records_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_population_records')),
    sa.UniqueConstraint('association_id', 'from_year', name=op.f('uq_population_records_association_id_from_year'))
    )
    with op.batch_alter_table('population_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_population_records_association_id'), ['association_id'], unique=False)

    op.create_table('association_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_email', sa.String(length=120), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_association_settings_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_association_settings')),
    sa.UniqueConstraint('association_id', name=op.f('uq_association_settings_association_id'))
    )
    with op.batch_alter_table('association_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_association_settings_association_id'), ['association_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            for statement in rls.tenant_table_sql(table):
                op.execute(statement)


def downgrade():
    with op.batch_alter_table('association_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_association_settings_association_id'))
    op.drop_table('association_settings')
    with op.batch_alter_table('population_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_population_records_association_id'))
    op.drop_table('population_records')
