"""members: member and household registers, 中心户/联户 linkage, visit logs, imports

Revision ID: 0002_members
Revises: 0001
Create Date: 2026-11-23 12:00:00

"""
import sqlalchemy as sa
from alembic import op
from flask import current_app

from tenants import rls


# revision identifiers, used by Alembic.
revision = '0002_members'
down_revision = '0001'
branch_labels = None
depends_on = None

TABLES = (
    "households",
    "members",
    "central_household_visits",
    "register_settings",
    "member_imports",
    "member_import_rows",
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
    # Tables created after 0001: make sure the app role may use them (default privileges cover
    # tables created by the same owner; this also covers other owners).
    for statement in rls.grant_app_role_sql(role):
        op.execute(statement)


def _create_tables():
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('grid', sa.String(length=60), nullable=True),
    sa.Column('building', sa.String(length=60), nullable=True),
    sa.Column('unit', sa.String(length=60), nullable=True),
    sa.Column('is_central', sa.Boolean(), nullable=False),
    sa.Column('central_household_id', sa.Integer(), nullable=True),
    sa.Column('central_link', sa.Boolean(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(central_household_id IS NULL AND central_link IS NULL) OR (central_household_id IS NOT NULL AND central_link = true)', name=op.f('ck_households_central_link')),
    sa.CheckConstraint('NOT (is_central = true AND central_household_id IS NOT NULL)', name=op.f('ck_households_central_not_linked')),
    sa.ForeignKeyConstraint(['association_id', 'central_household_id', 'central_link'], ['households.association_id', 'households.id', 'households.is_central'], name='fk_households_central_household'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_households_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('association_id', 'id', 'is_central', name='uq_households_central_target'),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_households_association_id_id'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index('ix_households_association_address', ['association_id', 'address'], unique=False)
        batch_op.create_index('ix_households_association_central', ['association_id', 'central_household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_association_id'), ['association_id'], unique=False)

    op.create_table('member_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=True),
    sa.Column('status', sa.Enum('mapping', 'validating', 'validated', 'importing', 'done', 'failed', 'cancelled', name='importstatus', native_enum=False, length=20), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('samples', sa.JSON(), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), nullable=False),
    sa.Column('valid_rows', sa.Integer(), nullable=False),
    sa.Column('rejected_rows', sa.Integer(), nullable=False),
    sa.Column('imported_rows', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_member_imports_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_member_imports_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_imports')),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_member_imports_association_id_id'))
    )
    with op.batch_alter_table('member_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_imports_association_id'), ['association_id'], unique=False)

    op.create_table('register_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('linked_household_limit', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('linked_household_limit BETWEEN 1 AND 50', name=op.f('ck_register_settings_limit_range')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_register_settings_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_register_settings')),
    sa.UniqueConstraint('association_id', name=op.f('uq_register_settings_association_id'))
    )
    with op.batch_alter_table('register_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_register_settings_association_id'), ['association_id'], unique=False)

    op.create_table('central_household_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('central_household_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('visited_household_ids', sa.JSON(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id', 'central_household_id'], ['households.association_id', 'households.id'], name='fk_central_household_visits_household', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_central_household_visits_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_central_household_visits_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_central_household_visits')),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_central_household_visits_association_id_id'))
    )
    with op.batch_alter_table('central_household_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_central_household_visits_association_id'), ['association_id'], unique=False)
        batch_op.create_index('ix_visits_central', ['association_id', 'central_household_id', 'visited_on'], unique=False)

    op.create_table('member_import_rows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('values_encrypted', sa.Text(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['association_id', 'import_id'], ['member_imports.association_id', 'member_imports.id'], name='fk_member_import_rows_import', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_member_import_rows_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_import_rows')),
    sa.UniqueConstraint('association_id', 'import_id', 'row_number', name=op.f('uq_member_import_rows_association_id_import_id_row_number'))
    )
    with op.batch_alter_table('member_import_rows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_import_rows_association_id'), ['association_id'], unique=False)
        batch_op.create_index('ix_member_import_rows_problems', ['association_id', 'import_id', 'valid'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('name_initials', sa.String(length=60), nullable=False),
    sa.Column('gender', sa.Enum('female', 'male', name='gender', native_enum=False, length=20), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('id_number_encrypted', sa.Text(), nullable=True),
    sa.Column('id_number_hash', sa.String(length=64), nullable=True),
    sa.Column('id_number_masked', sa.String(length=18), nullable=True),
    sa.Column('phone_encrypted', sa.Text(), nullable=True),
    sa.Column('phone_hash', sa.String(length=64), nullable=True),
    sa.Column('phone_masked', sa.String(length=11), nullable=True),
    sa.Column('phone_tail', sa.String(length=4), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('joined_on', sa.Date(), nullable=True),
    sa.Column('status', sa.Enum('active', 'lapsed', 'left', 'deceased', name='memberstatus', native_enum=False, length=20), nullable=False),
    sa.Column('status_on', sa.Date(), nullable=True),
    sa.Column('tags_text', sa.String(length=400), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id', 'household_id'], ['households.association_id', 'households.id'], name='fk_members_household'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_members_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_members_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_members_association_id_id')),
    sa.UniqueConstraint('association_id', 'id_number_hash', name=op.f('uq_members_association_id_id_number_hash')),
    sa.UniqueConstraint('association_id', 'phone_hash', name=op.f('uq_members_association_id_phone_hash')),
    sa.UniqueConstraint('association_id', 'user_id', name=op.f('uq_members_association_id_user_id'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_members_association_id'), ['association_id'], unique=False)
        batch_op.create_index('ix_members_association_initials', ['association_id', 'name_initials'], unique=False)
        batch_op.create_index('ix_members_association_name', ['association_id', 'name'], unique=False)
        batch_op.create_index('ix_members_association_phone_tail', ['association_id', 'phone_tail'], unique=False)
        batch_op.create_index('ix_members_association_status', ['association_id', 'status'], unique=False)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
