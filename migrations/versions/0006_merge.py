"""merge the registers, onboarding and activities branches into one head

Revision ID: 0006_merge
Revises: 0003_onboarding, 0005_activity_members
"""

revision = "0006_merge"
down_revision = ("0003_onboarding", "0005_activity_members")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
