"""activities, photos, hardship aid, stored files and the 七有 checklist

Revision ID: 0004_activities
Revises: 0001
Create Date: 2026-11-23 09:40:00

"""
import sqlalchemy as sa
from alembic import op

from tenants import rls


# revision identifiers, used by Alembic.
revision = '0004_activities'
down_revision = '0001'
branch_labels = None
depends_on = None

TENANT_TABLES = (
    "stored_files",
    "activities",
    "activity_photos",
    "hardship_aid",
    "checklists",
    "checklist_items",
    "checklist_evidence",
    "checklist_events",
)


def upgrade():
    op.create_table('activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('type', sa.Enum('publicity', 'service', 'training', 'performance', 'hardship_visit', 'free_clinic', 'member_day', 'other', name='activitytype', native_enum=False, length=20), nullable=False),
    sa.Column('place', sa.String(length=120), nullable=False),
    sa.Column('organiser', sa.String(length=60), nullable=False),
    sa.Column('participant_count', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('participant_count >= 0', name=op.f('ck_activities_participant_count')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_activities_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_activities_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activities')),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_activities_association_id_id'))
    )
    op.create_index(op.f('ix_activities_association_id'), 'activities', ['association_id'], unique=False)
    op.create_index('ix_activities_association_id_held_on', 'activities', ['association_id', 'held_on'], unique=False)
    op.create_table('checklists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_checklists_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklists')),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_checklists_association_id_id')),
    sa.UniqueConstraint('association_id', 'year', name=op.f('uq_checklists_association_id_year'))
    )
    op.create_index(op.f('ix_checklists_association_id'), 'checklists', ['association_id'], unique=False)
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('original_name', sa.String(length=160), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=200), nullable=True),
    sa.Column('width', sa.Integer(), nullable=True),
    sa.Column('height', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_stored_files_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_stored_files_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_stored_files_association_id_id')),
    sa.UniqueConstraint('association_id', 'storage_key', name=op.f('uq_stored_files_association_id_storage_key'))
    )
    op.create_index(op.f('ix_stored_files_association_id'), 'stored_files', ['association_id'], unique=False)
    op.create_table('activity_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('stored_file_id', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id', 'activity_id'], ['activities.association_id', 'activities.id'], name=op.f('fk_activity_photos_association_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id', 'stored_file_id'], ['stored_files.association_id', 'stored_files.id'], name=op.f('fk_activity_photos_association_id_stored_files'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_activity_photos_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_activity_photos')),
    sa.UniqueConstraint('association_id', 'stored_file_id', name=op.f('uq_activity_photos_association_id_stored_file_id'))
    )
    op.create_index(op.f('ix_activity_photos_activity_id'), 'activity_photos', ['activity_id'], unique=False)
    op.create_index(op.f('ix_activity_photos_association_id'), 'activity_photos', ['association_id'], unique=False)
    op.create_table('checklist_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checklist_id', sa.Integer(), nullable=False),
    sa.Column('item_number', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_association_id', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_association_id'], ['associations.id'], name=op.f('fk_checklist_events_actor_association_id_associations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_checklist_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['association_id', 'checklist_id'], ['checklists.association_id', 'checklists.id'], name=op.f('fk_checklist_events_association_id_checklists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_checklist_events_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_events'))
    )
    op.create_index(op.f('ix_checklist_events_association_id'), 'checklist_events', ['association_id'], unique=False)
    op.create_index(op.f('ix_checklist_events_checklist_id'), 'checklist_events', ['checklist_id'], unique=False)
    op.create_table('checklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checklist_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', 'accepted', 'returned', 'withdrawn', name='itemstate', native_enum=False, length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('submitted_figure', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('review_comment', sa.Text(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('number BETWEEN 1 AND 7', name=op.f('ck_checklist_items_number')),
    sa.ForeignKeyConstraint(['association_id', 'checklist_id'], ['checklists.association_id', 'checklists.id'], name=op.f('fk_checklist_items_association_id_checklists'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_checklist_items_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_checklist_items_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_items')),
    sa.UniqueConstraint('association_id', 'checklist_id', 'number', name=op.f('uq_checklist_items_association_id_checklist_id_number')),
    sa.UniqueConstraint('association_id', 'id', name=op.f('uq_checklist_items_association_id_id'))
    )
    op.create_index(op.f('ix_checklist_items_association_id'), 'checklist_items', ['association_id'], unique=False)
    op.create_index(op.f('ix_checklist_items_checklist_id'), 'checklist_items', ['checklist_id'], unique=False)
    op.create_table('hardship_aid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('activity_id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.Enum('cash', 'rice', 'oil', 'goods', 'other', name='aidkind', native_enum=False, length=20), nullable=False),
    sa.Column('quantity', sa.String(length=30), nullable=False),
    sa.Column('value_fen', sa.Integer(), nullable=False),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('value_fen >= 0', name=op.f('ck_hardship_aid_value_fen')),
    sa.ForeignKeyConstraint(['association_id', 'activity_id'], ['activities.association_id', 'activities.id'], name=op.f('fk_hardship_aid_association_id_activities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_hardship_aid_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hardship_aid'))
    )
    op.create_index(op.f('ix_hardship_aid_activity_id'), 'hardship_aid', ['activity_id'], unique=False)
    op.create_index(op.f('ix_hardship_aid_association_id'), 'hardship_aid', ['association_id'], unique=False)
    op.create_table('checklist_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('stored_file_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('association_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['association_id', 'item_id'], ['checklist_items.association_id', 'checklist_items.id'], name=op.f('fk_checklist_evidence_association_id_checklist_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id', 'stored_file_id'], ['stored_files.association_id', 'stored_files.id'], name=op.f('fk_checklist_evidence_association_id_stored_files'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_checklist_evidence_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_checklist_evidence_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_evidence')),
    sa.UniqueConstraint('association_id', 'item_id', 'version', name=op.f('uq_checklist_evidence_association_id_item_id_version'))
    )
    op.create_index(op.f('ix_checklist_evidence_association_id'), 'checklist_evidence', ['association_id'], unique=False)
    op.create_index(op.f('ix_checklist_evidence_item_id'), 'checklist_evidence', ['item_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in TENANT_TABLES:
            for statement in rls.tenant_table_sql(table):
                op.execute(statement)


def downgrade():
    op.drop_index(op.f('ix_checklist_evidence_item_id'), table_name='checklist_evidence')
    op.drop_index(op.f('ix_checklist_evidence_association_id'), table_name='checklist_evidence')
    op.drop_table('checklist_evidence')
    op.drop_index(op.f('ix_hardship_aid_association_id'), table_name='hardship_aid')
    op.drop_index(op.f('ix_hardship_aid_activity_id'), table_name='hardship_aid')
    op.drop_table('hardship_aid')
    op.drop_index(op.f('ix_checklist_items_checklist_id'), table_name='checklist_items')
    op.drop_index(op.f('ix_checklist_items_association_id'), table_name='checklist_items')
    op.drop_table('checklist_items')
    op.drop_index(op.f('ix_checklist_events_checklist_id'), table_name='checklist_events')
    op.drop_index(op.f('ix_checklist_events_association_id'), table_name='checklist_events')
    op.drop_table('checklist_events')
    op.drop_index(op.f('ix_activity_photos_association_id'), table_name='activity_photos')
    op.drop_index(op.f('ix_activity_photos_activity_id'), table_name='activity_photos')
    op.drop_table('activity_photos')
    op.drop_index(op.f('ix_stored_files_association_id'), table_name='stored_files')
    op.drop_table('stored_files')
    op.drop_index(op.f('ix_checklists_association_id'), table_name='checklists')
    op.drop_table('checklists')
    op.drop_index('ix_activities_association_id_held_on', table_name='activities')
    op.drop_index(op.f('ix_activities_association_id'), table_name='activities')
    op.drop_table('activities')
